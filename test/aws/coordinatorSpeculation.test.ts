import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lib/aws/awsClients';
import { LambdaHost } from '../../lib/devhost/LambdaHost';
import { freePort } from '../helpers/freePort';

/**
 * Speculation is on by default on the serverless runtime: the real coordinator (LocalStack's S3, our Lambda
 * host) drives a batch whose worker straggles on one task until the test releases it, which it does only
 * once the coordinator has answered. Without a copy the batch could not complete.
 */

const root = new URL('../..', import.meta.url).pathname;
const suffix = Math.random().toString(36).slice(2, 8);
const bucket = `sluice-speculation-${suffix}`;
const name = `speculation-${suffix}`;

/** Word counts of one batch: a map stage of two tasks on the worker, then the reduce. */
const job = {
  name,
  batchIntervalMs: 1000,
  sources: { lines: { type: 'queue', batches: [['a b', 'b c', 'c d', 'd e']], partitions: 2 } },
  streams: {
    counts: {
      from: 'lines',
      ops: [
        { op: 'flatMap', fn: 'splitWords' },
        { op: 'map', expr: '[$, 1]' },
        { op: 'reduceByKey', fn: 'sum', partitions: 2 },
      ],
    },
  },
  outputs: [{ stream: 'counts', type: 'print' }],
};

let host: LambdaHost;
let lambda: LambdaClient;
let stragglerDir: string;

async function invoke(functionName: string, payload: unknown): Promise<Record<string, any>> {
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }),
  );
  const body = JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8') || 'null');
  if (out.FunctionError) throw new Error(`${functionName} failed: ${JSON.stringify(body)}`);
  return body;
}

beforeAll(async () => {
  stragglerDir = await mkdtemp(join(tmpdir(), 'sluice-coordinator-straggler-'));
  await s3Client().send(new CreateBucketCommand({ Bucket: bucket }));
  const env = {
    AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL!,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  };
  const port = await freePort();
  host = await LambdaHost.start({
    port,
    functions: {
      coordinator: {
        module: `${root}functions/coordinator.ts`,
        timeoutMs: 60_000,
        env: {
          ...env,
          SLUICE_BUCKET: bucket,
          SLUICE_WORKER_FUNCTION: 'worker',
          AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${port}`,
        },
      },
      worker: {
        module: `${root}test/aws/fixtures/stragglerWorker.ts`,
        timeoutMs: 60_000,
        env: {
          ...env,
          SLUICE_STORE: `s3://${bucket}`,
          SLUICE_OUTPUTS: `s3://${bucket}/outputs/`,
          STRAGGLER_DIR: stragglerDir,
        },
      },
    },
    output: () => {},
  });
  lambda = new LambdaClient({
    endpoint: host.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 1,
  });
}, 120_000);

afterAll(async () => {
  // Whatever happened, the straggler may answer now, so the host stops cleanly.
  if (stragglerDir) await writeFile(join(stragglerDir, 'release'), '');
  lambda?.destroy();
  await host?.stop();
  if (stragglerDir) await rm(stragglerDir, { recursive: true, force: true });
});

describe('speculation on the serverless runtime', () => {
  it('is on by default: the coordinator finishes a batch with a copy while the straggler still runs', async () => {
    // given a worker whose first attempt of task 1 of the first stage hangs until the test releases it
    // when the coordinator drives the job's one batch, the job saying nothing about speculation
    const started = await invoke('coordinator', { action: 'start', job, batches: 1 });
    const atAnswer = {
      started: existsSync(join(stragglerDir, 'started')),
      finished: existsSync(join(stragglerDir, 'finished')),
    };
    await writeFile(join(stragglerDir, 'release'), '');
    // then the batch completed while the straggler was still running, with a copy that won
    expect(started.error).toBeUndefined();
    expect(started.batches).toBe(1);
    expect(atAnswer).toEqual({ started: true, finished: false });
    const status = await invoke('coordinator', { action: 'status', job: name, last: 10 });
    expect(status.batches[0].speculativeTasks).toBeGreaterThanOrEqual(1);
    expect(status.batches[0].speculativeWins).toBeGreaterThanOrEqual(1);
  });
});
