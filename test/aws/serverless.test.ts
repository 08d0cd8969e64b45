import { CreateStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kinesisClient, s3Client } from '../../lib/aws/awsClients';
import { LambdaHost } from '../../lib/devhost/LambdaHost';
import { runBatches } from '../../lib/local/LocalRuntime';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';
import { GeneratorSource } from '../../lib/source/GeneratorSource';
import { freePort } from '../helpers/freePort';
import { putShardBatches } from '../helpers/kinesisFeed';
import { until } from '../helpers/until';

/** How often the tests here poll what they wait for. */
const POLL_MS = 500;

/**
 * The serverless runtime end to end, with no mock in the path: LocalStack serves S3 and Kinesis, our Lambda
 * host runs the real coordinator and worker handlers, and the coordinator reaches the worker through
 * @aws-sdk/client-lambda, as on AWS. The outputs must equal local mode's for the same input, batch by batch,
 * exactly once, even though the coordinator is killed in the middle of the run.
 */

const root = new URL('../..', import.meta.url).pathname;
const suffix = Math.random().toString(36).slice(2, 8);
const bucket = `sluice-it-${suffix}`;
const streamName = `tweets-${suffix}`;
const BATCHES = 20;
const PER_SHARD = 30;

/** The input of batch k: PER_SHARD tweets per shard, as JSON lines; every third batch's first line is not JSON. */
const generator = new GeneratorSource({ kind: 'tweets', ratePerSec: 100, seed: 5 });
const shardBatches: string[][][] = [0, 1].map((shard) =>
  Array.from({ length: BATCHES }, (_, k) =>
    Array.from({ length: PER_SHARD }, (_, i) =>
      shard === 0 && i === 0 && k % 3 === 0
        ? `not json ${k}`
        : JSON.stringify(generator.recordAt((k * PER_SHARD + i) * 2 + shard)),
    ),
  ),
);

/** Dead letters as comparable lines, without the dataset's label (its number depends on the process). */
const letterLines = (letters: readonly Record<string, unknown>[]) =>
  letters.map(({ dataset: _label, ...letter }) => JSON.stringify(letter)).sort();

function jobDocument(source: Record<string, unknown>, outputs: unknown[]) {
  return {
    name: `it-${suffix}`,
    batchIntervalMs: 1000,
    checkpointIntervalMs: 3000,
    sources: { tweets: source },
    streams: {
      tags: {
        from: 'tweets',
        ops: [
          { op: 'map', fn: 'parseJson' },
          { op: 'flatMap', fn: 'hashtags' },
        ],
      },
      window: { from: 'tags', ops: [{ op: 'countByValueAndWindow', windowMs: 5000, slideMs: 1000 }] },
      // Slides every second batch: each in-between batch computes its per-batch counts ahead of the slide.
      everyOther: { from: 'tags', ops: [{ op: 'countByValueAndWindow', windowMs: 4000, slideMs: 2000 }] },
      users: {
        from: 'tweets',
        ops: [
          { op: 'map', fn: 'parseJson' },
          { op: 'map', expr: '[user, 1]' },
          { op: 'updateStateByKey', fn: 'countState' },
        ],
      },
    },
    outputs,
  };
}

let host: LambdaHost;
let lambda: LambdaClient;

async function invoke(name: string, payload: unknown, type: 'RequestResponse' | 'Event' = 'RequestResponse') {
  const out = await lambda.send(
    new InvokeCommand({
      FunctionName: name,
      InvocationType: type,
      Payload: Buffer.from(JSON.stringify(payload)),
    }),
  );
  if (type === 'Event') return undefined;
  const body = JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8') || 'null');
  if (out.FunctionError) throw new Error(`${name} failed: ${JSON.stringify(body)}`);
  return body as Record<string, any>;
}

async function status() {
  return (await invoke('coordinator', { action: 'status', job: `it-${suffix}`, last: 100 }))!;
}

async function s3Text(key: string): Promise<string> {
  const out = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return out.Body!.transformToString();
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

const sortRecords = (records: unknown[]) => records.map((r) => JSON.stringify(r)).sort();

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
  // Batch k's records all arrive before batch k+1's.
  await putShardBatches(kinesis, streamName, shardBatches);
  const env = {
    AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL!,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  };
  // The coordinator reaches the host through the Lambda API's endpoint setting, as it reaches Lambda on AWS;
  // the port is chosen first so the coordinator's environment can name it.
  const port = await freePort();
  const lambdaEndpoint = { AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${port}` };
  host = await LambdaHost.start({
    port,
    functions: {
      coordinator: {
        module: `${root}functions/coordinator.ts`,
        timeoutMs: 120_000,
        env: {
          ...env,
          SLUICE_BUCKET: bucket,
          SLUICE_WORKER_FUNCTION: 'worker',
          SLUICE_COORDINATOR_FUNCTION: 'coordinator',
          SLUICE_TASK_CONCURRENCY: '8',
          ...lambdaEndpoint,
        },
      },
      worker: {
        module: `${root}functions/worker.ts`,
        timeoutMs: 30_000,
        env: { ...env, SLUICE_STORE: `s3://${bucket}`, SLUICE_OUTPUTS: `s3://${bucket}/outputs/` },
      },
    },
  });
  lambda = new LambdaClient({
    endpoint: host.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: new NodeHttpHandler(),
  });
}, 180_000);

afterAll(async () => {
  await host?.stop();
});

