import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KinesisProducer } from '../../lib/aws/KinesisProducer';
import { runBatches } from '../../lib/local/LocalRuntime';
import { BATCHES, tweetLines } from '../fixtures/jobs/moodJob';
import { putShardBatches } from '../helpers/kinesisFeed';
import { Deployment, until } from './deployment';
import { type Ministack, startMinistack } from './ministack';
import {
  canonical,
  hashtagCounts,
  spamUsers,
  summed,
  type Tweet,
  tweets,
  tweetsPerUser,
} from './tweetExpectations';

/**
 * The whole stack, deployed as a user deploys it and run as a user runs it, on ministack (an emulator that runs
 * Node.js Lambdas without Docker): `cdklocal bootstrap` and `deploy` of the real app, the ready-to-send files of
 * `events/aws/` sent to the deployed control function, tweets put into the deployed stream, and the outputs read
 * from the deployed bucket and compared with counts computed directly from the tweets. Then `cdklocal destroy`.
 */

const events = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../events/aws/${name}.json`, import.meta.url), 'utf8')) as Record<
    string,
    any
  >;
const input = tweets(600, 11);
const spam = spamUsers();
/** The TypeScript job's records, `[shard][batch]`, put into the stream first: the later jobs read them too. */
const moodLines = tweetLines();
const everything: Tweet[] = [...moodLines.flat(2).map((line) => JSON.parse(line) as Tweet), ...input];
const jobModules = new URL('../fixtures/jobs/', import.meta.url).pathname;
const MALFORMED = '{"user": "broken", not json';

let ministack: Ministack;
let deployment: Deployment;

beforeAll(async () => {
  ministack = await startMinistack();
  deployment = new Deployment(
    ministack.endpoint,
    `SluiceIt${process.pid.toString(36)}`,
    join(tmpdir(), `sluice-deploy-${process.pid}`),
    { 'sluice:retainData': 'false', 'sluice:workerConcurrency': '8', 'sluice:jobModules': jobModules },
  );
  await deployment.deploy();
}, 600_000);

afterAll(async () => {
  await ministack?.stop();
});

describe('the CDK stack deployed on ministack', () => {
  it('deploys the functions with their configuration and names the resources in its outputs', async () => {
    const { ControlFunctionName, CoordinatorFunctionName, WorkerFunctionName, BucketName, StreamName } =
      deployment.outputs;
    expect([
      ControlFunctionName,
      CoordinatorFunctionName,
      WorkerFunctionName,
      BucketName,
      StreamName,
    ]).not.toContain(undefined);
    const coordinator = await deployment.lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: CoordinatorFunctionName }),
    );
    expect(coordinator.Timeout).toBe(300);
    expect(coordinator.Environment?.Variables).toMatchObject({
      SLUICE_BUCKET: BucketName,
      SLUICE_STREAM: StreamName,
      SLUICE_WORKER_FUNCTION: WorkerFunctionName,
      SLUICE_TASK_CONCURRENCY: '8',
    });
  });

  it('runs a TypeScript job module of sluice:jobModules with its closures, and matches local mode batch for batch', async () => {
    const [ControlFunctionName, BucketName, StreamName] = [
      'ControlFunctionName',
      'BucketName',
      'StreamName',
    ].map((name) => deployment.output(name)) as [string, string, string];
    // given the fixture's spam list under static/, and its tweets in the deployed stream, batch by batch per shard
    await deployment.s3.send(
      new PutObjectCommand({
        Bucket: BucketName,
        Key: 'static/spam.txt',
        Body: readFileSync(join(jobModules, 'spam.txt')),
      }),
    );
    const shards =
      (await deployment.kinesis.send(new ListShardsCommand({ StreamName: StreamName }))).Shards ?? [];
    expect(shards).toHaveLength(2);
    await putShardBatches(deployment.kinesis, StreamName, moodLines);
    // when a module that was not deployed is sent, then the control function refuses it at its JSON path
    const refused = await deployment.invoke(ControlFunctionName, {
      action: 'start',
      job: { name: 'moods', module: 'moodJobs' },
    });
    expect(refused).toMatchObject({ ok: false, issues: [{ path: 'module' }] });
    expect(refused.issues[0].message).toMatch(/deployed modules: moodFunctions, moodJob/);
    // when the deployed module is started by name, for the batches the stream holds
    const started = await deployment.invoke(ControlFunctionName, {
      action: 'start',
      job: { name: 'moods', module: 'moodJob' },
      batches: BATCHES,
    });
    expect(started).toMatchObject({ ok: true, state: 'running' });
    await until(
      'the mood job’s last batch',
      async () => {
        const s = await deployment.invoke(ControlFunctionName, { action: 'status', job: 'moods' });
        if (s.state === 'stopped' && s.lastCompletedBatch !== BATCHES * 1000) {
          throw new Error(`the job stopped early: ${JSON.stringify(s)}`);
        }
        return s.state === 'stopped' && s.lastCompletedBatch === BATCHES * 1000 ? true : undefined;
      },
      300_000,
    );
    // then its moods (the user's updateStateByKey) and its foreachRDD reports equal local mode's, batch by batch
    const reports = await mkdtemp(join(tmpdir(), 'sluice-moods-'));
    try {
      process.env.MOODS_REPORTS = reports;
      const local = await runBatches(
        { kind: 'module', path: join(jobModules, 'moodJob.ts'), exportName: 'local' },
        BATCHES,
        { workers: 0 },
      );
      expect(local.error).toBeUndefined();
      const moods = await deployment.jsonlBatches('moods/state');
      expect(moods.map((b) => b.batchTime)).toEqual(local.recordsOf('moods').map((_, k) => (k + 1) * 1000));
      const sorted = (records: readonly unknown[]) => records.map((r) => JSON.stringify(r)).sort();
      for (const [k, expected] of local.recordsOf('moods').entries()) {
        expect(sorted(moods[k]!.records)).toEqual(sorted(expected));
        const report = await deployment.text(`outputs/moods/report/${(k + 1) * 1000}.json`);
        expect(JSON.parse(report)).toEqual(
          JSON.parse(await readFile(join(reports, `${(k + 1) * 1000}.json`), 'utf8')),
        );
      }
    } finally {
      delete process.env.MOODS_REPORTS;
      await rm(reports, { recursive: true, force: true });
    }
  }, 600_000);

  it('runs the events/aws jobs on tweets put into the deployed stream, and answers status and stop', async () => {
    const [ControlFunctionName, BucketName, StreamName] = [
      'ControlFunctionName',
      'BucketName',
      'StreamName',
    ].map((name) => deployment.output(name)) as [string, string, string];
    // given the spam list where the spam filter looks for it, and the three jobs started from their files
    await deployment.s3.send(
      new PutObjectCommand({
        Bucket: BucketName,
        Key: 'static/spam.txt',
        Body: readFileSync(new URL('../../events/spam.txt', import.meta.url)),
      }),
    );
    for (const file of ['start-hashtag-counts', 'start-session-counts', 'start-spam-filter']) {
      const answer = await deployment.invoke(ControlFunctionName, events(file));
      expect(answer, file).toMatchObject({ ok: true, state: 'running' });
    }
    // when 600 tweets and one malformed line go into the stream, in PutRecords calls of many records
    const producer = new KinesisProducer({ client: deployment.kinesis, streamName: StreamName });
    await producer.put([...input.map((t) => JSON.stringify(t)), MALFORMED]);
    expect(producer.sent).toBe(601);
    expect(producer.calls).toBeLessThan(10);

    // then the minute's hashtag counts reach the counts of all the tweets
    // (the stream also holds the TypeScript job's tweets, put first: these jobs read it from the start)
    const expectedTags = hashtagCounts(everything);
    await until(
      'the sliding hashtag count of every tweet',
      async () => {
        const batches = await deployment.jsonlBatches('hashtag-counts/counts');
        return batches.some((b) => sameCounts(b.records, expectedTags)) ? true : undefined;
      },
      240_000,
    );
    // and each user's running count reaches their number of tweets
    const expectedUsers = tweetsPerUser(everything);
    await until(
      'every user’s running count',
      async () => {
        const batches = await deployment.jsonlBatches('session-counts/users');
        return batches.some((b) => sameCounts(b.records, expectedUsers)) ? true : undefined;
      },
      240_000,
    );
    // and the spam filter's per-batch counts add up to the counts of the tweets by unlisted users, exactly once
    const expectedClean = hashtagCounts(everything.filter((t) => !spam.has(t.user)));
    expect(expectedClean).not.toEqual(expectedTags);
    await until(
      'the spam filter’s counts',
      async () => {
        const total = summed(await deployment.jsonlBatches('spam-filter/counts'));
        return JSON.stringify(total) === JSON.stringify(expectedClean) ? true : undefined;
      },
      240_000,
    );
    // and the malformed line is a dead letter of each job, with its reason
    for (const job of ['hashtag-counts', 'session-counts', 'spam-filter']) {
      const letters = await until(
        `${job}'s dead letter`,
        async () => {
          const keys = await deployment.keys(`jobs/${job}/store/dead-letter/`);
          return keys.length > 0 ? keys : undefined;
        },
        60_000,
      );
      const lines = (await Promise.all(letters.map((k) => deployment.text(k)))).join('').trim().split('\n');
      const parsed = lines.map((l) => JSON.parse(l) as { record: unknown; error: string });
      expect(parsed.map((l) => l.record)).toEqual([MALFORMED]);
      expect(parsed[0]!.error).toMatch(/JSON/);
    }

    // when status.json is sent, then the main job answers with its batches' delays
    // (the running coordinator refreshes the metrics that status reads every 5 s)
    const status = await until(
      'status with batch metrics',
      async () => {
        const answer = await deployment.invoke(ControlFunctionName, events('status'));
        return answer.batches?.length > 0 ? answer : undefined;
      },
      60_000,
    );
    expect(status).toMatchObject({ ok: true, job: 'hashtag-counts', state: 'running' });
    expect(typeof status.batches[0].totalDelayMs).toBe('number');
    // and the coordinator itself accepts the same file (on AWS only while it is idle: its concurrency is 1)
    const fromCoordinator = await deployment.invoke(
      deployment.output('CoordinatorFunctionName'),
      events('status'),
    );
    expect(fromCoordinator).toMatchObject({ ok: true, job: 'hashtag-counts', state: 'running' });

    // when stop.json (and the same event for the other two jobs) is sent, then every job stops: `stopping` while
    // its coordinator still holds the lease and finishes its batch, `stopped` once it let go
    const stop = events('stop');
    for (const job of ['hashtag-counts', 'session-counts', 'spam-filter']) {
      const answer = await deployment.invoke(ControlFunctionName, { ...stop, job });
      expect(answer).toMatchObject({ ok: true });
      expect(['stopping', 'stopped']).toContain(answer.state);
    }
    // and once each job's coordinator has let go of its lease, nothing drives it any more, and status says so
    for (const job of ['hashtag-counts', 'session-counts', 'spam-filter']) {
      await until(
        `${job}'s coordinator to release its lease`,
        async () =>
          (JSON.parse(await deployment.text(`jobs/${job}/lease.json`)) as { owner: string }).owner === ''
            ? true
            : undefined,
        120_000,
      );
      expect(await deployment.invoke(ControlFunctionName, { ...events('status'), job })).toMatchObject({
        ok: true,
        state: 'stopped',
      });
    }
    // then every batch's output was written once, and the spam filter's counts still add up exactly
    const after = await deployment.jsonlBatches('spam-filter/counts');
    expect(new Set(after.map((b) => b.batchTime)).size).toBe(after.length);
    expect(summed(after)).toEqual(expectedClean);
  }, 900_000);

  it('is destroyed', async () => {
    await deployment.destroy();
  }, 300_000);
});

/** Whether a batch's `[key, count]` records equal the expected ones, in any order. */
function sameCounts(records: unknown[], expected: [string, number][]): boolean {
  return JSON.stringify(canonical(records as [string, number][])) === JSON.stringify(expected);
}
