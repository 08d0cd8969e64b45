import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lib/aws/awsClients';
import { jobVersion } from '../../lib/aws/jobVersion';
import { threeBatchJob, untilFrozen } from '../helpers/frozenCoordinators';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';
import { until } from '../helpers/until';

/**
 * A user's start or stop that lands while a coordinator is about to rewrite the job's `control.json` (its own stop
 * after the last batch, its sleep mark, the end of a sleep), on the serverless runtime (LocalStack's S3, the real
 * coordinator and worker handlers in our Lambda host). Each coordinator below freezes itself as it is about to send
 * that write, after it read the record it writes over (see test/aws/fixtures/pausingCoordinator.ts). The user's
 * event wins: before, the coordinator wrote over it, and a start was silently cancelled, a stop silently undone.
 */

const suffix = Math.random().toString(36).slice(2, 8);
const bucket = `sluice-control-races-${suffix}`;
const pausing = new URL('fixtures/pausingCoordinator.ts', import.meta.url).pathname;
const pausedAt = (at: string, env: Record<string, string> = {}) => ({
  module: pausing,
  env: { SLUICE_TEST_PAUSE_AT: at, ...env },
});

/** A job reading an S3 prefix where nothing arrives: it sleeps after two empty batches. */
const sleepyJob = (name: string) => ({
  name,
  batchIntervalMs: 500,
  idleAfterBatches: 2,
  sources: { files: { type: 's3Prefix', bucket, prefix: `in-${name}/` } },
  outputs: [{ stream: 'files', type: 'print' }],
});

let serverless: ServerlessHost;
const invoke = (functionName: string, payload: unknown) => serverless.invoke(functionName, payload);
const control = async (name: string) => JSON.parse(await serverless.text(`jobs/${name}/control.json`));
const resume = (fn: string) => process.kill(serverless.host.pidOf(fn)!, 'SIGCONT');

beforeAll(async () => {
  serverless = await startServerlessHost({
    bucket,
    moreCoordinators: {
      finishing: pausedAt('control:stopped'),
      // Holds the job's lease for a minute, frozen as it claims the job: it sees no stop or start before its end.
      claiming: pausedAt('plan:1', { SLUICE_LEASE_TTL_MS: '60000' }),
      fallingAsleep: pausedAt('control:asleep'),
      waking: pausedAt('control:awake'),
      // A coordinator function as the user's stop reaches it: frozen as it records the stop, after reading the record.
      stopping: pausedAt('control:stopped'),
      // And as a start reaches it: frozen as it records the start, after reading the record.
      restarting: pausedAt('control:running'),
      markingSleep: pausedAt('control:asleep'),
      // Frozen mid run, as it sends batch 2's first task.
      midRun: pausedAt('batch:2000:1'),
    },
  });
}, 120_000);

afterAll(async () => {
  await serverless?.stop();
});

