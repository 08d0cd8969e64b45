import { CreateStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kinesisClient, s3Client } from '../../lib/aws/awsClients';
import { LambdaHost } from '../../lib/devhost/LambdaHost';
import { formatRecord } from '../../lib/executor/formatRecord';
import { runBatches } from '../../lib/local/LocalRuntime';
import { GeneratorSource } from '../../lib/source/GeneratorSource';
import { freePort } from '../helpers/freePort';
import { processState } from '../helpers/frozenCoordinators';
import { hostLambdaClient } from '../helpers/hostLambdaClient';
import { putShardBatches } from '../helpers/kinesisFeed';
import { until } from '../helpers/until';

/** How often the tests here poll what they wait for. */
const POLL_MS = 200;

/**
 * Chaos on the serverless runtime, against LocalStack with the real handlers in our Lambda host: a coordinator
 * that is slow rather than dead. The first coordinator (a process of the host running the real handler) freezes
 * itself with SIGSTOP at a named place (test/aws/fixtures/pausingCoordinator.ts); its lease expires and the tick's
 * coordinator takes the job over. Then the first one is resumed (SIGCONT) and runs on, or its invocation times out
 * and the host kills it. Whatever it does after the take-over must change nothing: each batch completes exactly
 * once, the outputs equal local mode's on the same input batch for batch, and the records counted are the records
 * put in. Removing the fencing (FencedStore's conditional checkpoint and write-once input blocks) fails the
 * first case: the resumed coordinator completes the batch it was frozen in a second time.
 */

const root = new URL('../..', import.meta.url).pathname;
const suffix = Math.random().toString(36).slice(2, 8);
const bucket = `sluice-chaos-${suffix}`;
const streamName = `chaos-${suffix}`;
const BATCHES = 16;
const PER_SHARD = 20;
/** Short leases, so a take-over waits 3 s rather than the default 5. */
const LEASE_TTL_MS = 3000;

/** The input of batch k: PER_SHARD tweets per shard, as JSON lines; all put before the job starts. */
const generator = new GeneratorSource({ kind: 'tweets', ratePerSec: 100, seed: 11 });
const shardBatches: string[][][] = [0, 1].map((shard) =>
  Array.from({ length: BATCHES }, (_, k) =>
    Array.from({ length: PER_SHARD }, (_, i) =>
      JSON.stringify(generator.recordAt((k * PER_SHARD + i) * 2 + shard)),
    ),
  ),
);
const RECORDS_PUT = BATCHES * 2 * PER_SHARD;

/** A window, state and a saveAsTextFiles output over the stream, plus a per-batch count. */
function jobDocument(name: string, source: Record<string, unknown>, outputs: unknown[]) {
  return {
    name,
    batchIntervalMs: 1000,
    checkpointIntervalMs: 2000,
    sources: { tweets: source },
    streams: {
      tags: {
        from: 'tweets',
        ops: [
          { op: 'map', fn: 'parseJson' },
          { op: 'flatMap', fn: 'hashtags' },
        ],
      },
      window: { from: 'tags', ops: [{ op: 'countByValueAndWindow', windowMs: 4000, slideMs: 1000 }] },
      users: {
        from: 'tweets',
        ops: [
          { op: 'map', fn: 'parseJson' },
          { op: 'map', expr: '[user, 1]' },
          { op: 'updateStateByKey', fn: 'countState' },
        ],
      },
      counted: { from: 'tweets', ops: [{ op: 'count' }] },
    },
    outputs,
  };
}

function awsOutputs(name: string) {
  return [
    { stream: 'window', type: 'jsonl', path: `${name}/window` },
    { stream: 'window', type: 'saveAsTextFiles', prefix: `${name}/window`, suffix: 'txt' },
    { stream: 'users', type: 'jsonl', path: `${name}/users` },
    { stream: 'counted', type: 'jsonl', path: `${name}/counted` },
  ];
}

let host: LambdaHost;
let lambda: LambdaClient;
/** Every line the coordinator processes printed, by function. */
const lines: Array<{ fn: string; line: string }> = [];

async function invoke(name: string, payload: unknown, type: 'RequestResponse' | 'Event' = 'RequestResponse') {
  const out = await lambda.send(
    new InvokeCommand({
      FunctionName: name,
      InvocationType: type,
      Payload: Buffer.from(JSON.stringify(payload)),
    }),
  );
  if (type === 'Event') return { body: undefined, functionError: undefined };
  const body = JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8') || 'null');
  return { body: body as Record<string, any>, functionError: out.FunctionError };
}

