import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
} from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kinesisClient, s3Client } from '../../lib/aws/awsClients';
import { runBatches } from '../../lib/local/LocalRuntime';
import { GeneratorSource } from '../../lib/source/GeneratorSource';
import { putRoundRobin } from '../helpers/kinesisFeed';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';
import { until } from '../helpers/until';

/**
 * Idle costs nothing, against LocalStack with the real handlers in our Lambda host: a job whose stream has no new
 * records for `idleAfterBatches` batches stops its coordinator and invokes nothing (counted by the host), a tick
 * that finds no record leaves it asleep without a worker, and a tick after records arrive wakes it. Waking runs
 * every batch that fell due while it slept, as empty batches, so that its window and state outputs equal, batch
 * for batch, an always-on run of the same batches (local mode on a queue of each batch's records).
 */

const root = new URL('../..', import.meta.url).pathname;
const suffix = Math.random().toString(36).slice(2, 8);
const bucket = `sluice-idle-${suffix}`;
const streamName = `idle-${suffix}`;
const job = `idle-${suffix}`;
const INTERVAL_MS = 500;
const IDLE_AFTER = 4;

const generator = new GeneratorSource({ kind: 'tweets', ratePerSec: 100, seed: 7 });
const tweets = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => JSON.stringify(generator.recordAt(from + i)));

function jobDocument(source: Record<string, unknown>, outputs: unknown[]) {
  return {
    name: job,
    batchIntervalMs: INTERVAL_MS,
    checkpointIntervalMs: 2000,
    idleAfterBatches: IDLE_AFTER,
    sources: { tweets: source },
    streams: {
      raw: { from: 'tweets', ops: [{ op: 'map', fn: 'parseJson' }] },
      tags: { from: 'raw', ops: [{ op: 'flatMap', fn: 'hashtags' }] },
      window: { from: 'tags', ops: [{ op: 'countByValueAndWindow', windowMs: 2000, slideMs: 500 }] },
      users: {
        from: 'raw',
        ops: [
          { op: 'map', expr: '[user, 1]' },
          { op: 'updateStateByKey', fn: 'countState' },
        ],
      },
    },
    outputs,
  };
}

let serverless: ServerlessHost;

async function invoke(name: string, payload: unknown, type: 'RequestResponse' | 'Event' = 'RequestResponse') {
  if (type === 'Event') return serverless.invokeEvent(name, payload);
  return serverless.invoke(name, payload);
}

async function s3Text(key: string): Promise<string | undefined> {
  try {
    const out = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await out.Body!.transformToString();
  } catch (error) {
    if ((error as Error).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

async function s3Keys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3Client().send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

/** The job's control record, read from the bucket (a status event would be an invocation itself). */
async function control(): Promise<Record<string, any>> {
  return JSON.parse((await s3Text(`jobs/${job}/control.json`)) ?? '{}');
}

const put = (lines: string[]) => putRoundRobin(kinesisClient(), streamName, lines);

const sortRecords = (records: unknown[]) => records.map((r) => JSON.stringify(r)).sort();

beforeAll(async () => {
  await kinesisClient().send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 1 }));
  await until(
    'the stream to be active',
    async () =>
      (await kinesisClient().send(new DescribeStreamSummaryCommand({ StreamName: streamName })))
        .StreamDescriptionSummary?.StreamStatus === 'ACTIVE',
    30_000,
  );
  serverless = await startServerlessHost({
    bucket,
    coordinatorTimeoutMs: 120_000,
    coordinatorEnv: { SLUICE_COORDINATOR_FUNCTION: 'coordinator', SLUICE_TASK_CONCURRENCY: '4' },
  });
}, 180_000);

afterAll(async () => {
  await serverless?.stop();
  // LocalStack's account holds at most 100 shards: leave none behind.
  await kinesisClient()
    .send(new DeleteStreamCommand({ StreamName: streamName }))
    .catch(() => {});
});