describe("a user's event that lands while a coordinator rewrites the job's control record", () => {
  it('a start sent as the coordinator stops the job after its last batch is recorded and driven', async () => {
    // given a coordinator about to record the job stopped after its last batch
    const name = `finished-${suffix}`;
    const first = threeBatchJob(name, `first-${suffix}`);
    const finishing = invoke('finishing', { action: 'start', job: first, batches: 3 });
    await untilFrozen(serverless, 'finishing', 60_000);
    // when the job is started again with another document and more batches, on a coordinator that takes the job
    const second = threeBatchJob(name, `first-${suffix}`, '[$, 2]');
    const started = invoke('claiming', { action: 'start', job: second, batches: 5 });
    await untilFrozen(serverless, 'claiming', 60_000);
    // and the first coordinator goes on to write its stop
    resume('finishing');
    const finished = await finishing;
    // then the start stands (before, the stop was written over it: the new start read stopped, and a coordinator
    // driving it stopped at its next lease renewal)
    expect(await control(name)).toMatchObject({
      state: 'running',
      maxBatches: 5,
      documentVersion: jobVersion(second),
    });
    expect(finished).toMatchObject({ ok: true, lastBatch: 3000 });
    expect(finished.note).toMatch(/started again meanwhile/);
    // and it is driven to its last batch
    resume('claiming');
    expect(await started).toMatchObject({ ok: true, lastBatch: 5000 });
    expect(await invoke('coordinator', { action: 'status', job: name })).toMatchObject({
      state: 'stopped',
      lastCompletedBatch: 5000,
    });
  }, 120_000);

  it('a stop sent as the coordinator lets the job sleep stays', async () => {
    // given a coordinator about to record the job asleep after its empty batches
    const name = `asleep-${suffix}`;
    const sleeping = invoke('fallingAsleep', { action: 'start', job: sleepyJob(name) });
    await untilFrozen(serverless, 'fallingAsleep', 60_000);
    // when the job is stopped
    expect(await invoke('coordinator', { action: 'stop', job: name })).toMatchObject({ ok: true });
    // and the coordinator goes on to write its sleep mark
    resume('fallingAsleep');
    const answer = await sleeping;
    // then the job stays stopped (before, the mark was written over the stop: the job read running and asleep, and
    // the tick woke it when input came)
    const record = await control(name);
    expect(record.state).toBe('stopped');
    expect(record.asleep).toBeUndefined();
    expect(answer).toMatchObject({ ok: true, note: 'the job was stopped meanwhile' });
  }, 120_000);

  it('a stop sent as a start wakes the job stays, and no batch runs after it', async () => {
    // given a job asleep, and a start waking it on a coordinator about to record the end of its sleep
    const name = `waking-${suffix}`;
    expect(await invoke('coordinator', { action: 'start', job: sleepyJob(name) })).toMatchObject({
      state: 'asleep',
    });
    const asleepAfter = (await control(name)).asleep.lastBatch as number;
    const waking = invoke('waking', {
      action: 'start',
      job: sleepyJob(name),
      batches: asleepAfter / 500 + 4,
    });
    await untilFrozen(serverless, 'waking', 60_000);
    // when the job is stopped
    expect(await invoke('coordinator', { action: 'stop', job: name })).toMatchObject({ ok: true });
    // and the coordinator goes on to write the end of the sleep
    resume('waking');
    // then it drives no batch, and the job stays stopped (before, its write of the job as running undid the stop,
    // and it drove the job's batches)
    const answer = await waking;
    expect(await invoke('coordinator', { action: 'status', job: name })).toMatchObject({
      state: 'stopped',
      lastCompletedBatch: asleepAfter,
    });
    expect(await control(name)).toMatchObject({ state: 'stopped' });
    expect(answer).toMatchObject({ ok: true, state: 'stopped' });
  }, 120_000);

  it('a stop sent as a tick wakes the job keeps the batches it slept through', async () => {
    // given a job asleep, and a stop about to be recorded after it read the record with the sleep mark
    const name = `stopped-waking-${suffix}`;
    expect(await invoke('coordinator', { action: 'start', job: sleepyJob(name) })).toMatchObject({
      state: 'asleep',
    });
    const stopped = invoke('stopping', { action: 'stop', job: name });
    await untilFrozen(serverless, 'stopping', 60_000);
    // when input arrives and a tick wakes the job, recording the batches it slept through
    await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: `in-${name}/a.txt`, Body: 'a\n' }));
    const ticked = invoke('coordinator', { action: 'tick', job: name });
    await until('the job to wake', async () => (await control(name)).emptyThrough !== undefined, 60_000);
    const { emptyThrough } = await control(name);
    // and the stop goes on to be recorded
    resume('stopping');
    expect(await stopped).toMatchObject({ ok: true });
    await ticked;
    // then the job is stopped and still knows the batches it slept through, which a start runs again as empty
    // batches (before, the stop wrote the record it had read over the wake, and they read input once started)
    expect(await control(name)).toMatchObject({ state: 'stopped', emptyThrough });
  }, 120_000);

  it('a start sent as the coordinator lets the job sleep keeps the sleep mark, and wakes the job', async () => {
    // given a coordinator about to record the job asleep, and a start about to be recorded after it read the record
    // without the mark
    const name = `restarted-${suffix}`;
    const sleeping = invoke('markingSleep', { action: 'start', job: sleepyJob(name) });
    await untilFrozen(serverless, 'markingSleep', 60_000);
    const started = invoke('restarting', { action: 'start', job: sleepyJob(name) });
    await untilFrozen(serverless, 'restarting', 60_000);
    // when the sleep mark is written, then the start
    resume('markingSleep');
    await sleeping;
    const { asleep } = await control(name);
    resume('restarting');
    await started;
    // then the start kept the mark and woke the job from it: the batches slept through are recorded (before, the
    // start wrote its record over the mark, and the job ran on as one stopped meanwhile)
    const record = await control(name);
    expect(record).toMatchObject({ state: 'running', emptyThrough: expect.any(Number) });
    expect(record.emptyThrough).toBeGreaterThanOrEqual(asleep.lastBatch);
  }, 120_000);

  it('a start sent while the job runs, raising its batches, drives the job to its new last batch', async () => {
    // given a job started for 3 batches, its coordinator in the middle of batch 2
    const name = `raised-${suffix}`;
    const job = threeBatchJob(name, `raised-${suffix}`);
    const running = invoke('midRun', { action: 'start', job, batches: 3 });
    await untilFrozen(serverless, 'midRun', 60_000);
    // when the same job is started again for 5 batches (recorded: the running coordinator holds the lease)
    expect(await invoke('coordinator', { action: 'start', job, batches: 5 })).toMatchObject({ ok: true });
    expect(await control(name)).toMatchObject({ state: 'running', maxBatches: 5 });
    // and the coordinator goes on past its third batch
    resume('midRun');
    expect(await running).toMatchObject({ ok: true, lastBatch: 3000 });
    // then the job is still running, and the next tick (the schedule's, or the hand-over's) drives it to batch 5, as
    // the start asked (before, the coordinator stopped it after batch 3, the limit it read as it began, writing its
    // stop over the start it had read)
    expect(await control(name)).toMatchObject({ state: 'running', maxBatches: 5 });
    expect(await invoke('coordinator', { action: 'tick', job: name })).toMatchObject({
      driven: [{ ok: true, lastBatch: 5000 }],
    });
    expect(await invoke('coordinator', { action: 'status', job: name })).toMatchObject({
      state: 'stopped',
      lastCompletedBatch: 5000,
    });
  }, 120_000);
});