async function status(job: string) {
  const { body, functionError } = await invoke('control', { action: 'status', job, last: 100 });
  if (functionError || !body) throw new Error(`status failed: ${JSON.stringify(body)}`);
  return body;
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
  return keys.sort();
}

/** Waits until the job's lease has expired (its holder is frozen), so the tick's coordinator can take it. */
async function leaseExpired(job: string) {
  await until(
    'the frozen coordinator’s lease to expire',
    async () => {
      const text = await s3Text(`jobs/${job}/lease.json`);
      return text !== undefined && JSON.parse(text).expiresAtMs < Date.now();
    },
    30_000,
    POLL_MS,
  );
}

/** The batch times each coordinator completed, from the metric lines they printed (one per completed batch). */
function completedBatches(job: string): number[] {
  return lines
    .filter(({ fn }) => fn.includes('coordinator') || fn.startsWith('frozen'))
    .flatMap(({ line }) => {
      if (!line.startsWith('{"_aws"')) return [];
      const metric = JSON.parse(line) as { Job: string; BatchTime: number; Error?: string };
      return metric.Job === job && metric.Error === undefined ? [metric.BatchTime] : [];
    })
    .sort((a, b) => a - b);
}

const sortRecords = (records: unknown[]) => records.map((r) => JSON.stringify(r)).sort();

/** Local mode's outputs on the same input: a queue of the same per-batch records. */
async function localRun() {
  const queue = {
    type: 'queue',
    partitions: 2,
    batches: Array.from({ length: BATCHES }, (_, k) => [...shardBatches[0]![k]!, ...shardBatches[1]![k]!]),
  };
  const local = await runBatches(
    {
      kind: 'document',
      document: jobDocument('local', queue, [
        { stream: 'window', type: 'collectBatches', name: 'window' },
        { stream: 'users', type: 'collectBatches', name: 'users' },
        { stream: 'counted', type: 'collectBatches', name: 'counted' },
      ]),
      baseDir: root,
    },
    BATCHES,
    { workers: 0 },
  );
  expect(local.error).toBeUndefined();
  return local;
}
let local: Awaited<ReturnType<typeof localRun>>;

/** Every batch completed once, and its outputs equal local mode's; the counts add up to the records put in. */
async function expectExactlyOnceAndLocalOutputs(job: string) {
  expect(completedBatches(job)).toEqual(Array.from({ length: BATCHES }, (_, k) => (k + 1) * 1000));
  let counted = 0;
  for (let k = 0; k < BATCHES; k++) {
    const batchTime = (k + 1) * 1000;
    for (const name of ['window', 'users', 'counted']) {
      const text = await s3Text(`outputs/${job}/${name}/${batchTime}.json`);
      expect(text, `${name} of batch ${batchTime}`).toBeDefined();
      const line = JSON.parse(text!);
      expect(line.batchTime).toBe(batchTime);
      expect(sortRecords(line.records), `${name} of batch ${batchTime}`).toEqual(
        sortRecords(local.recordsOf(name)[k]!),
      );
      if (name === 'counted') counted += line.records[0];
    }
    // the text folder is complete (its marker last) and holds exactly the window's records
    const folder = `outputs/${job}/window-${batchTime}.txt/`;
    const keys = await s3Keys(folder);
    expect(keys, `folder of batch ${batchTime}`).toContain(`${folder}_SUCCESS`);
    const parts = await Promise.all(keys.filter((k) => k.includes('/part-')).map((k) => s3Text(k)));
    const textLines = parts.flatMap((p) => (p ?? '').split('\n').filter((l) => l !== ''));
    expect(textLines.sort()).toEqual(local.recordsOf('window')[k]!.map(formatRecord).sort());
  }
  expect(counted).toBe(RECORDS_PUT);
  // and the state counted every record once
  const last = JSON.parse((await s3Text(`outputs/${job}/users/${BATCHES * 1000}.json`))!);
  expect((last.records as Array<[string, number]>).reduce((sum, [, n]) => sum + n, 0)).toBe(RECORDS_PUT);
}