describe('a job without input on AWS', () => {
  it('sleeps without invoking, wakes on records, and runs the batches it slept through as empty batches', async () => {
    // given a job on a stream with some records
    const names = ['raw', 'window', 'users'];
    const outputs = names.map((stream) => ({ stream, type: 'jsonl', path: `${job}/${stream}` }));
    await put(tweets(0, 40));
    await invoke(
      'coordinator',
      {
        action: 'start',
        job: jobDocument({ type: 'kinesis', streamName }, outputs),
      },
      'Event',
    );

    // when the stream stays quiet, the job falls asleep after IDLE_AFTER empty batches
    await until('the job to sleep', async () => (await control()).asleep !== undefined, 90_000);
    const firstSleep = (await control()).asleep as { lastBatch: number; dueAtMs: number };
    // (the coordinator's own invocation may still be returning; its count is taken once it has)
    await new Promise((r) => setTimeout(r, 1000));
    const coordinatorCalls = serverless.host.invocations('coordinator');
    const workerCalls = serverless.host.invocations('worker');

    // then nothing runs while it sleeps: no coordinator, no worker, for many batch intervals
    await new Promise((r) => setTimeout(r, 8 * INTERVAL_MS));
    expect(serverless.host.invocations('coordinator')).toBe(coordinatorCalls);
    expect(serverless.host.invocations('worker')).toBe(workerCalls);

    // and a tick that finds no new record leaves it asleep, with no worker and no batch
    const quietTick = await invoke('coordinator', { action: 'tick' });
    expect(quietTick!.driven).toEqual([expect.objectContaining({ job, state: 'asleep' })]);
    expect(serverless.host.invocations('worker')).toBe(workerCalls);
    expect((await control()).asleep).toEqual(firstSleep);

    // when records arrive and the tick comes
    await put(tweets(1000, 30));
    const wokenAt = Date.now();
    await invoke('coordinator', { action: 'tick' }, 'Event');
    await until(
      'the job to wake and sleep again',
      async () => ((await control()).asleep?.lastBatch ?? 0) > firstSleep.lastBatch,
      90_000,
    );
    const secondSleep = (await control()).asleep as { lastBatch: number };

    // then every batch ran once, with no gap: the batches slept through ran too
    const batchTimes = (await s3Keys(`outputs/${job}/raw/`))
      .map((k) => Number(k.split('/').at(-1)!.replace('.json', '')))
      .sort((a, b) => a - b);
    expect(batchTimes).toEqual(
      Array.from({ length: secondSleep.lastBatch / INTERVAL_MS }, (_, k) => (k + 1) * INTERVAL_MS),
    );
    const batch = async (stream: string, time: number) =>
      JSON.parse((await s3Text(`outputs/${job}/${stream}/${time}.json`))!) as { records: unknown[] };
    // and the records that arrived while asleep landed after the batches that fell due while it slept
    const sleptThrough =
      firstSleep.lastBatch + Math.floor((wokenAt - firstSleep.dueAtMs) / INTERVAL_MS) * INTERVAL_MS;
    const raw = await Promise.all(batchTimes.map((t) => batch('raw', t)));
    const landedAt = batchTimes.filter((_, k) => raw[k]!.records.length > 0);
    expect(landedAt[0]).toBeLessThanOrEqual(firstSleep.lastBatch);
    const woken = landedAt.filter((t) => t > firstSleep.lastBatch);
    expect(woken.length).toBeGreaterThan(0);
    expect(woken[0]).toBeGreaterThan(sleptThrough);
    expect(raw.reduce((n, b) => n + b.records.length, 0)).toBe(70);

    // and the window and state outputs equal an always-on run of the same batches, empty ones included
    const queue = {
      type: 'queue',
      partitions: 2,
      batches: raw.map((b) => b.records.map((r) => JSON.stringify(r))),
    };
    const local = await runBatches(
      {
        kind: 'document',
        document: jobDocument(
          queue,
          names.map((stream) => ({ stream, type: 'collectBatches', name: stream })),
        ),
        baseDir: root,
      },
      batchTimes.length,
      { workers: 0 },
    );
    expect(local.error).toBeUndefined();
    for (const name of ['window', 'users']) {
      const expected = local.recordsOf(name);
      for (const [k, time] of batchTimes.entries()) {
        expect(sortRecords((await batch(name, time)).records), `${name} at ${time}`).toEqual(
          sortRecords(expected[k]!),
        );
      }
    }
    // and the status event carries each batch's cost report and their sum
    const status = (await invoke('coordinator', { action: 'status', job, last: 1000 }))!;
    expect(status).toMatchObject({ state: 'running', asleep: true });
    expect(status.cost.batches).toBeGreaterThan(0);
    expect(status.cost.dollars).toBeGreaterThan(0);
    for (const b of status.batches) {
      expect(b.cost.dollars).toBeGreaterThan(0);
      expect(b.cost.coordinatorGbSeconds).toBeGreaterThan(0);
      expect(b.cost.s3WriteRequests).toBeGreaterThan(0);
    }
    expect(status.batches.some((b: any) => b.cost.workerInvocations > 0 && b.cost.workerGbSeconds > 0)).toBe(
      true,
    );
    expect(status.batches.some((b: any) => b.cost.s3ReadRequests > 0)).toBe(true);

    // and the window emptied while the job slept: its last batch before waking counts nothing
    expect((await batch('window', woken[0]! - INTERVAL_MS)).records).toEqual([]);
  }, 300_000);
});
