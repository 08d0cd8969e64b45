import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { parseCoordinatorEvent } from '../../lib/aws/coordinatorEvents';
import { buildJob } from '../../lib/job/buildJob';
import jobSchema from '../../lib/job/job.schema.json' with { type: 'json' };
import { validateJob } from '../../lib/job/validateJob';

/** The ready-to-send events for a deployed stack, in `events/aws/`. */
const dir = new URL('../../events/aws/', import.meta.url).pathname;
const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
const events = await Promise.all(
  files.map(async (file) => ({
    file,
    event: JSON.parse(await readFile(join(dir, file), 'utf8')) as Record<string, any>,
  })),
);
const starts = events.filter((e) => e.event.action === 'start');
const local = async (file: string) =>
  JSON.parse(await readFile(new URL(`../../events/${file}`, import.meta.url), 'utf8')) as Record<string, any>;

describe('the events in events/aws/', () => {
  it('start the three seed jobs, ask for status, stop and reset, and hold the tune example', () => {
    expect(files).toEqual([
      'kinesis-hashtags.json',
      'reset.json',
      'start-hashtag-counts.json',
      'start-session-counts.json',
      'start-spam-filter.json',
      'status.json',
      'stop.json',
    ]);
  });

  it.each(events)('$file is an event the coordinator and the control function accept', ({ event }) => {
    expect(() => parseCoordinatorEvent(event)).not.toThrow();
  });

  it.each(starts)(
    '$file holds a job that matches the job schema, validates, and builds for AWS',
    async ({ event }) => {
      const validate = new Ajv({ allErrors: true, allowUnionTypes: true })
        .addKeyword('enumDescriptions')
        .compile(jobSchema);
      expect(validate(event.job), JSON.stringify(validate.errors)).toBe(true);
      expect(() => validateJob(event.job)).not.toThrow();
      const ssc = await buildJob(event.job, { baseDir: '/', staticBase: 's3://bucket/static/' });
      expect(ssc.graph.outputs.length).toBeGreaterThan(0);
      // it reads the deployment's own stream, and writes its results to the bucket as well as the log
      expect(Object.values(event.job.sources)).toEqual([{ type: 'kinesis' }]);
      expect(event.job.outputs.map((o: { type: string }) => o.type)).toEqual(['print', 'jsonl']);
    },
  );

  it('hold the job of the sluice tune --aws example, a bare job document that starts as it is', async () => {
    // given kinesis-hashtags.json, a job document without a start event around it
    const doc = events.find((e) => e.file === 'kinesis-hashtags.json')!.event;
    // then it matches the schema, validates and builds for AWS, reading the deployment's stream
    const validate = new Ajv({ allErrors: true, allowUnionTypes: true })
      .addKeyword('enumDescriptions')
      .compile(jobSchema);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc.$schema).toBe('../../lib/job/job.schema.json');
    expect(parseCoordinatorEvent(doc)).toMatchObject({ action: 'start', job: { name: 'kinesis-hashtags' } });
    const ssc = await buildJob(doc, { baseDir: '/', staticBase: 's3://bucket/static/' });
    expect(ssc.graph.outputs.length).toBeGreaterThan(0);
    expect(Object.values(doc.sources)).toEqual([{ type: 'kinesis' }]);
  });

  it('computes what the local jobs compute, on tweets parsed from the stream', async () => {
    const byName = Object.fromEntries(starts.map((s) => [s.event.job.name, s.event.job]));
    const hashtags = await local('hashtag-counts.json');
    expect(byName['hashtag-counts'].streams.counts).toEqual(hashtags.streams.counts);
    const sessions = await local('session-counts.json');
    expect(byName['session-counts'].streams.tweetsPerUser).toEqual(sessions.streams.tweetsPerUser);
    const spam = await local('spam-filter.json');
    expect(byName['spam-filter'].datasets).toEqual(spam.datasets);
    expect(byName['spam-filter'].streams.counts).toEqual(spam.streams.counts);
    expect(byName['spam-filter'].streams.clean.ops.slice(1)).toEqual(spam.streams.clean.ops);
  });

  it('ask for the status of the main job and stop it', () => {
    const byFile = Object.fromEntries(events.map((e) => [e.file, e.event]));
    expect(parseCoordinatorEvent(byFile['status.json'])).toEqual({
      action: 'status',
      job: 'hashtag-counts',
      last: 10,
    });
    expect(parseCoordinatorEvent(byFile['stop.json'])).toEqual({ action: 'stop', job: 'hashtag-counts' });
    expect(parseCoordinatorEvent(byFile['reset.json'])).toEqual({ action: 'reset', job: 'hashtag-counts' });
  });

  it('refuses a reset without a job name and a start whose fresh flag is not a boolean, naming the field', () => {
    expect(() => parseCoordinatorEvent({ action: 'reset' })).toThrow(/job: must be the name of a job/);
    // (a problem of the event itself is said to be one: the job document is checked, as a job, only on start)
    expect(() => parseCoordinatorEvent({ action: 'reset' })).toThrow(/^invalid event:\n/);
    expect(() => parseCoordinatorEvent({ action: 'start', job: { name: 'x' }, fresh: 'yes' })).toThrow(
      /fresh: must be true/,
    );
    expect(parseCoordinatorEvent({ action: 'start', job: { name: 'x' }, fresh: true })).toEqual({
      action: 'start',
      job: { name: 'x' },
      fresh: true,
    });
  });

  it("bounds a start's batches and refuses a status's null last, naming the field", () => {
    // given the most batches a run may be limited to, and one more
    const start = (batches: unknown) =>
      parseCoordinatorEvent({ action: 'start', job: { name: 'x' }, batches });
    expect(start(1_000_000_000)).toMatchObject({ batches: 1_000_000_000 });
    // then one more is refused at batches with the range (before, any count was taken)
    for (const batches of [1_000_000_001, 1e300]) {
      expect(() => start(batches)).toThrow(
        /^invalid event:\n {2}batches: must be a whole number from 1 to 1000000000 \(the batch to stop after; leave it out to run until stopped\) \(got (1e\+300|1000000001)\)$/,
      );
    }
    // and a status's last of null is refused at last (before, it read as the default 10, unsaid), as its absence is not
    expect(() => parseCoordinatorEvent({ action: 'status', job: 'x', last: null })).toThrow(
      /^invalid event:\n {2}last: must be a whole number from 1 to 1000 \(leave it out for the last 10 batches\) \(got null\)$/,
    );
    expect(parseCoordinatorEvent({ action: 'status', job: 'x' })).toEqual({
      action: 'status',
      job: 'x',
      last: 10,
    });
  });

  it('says a start field sent with a bare job document is a problem of the event, not of the job', () => {
    // given a job document sent as the event, with the start event's batches and fresh beside its fields
    const doc = { name: 'x', batchIntervalMs: 1000, sources: {}, outputs: [] };
    // then the event is refused at those fields, with the event to send (before: "invalid job: batches: is not a
    // field", which sent the user to the job's schema)
    expect(() => parseCoordinatorEvent({ ...doc, batches: 3, fresh: true })).toThrow(
      /^invalid event:\n {2}batches: is a field of the start event, not of the job document: send \{"action": "start", "job": \{…the job…\}, "batches": …\} \(got 3\)\n {2}fresh: is a field of the start event/,
    );
    // and the job document alone is still a start
    expect(parseCoordinatorEvent(doc)).toEqual({ action: 'start', job: doc });
  });

  it('refuses a field that the action does not have, naming it, instead of dropping it', () => {
    // a misspelt batches: the job would run on without a bound
    expect(() => parseCoordinatorEvent({ action: 'start', job: { name: 'x' }, batch: 5 })).toThrow(
      /^invalid event:\n {2}batch: is not a field of a start event; did you mean "batches"\? \(expected action, job, batches, fresh\) \(got 5\)$/,
    );
    expect(() => parseCoordinatorEvent({ action: 'status', job: 'x', batches: 3 })).toThrow(
      /batches: is not a field of a status event; expected action, job, last/,
    );
    expect(() => parseCoordinatorEvent({ action: 'stop', job: 'x', fresh: true })).toThrow(
      /fresh: is not a field of a stop event/,
    );
    // a start with its job's fields beside the action is told where the job goes first
    expect(() =>
      parseCoordinatorEvent({ action: 'start', name: 'x', batchIntervalMs: 1000, sources: {} }),
    ).toThrow(/^invalid event:\n {2}job: start needs the job document in "job"$/);
  });

  it('takes an EventBridge scheduled event as the tick, and refuses one that carries an action', () => {
    // given the scheduled event EventBridge sends
    const scheduled = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };
    // then it is the tick
    expect(parseCoordinatorEvent(scheduled)).toEqual({ action: 'tick' });
    // and one sent by hand with an action is refused at the action, not answered as a tick (a lost reset)
    expect(() => parseCoordinatorEvent({ ...scheduled, action: 'reset', job: 'x' })).toThrow(
      /action: a scheduled event \(source aws.events\) carries no action or job/,
    );
  });
});