beforeAll(async () => {
  await s3Client().send(new CreateBucketCommand({ Bucket: bucket }));
  const kinesis = kinesisClient();
  await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 2 }));
  await until(
    'the stream to be active',
    async () =>
      (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName })))
        .StreamDescriptionSummary?.StreamStatus === 'ACTIVE',
    30_000,
    POLL_MS,
  );
  // Batch k's records all arrive before batch k+1's; each batch takes PER_SHARD per shard (the cap).
  await putShardBatches(kinesis, streamName, shardBatches);
  const env = {
    AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL!,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  };
  const port = await freePort();
  const coordinatorEnv = {
    ...env,
    SLUICE_BUCKET: bucket,
    SLUICE_WORKER_FUNCTION: 'worker',
    // Hand-overs go to the plain coordinator, never back to a frozen one.
    SLUICE_COORDINATOR_FUNCTION: 'coordinator',
    SLUICE_TASK_CONCURRENCY: '8',
    SLUICE_LEASE_TTL_MS: String(LEASE_TTL_MS),
    AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${port}`,
  };
  const shortEnv = { ...coordinatorEnv, SLUICE_COORDINATOR_FUNCTION: 'short-coordinator' };
  const pausing = `${root}test/aws/fixtures/pausingCoordinator.ts`;
  host = await LambdaHost.start({
    port,
    functions: {
      // Freezes itself as it sends its 62nd worker invocation (about 15 a batch): in the middle of batch 4 or so, tasks in flight.
      'frozen-mid-batch': {
        module: pausing,
        timeoutMs: 120_000,
        env: { ...coordinatorEnv, SLUICE_TEST_PAUSE_AT: 'task:62' },
      },
      // Freezes itself as it writes its 5th metadata checkpoint (about batch 2, its plan or its completion), and is
      // killed there by the host at its 8 s timeout. Early, so that even on a loaded machine it gets there well
      // before its driving budget (6.4 s) would make it hand over instead of freezing.
      'frozen-mid-read': {
        module: pausing,
        timeoutMs: 8000,
        env: { ...shortEnv, SLUICE_TEST_PAUSE_AT: 'plan:5' },
      },
      coordinator: { module: `${root}functions/coordinator.ts`, timeoutMs: 120_000, env: coordinatorEnv },
      // A 10 s timeout: each invocation drives about 8 s, then hands over to the next.
      'short-coordinator': { module: `${root}functions/coordinator.ts`, timeoutMs: 10_000, env: shortEnv },
      control: {
        module: `${root}functions/control.ts`,
        timeoutMs: 30_000,
        env: {
          ...env,
          SLUICE_BUCKET: bucket,
          SLUICE_COORDINATOR_FUNCTION: 'coordinator',
          AWS_ENDPOINT_URL_LAMBDA: coordinatorEnv.AWS_ENDPOINT_URL_LAMBDA,
        },
      },
      worker: {
        module: `${root}functions/worker.ts`,
        timeoutMs: 30_000,
        env: { ...env, SLUICE_STORE: `s3://${bucket}`, SLUICE_OUTPUTS: `s3://${bucket}/outputs/` },
      },
    },
    output: (fn, line) => {
      lines.push({ fn, line });
      if (process.env.SLUICE_TEST_VERBOSE) process.stderr.write(`[${fn}] ${line}\n`);
    },
  });
  lambda = hostLambdaClient(host.url);
  local = await localRun();
}, 180_000);

afterAll(async () => {
  lambda?.destroy();
  await host?.stop();
});

