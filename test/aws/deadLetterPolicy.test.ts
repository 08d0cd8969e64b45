import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lib/aws/awsClients';
import { LambdaHost } from '../../lib/devhost/LambdaHost';
import { METADATA_KEY } from '../../lib/scheduler/CheckpointData';
import { freePort } from '../helpers/freePort';

/**
 * The dead-letter policy on the serverless runtime, with no mock in the path (LocalStack's S3, the real
 * coordinator and worker handlers in our Lambda host): the coordinator runs the engine's job scheduler, so a
 * flood fails its batch there too, before the batch's dead-letter object and checkpoint are written; a start
 * with a raised share reruns the batch and writes its letters and its output once.
 */

const root = new URL('../..', import.meta.url).pathname;
const suffix = Math.random().toString(36).slice(2, 8);
const bucket = `sluice-dead-letter-policy-${suffix}`;
const name = `flood-${suffix}`;

/** Lines parsed as JSON: batch 1 all good, batch 2 three bad of four (75%). */
const job = (maxShare: number) => ({
  name,
  batchIntervalMs: 1000,
  deadLetters: { maxShare, minCount: 2 },
  sources: {
    lines: {
      type: 'queue',
      batches: [
        ['1', '2', '3', '4'],
        ['5', 'x', 'y', 'z'],
      ],
    },
  },
  streams: { parsed: { from: 'lines', ops: [{ op: 'map', fn: 'parseJson' }] } },
  outputs: [{ stream: 'parsed', type: 'jsonl', path: 'parsed' }],
});

let host: LambdaHost;
let lambda: LambdaClient;

async function invoke(functionName: string, payload: unknown): Promise<Record<string, any>> {
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }),
  );
  const body = JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8') || 'null');
  if (out.FunctionError) throw new Error(`${functionName} failed: ${JSON.stringify(body)}`);
  return body;
}

async function keys(prefix: string): Promise<string[]> {
  const out = await s3Client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

async function text(key: string): Promise<string> {
  const out = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return out.Body!.transformToString();
}

beforeAll(async () => {
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
        module: `${root}functions/worker.ts`,
        timeoutMs: 30_000,
        env: { ...env, SLUICE_STORE: `s3://${bucket}`, SLUICE_OUTPUTS: `s3://${bucket}/outputs/` },
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
  lambda?.destroy();
  await host?.stop();
});

describe('a flood of dead letters on the serverless runtime', () => {
  it('fails its batch without its dead letters, and a start with a raised share writes them once', async () => {
    // given a job that allows 25% of a batch's records as dead letters
    // when the coordinator drives its two batches and the second dead-letters 3 of its 4 lines
    const failed = await invoke('coordinator', { action: 'start', job: job(0.25), batches: 2 });
    // then the batch fails with the policy's sentence, and the bucket holds no dead letter
    expect(failed.ok).toBe(false);
    expect(failed.error).toMatch(
      /^batch 2000 failed: 3 dead letters for its 4 records \(75%\), above deadLetters\.maxShare of 25%/,
    );
    expect(await keys(`jobs/${name}/store/dead-letter/`)).toEqual([]);
    // and the checkpoint still ends at batch 1. Batch 2 is listed as pending when it was generated before batch 1's
    // checkpoint was written, and not listed otherwise (a queue source is replayable, so its generation needs no
    // checkpoint of its own): a restart reruns it either way, so both orders are right
    const checkpoint = JSON.parse(await text(`jobs/${name}/store/${METADATA_KEY}`));
    expect(checkpoint.lastCompletedBatch).toBe(1000);
    expect(checkpoint.pendingBatches.filter((t: number) => t !== 2000)).toEqual([]);
    // when the job is started again with a share of 80%
    const rerun = await invoke('coordinator', { action: 'start', job: job(0.8), batches: 2 });
    // then batch 2 runs again and completes: its three letters are one object, its output line one object
    expect(rerun.error).toBeUndefined();
    expect(rerun.lastBatch).toBe(2000);
    expect(rerun.batches).toBe(1);
    expect(await keys(`jobs/${name}/store/dead-letter/`)).toEqual([
      `jobs/${name}/store/dead-letter/2000.jsonl`,
    ]);
    const letters = (await text(`jobs/${name}/store/dead-letter/2000.jsonl`)).trim().split('\n');
    expect(letters.map((l) => JSON.parse(l).record).sort()).toEqual(['x', 'y', 'z']);
    expect(await keys('outputs/parsed/')).toEqual(['outputs/parsed/1000.json', 'outputs/parsed/2000.json']);
    expect(JSON.parse(await text('outputs/parsed/2000.json')).records).toEqual([5]);
  }, 120_000);
});