describe('the serverless runtime against LocalStack', () => {
  it('runs a sliding count and a stateful count for 20 batches, survives a coordinator kill, and matches local mode', async () => {
    // given a job reading the 2-shard Kinesis stream, 30 records per shard per batch
    const outputs = [
      { stream: 'window', type: 'jsonl', path: `it-${suffix}/window` },
      { stream: 'window', type: 'saveAsTextFiles', prefix: `it-${suffix}/window`, suffix: 'txt' },
      // a folder named like the job store's temporary keys, which the lifecycle rule expires by their tag
      { stream: 'window', type: 'saveAsTextFiles', prefix: `shuffle/it-${suffix}/window`, suffix: 'txt' },
      { stream: 'users', type: 'jsonl', path: `it-${suffix}/users` },
      { stream: 'everyOther', type: 'jsonl', path: `it-${suffix}/everyOther` },
    ];
    const doc = jobDocument({ type: 'kinesis', streamName, maxRecordsPerShard: PER_SHARD }, outputs);
    // when the coordinator starts it, is killed after a few batches, and the watchdog tick restarts it
    await invoke('coordinator', { action: 'start', job: doc, batches: BATCHES }, 'Event');
    await until('batch 6', async () => ((await status()).lastCompletedBatch ?? 0) >= 6000, 90_000, POLL_MS);
    await host.kill('coordinator');
    await new Promise((r) => setTimeout(r, 6000)); // the dead coordinator's lease expires
    await invoke('coordinator', { action: 'tick', job: `it-${suffix}` }, 'Event');
    await until(
      'the last batch',
      async () => {
        const s = await status();
        return s.state === 'stopped' && s.lastCompletedBatch === BATCHES * 1000;
      },
      150_000,
      POLL_MS,
    );

    // then every batch's outputs exist exactly once (deterministic keys, one object per batch)
    const windowKeys = await s3Keys(`outputs/it-${suffix}/window/`);
    expect(windowKeys.filter((k) => k.endsWith('.json'))).toHaveLength(BATCHES);
    const folders = new Set(
      (await s3Keys(`outputs/it-${suffix}/window-`)).map((k) => k.split('/').slice(0, 3).join('/')),
    );
    expect(folders.size).toBe(BATCHES);
    for (const folder of folders) expect(await s3Keys(`${folder}/_SUCCESS`)).toHaveLength(1);
    // and an output under shuffle/ is the user's, not temporary: the workers wrote its parts untagged (before,
    // they carried the tag, and the bucket's lifecycle rule deleted them a day later)
    const parts = (await s3Keys(`outputs/shuffle/it-${suffix}/window-`)).filter((k) => k.includes('/part-'));
    expect(parts.length).toBeGreaterThanOrEqual(BATCHES);
    for (const key of parts) {
      const tags = await s3Client().send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
      expect(tags.TagSet, key).toEqual([]);
    }

    // and each batch equals local mode's on the same input (a queue of the same per-batch records)
    const queue = {
      type: 'queue',
      partitions: 2,
      batches: Array.from({ length: BATCHES }, (_, k) => [...shardBatches[0]![k]!, ...shardBatches[1]![k]!]),
    };
    const local = await runBatches(
      {
        kind: 'document',
        document: jobDocument(queue, [
          { stream: 'window', type: 'collectBatches', name: 'window' },
          { stream: 'users', type: 'collectBatches', name: 'users' },
          { stream: 'everyOther', type: 'collectBatches', name: 'everyOther' },
        ]),
        baseDir: root,
      },
      BATCHES,
      { workers: 0 },
    );
    expect(local.error).toBeUndefined();
    for (const [name, expected] of [
      ['window', local.recordsOf('window')],
      ['users', local.recordsOf('users')],
    ] as const) {
      for (let k = 0; k < BATCHES; k++) {
        const line = JSON.parse(await s3Text(`outputs/it-${suffix}/${name}/${(k + 1) * 1000}.json`));
        expect(line.batchTime).toBe((k + 1) * 1000);
        expect(sortRecords(line.records)).toEqual(sortRecords(expected[k]!));
      }
    }

    // and so does the window sliding every second batch, which writes only at its slides
    expect(await s3Keys(`outputs/it-${suffix}/everyOther/`)).toHaveLength(BATCHES / 2);
    const everyOther = local.recordsOf('everyOther');
    for (let k = 0; k < BATCHES / 2; k++) {
      const line = JSON.parse(await s3Text(`outputs/it-${suffix}/everyOther/${(k + 1) * 2000}.json`));
      expect(sortRecords(line.records)).toEqual(sortRecords(everyOther[k]!));
    }

    // and each malformed line is dead-lettered once per op that parses it, as in local mode, though the
    // restarted coordinator re-read earlier batches to rebuild the window and the state
    const letters: Record<string, unknown>[] = [];
    for (const key of await s3Keys(`jobs/it-${suffix}/store/dead-letter/`)) {
      for (const line of (await s3Text(key)).split('\n').filter(Boolean)) letters.push(JSON.parse(line));
    }
    expect(local.deadLetters).toHaveLength(2 * Math.ceil(BATCHES / 3));
    expect(letterLines(letters)).toEqual(
      letterLines(local.deadLetters as unknown as Record<string, unknown>[]),
    );

    // and the status event returns the batches' metrics, with the coordinator's small stages counted
    const s = await status();
    expect(s.batches.length).toBeGreaterThan(0);
    expect(s.batches.at(-1)).toMatchObject({ batchTime: BATCHES * 1000 });
    // with each in-between batch's per-batch counts computed ahead of the slide, by the workers
    const inBetween = s.batches.find((b: BatchInfo) => b.batchTime === (BATCHES - 1) * 1000) as BatchInfo;
    expect(inBetween.outputOps?.filter((op) => op.ahead).map((op) => op.jobs.length)).toEqual([1]);
    expect(inBetween.tasks).toBeGreaterThan(0);
  }, 400_000);
});