describe('a coordinator that is slow rather than dead', () => {
  it('frozen mid-batch until a successor took over, then resumed: it changes nothing, every batch runs exactly once', async () => {
    // given a job started on a coordinator that freezes itself in the middle of a batch
    const job = `frozen-${suffix}`;
    const doc = jobDocument(
      job,
      { type: 'kinesis', streamName, maxRecordsPerShard: PER_SHARD },
      awsOutputs(job),
    );
    const first = invoke('frozen-mid-batch', { action: 'start', job: doc, batches: BATCHES });
    await until(
      'the first coordinator to freeze',
      () => processState(host.pidOf('frozen-mid-batch') ?? 0) === 'T',
      90_000,
      POLL_MS,
    );
    const frozenAt = (await status(job)).lastCompletedBatch as number;
    expect(frozenAt).toBeLessThan(BATCHES * 1000);
    // when its lease expires and the tick's coordinator takes the job over and runs batches past it
    await leaseExpired(job);
    await invoke('coordinator', { action: 'tick', job }, 'Event');
    await until(
      'the successor to run three batches',
      async () => (await status(job)).lastCompletedBatch >= frozenAt + 3000,
      60_000,
      POLL_MS,
    );
    // and the first coordinator is resumed and runs on
    process.kill(host.pidOf('frozen-mid-batch')!, 'SIGCONT');
    const answer = await first;

    // then it found it had lost the job and stopped without writing
    expect(answer.functionError, JSON.stringify(answer.body)).toBeUndefined();
    expect(answer.body?.note).toMatch(/lost the job to another coordinator/);
    await until(
      'the last batch',
      async () => {
        const s = await status(job);
        return s.state === 'stopped' && s.lastCompletedBatch === BATCHES * 1000;
      },
      60_000,
      POLL_MS,
    );
    // and every batch completed exactly once, with local mode's outputs, and every record counted once
    await expectExactlyOnceAndLocalOutputs(job);
  }, 300_000);

  it('frozen mid-read past its invocation’s timeout: the host kills it, the next coordinator resumes exactly once', async () => {
    // given a job started on a coordinator (8 s timeout) that freezes itself as it checkpoints a batch's plan
    const job = `timeout-${suffix}`;
    const doc = jobDocument(
      job,
      { type: 'kinesis', streamName, maxRecordsPerShard: PER_SHARD },
      awsOutputs(job),
    );
    const first = invoke('frozen-mid-read', { action: 'start', job: doc, batches: BATCHES });
    await until(
      'the first coordinator to freeze',
      () => processState(host.pidOf('frozen-mid-read') ?? 0) === 'T',
      90_000,
      POLL_MS,
    );
    const pid = host.pidOf('frozen-mid-read')!;
    // when its invocation times out
    const answer = await first;
    // then the caller gets Lambda's timeout error, and the host killed the frozen process
    expect(answer.functionError).toBe('Unhandled');
    expect(answer.body).toMatchObject({ errorType: 'Sandbox.Timedout' });
    await until('the timed-out process to be gone', () => processState(pid) === undefined, 10_000, POLL_MS);
    // and when the tick's coordinator (10 s invocations, handing over to each other) takes the job over
    await leaseExpired(job);
    await invoke('short-coordinator', { action: 'tick', job }, 'Event');
    await until(
      'the last batch',
      async () => {
        const s = await status(job);
        return s.state === 'stopped' && s.lastCompletedBatch === BATCHES * 1000;
      },
      60_000,
      POLL_MS,
    );
    // then every batch completed exactly once, with local mode's outputs, and every record counted once
    await expectExactlyOnceAndLocalOutputs(job);
    // and the job went through hand-overs (each invocation takes the lease with the next epoch: A, B, B's next…)
    expect(JSON.parse((await s3Text(`jobs/${job}/lease.json`))!).epoch).toBeGreaterThanOrEqual(3);
    // and each of the short invocations stopped reading and starting batches in time: none timed out
    const timedOut = lines.filter(
      ({ fn, line }) => fn === 'short-coordinator' && line.includes('Sandbox.Timedout'),
    );
    expect(timedOut).toEqual([]);
  }, 300_000);
});

describe('a reset from the control function', () => {
  it('starts a job fresh: the next run begins at batch 1 and reads the stream from the start again', async () => {
    // given a job that ran two batches and stopped
    const job = `fresh-${suffix}`;
    const doc = jobDocument(
      job,
      { type: 'kinesis', streamName, maxRecordsPerShard: PER_SHARD },
      awsOutputs(job),
    );
    expect(
      (await invoke('control', { action: 'start', job: doc, batches: 2 })).functionError,
    ).toBeUndefined();
    const stoppedAt = async (batchTime: number) => {
      const s = await status(job);
      return s.state === 'stopped' && s.lastCompletedBatch === batchTime;
    };
    await until('the first run to stop', () => stoppedAt(2000), 60_000, POLL_MS);
    // when it is started again with "fresh": true, for three batches
    const answer = await invoke('control', { action: 'start', job: doc, batches: 3, fresh: true });
    expect(answer.body).toMatchObject({ ok: true, state: 'running' });
    await until('the fresh run to stop', () => stoppedAt(3000), 60_000, POLL_MS);
    // then it ran batches 1 to 3 from scratch (batches 1 and 2 once in each run), not only batch 3
    expect(completedBatches(job)).toEqual([1000, 1000, 2000, 2000, 3000]);
    // and its outputs are local mode's first three batches: the stream was read from the start again
    for (let k = 0; k < 3; k++) {
      const line = JSON.parse((await s3Text(`outputs/${job}/counted/${(k + 1) * 1000}.json`))!);
      expect(line.records).toEqual(local.recordsOf('counted')[k]);
      const users = JSON.parse((await s3Text(`outputs/${job}/users/${(k + 1) * 1000}.json`))!);
      expect(sortRecords(users.records)).toEqual(sortRecords(local.recordsOf('users')[k]!));
    }
  }, 180_000);
});
