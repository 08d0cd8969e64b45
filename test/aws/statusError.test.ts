import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lib/aws/awsClients';
import { LambdaHost } from '../../lib/devhost/LambdaHost';
import { freePort } from '../helpers/freePort';

/**
 * A failed batch on the serverless runtime, with no mock in the path (LocalStack's S3, the real coordinator
 * and worker handlers in our Lambda host): the coordinator's answer and the status event's batch metrics name
 * the op that failed by its JSON path, as the worker reported it.
 */

const root = new URL('../..', import.meta.url).pathname;
const suffix = Math.random().toString(36).slice(2, 8);
const bucket = `sluice-status-error-${suffix}`;
const name = `status-error-${suffix}`;

/** A job whose first batch joins a static file that is not in the bucket: its reading task fails. */
const job = {
  name,
  batchIntervalMs: 1000,
  maxTaskAttempts: 2,
  sources: { lines: { type: 'queue', batches: [['a b', 'b c']] } },
  datasets: { lookup: { type: 'textFile', path: 'no-such-lookup.txt' } },
  streams: {
    counts: {
      from: 'lines',
      ops: [
        { op: 'flatMap', fn: 'splitWords' },
        { op: 'map', expr: '[$, 1]' },
        { op: 'join', with: 'lookup' },
      ],
    },
  },
  outputs: [{ stream: 'counts', type: 'print' }],
};

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

describe('a failed batch on the serverless runtime', () => {
  it('is reported by the coordinator and the status event with the JSON path and op that failed', async () => {
    // given a job whose static dataset is missing from the bucket
    // when the coordinator drives its first batch
    const started = await invoke('coordinator', { action: 'start', job, batches: 1 });
    // then the batch fails, naming the dataset by its JSON path, then the task and the worker's error
    const expected =
      /^datasets\.lookup \(textFile\): task 0 of stage \d+ failed 2 time\(s\); last error: Error: the static file s3:\/\/.*\/static\/no-such-lookup\.txt does not exist$/;
    expect(started.error).toMatch(expected);
    // and the status event's batch metrics carry the same sentence
    const status = await invoke('coordinator', { action: 'status', job: name, last: 10 });
    expect(status.batches).toHaveLength(1);
    expect(status.batches[0].error).toMatch(expected);
  });
});
