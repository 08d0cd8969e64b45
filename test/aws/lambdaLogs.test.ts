import { setTimeout as sleep } from 'node:timers/promises';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lib/aws/awsClients';
import { LambdaHost } from '../../lib/devhost/LambdaHost';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';
import { freePort } from '../helpers/freePort';
import { uniqueName } from './localstack';

/**
 * The Lambda functions' logs: the real coordinator and worker handlers in our Lambda host (LocalStack's S3), their
 * output read line by line as CloudWatch Logs would get it. The worker fails the first attempt of every task, so
 * each task is retried once.
 */

const root = new URL('../..', import.meta.url).pathname;
const bucket = uniqueName('logs');
const name = uniqueName('logs-job');

/** Word counts over two batches: a map stage of two tasks and a reduce stage of two, all on the worker. */
const job = {
  name,
  batchIntervalMs: 500,
  speculation: { enabled: false },
  sources: {
    lines: {
      type: 'queue',
      batches: [
        ['a b', 'c d'],
        ['a c', 'b d'],
      ],
      partitions: 2,
    },
  },
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

/** Every line the functions wrote, with the function's name. */
const output: Array<{ fn: string; line: string }> = [];
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

/** The function's Powertools lines (JSON with a level; the EMF metric lines and the runtime's own are not). */
function logLines(fn: string): Array<Record<string, any>> {
  return output
    .filter((o) => o.fn === fn && o.line.startsWith('{'))
    .map((o) => JSON.parse(o.line) as Record<string, any>)
    .filter((line) => typeof line.level === 'string');
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
        module: `${root}test/aws/fixtures/flakyWorker.ts`,
        timeoutMs: 60_000,
        env: {
          ...env,
          SLUICE_STORE: `s3://${bucket}`,
          SLUICE_OUTPUTS: `s3://${bucket}/outputs/`,
          FLAKY: 'throw',
        },
      },
    },
    output: (fn, line) => output.push({ fn, line }),
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

describe('the Lambda functions’ logs', () => {
  let batches: BatchInfo[];

  beforeAll(async () => {
    // given a worker that fails every task's first attempt
    // when the coordinator drives the job's two batches
    const started = await invoke('coordinator', { action: 'start', job, batches: 2 });
    expect(started.error).toBeUndefined();
    batches = (await invoke('coordinator', { action: 'status', job: name, last: 10 })).batches;
    // The host reads the functions' output as it comes: wait until the second batch's line is in.
    for (
      let i = 0;
      i < 500 && !logLines('coordinator').some((l) => l.batchTime === 1000 && /done/.test(l.message));
      i++
    )
      await sleep(10);
  }, 120_000);

  it('are JSON lines with the job, the batch time and the request id', () => {
    const coordinator = logLines('coordinator');
    const worker = logLines('worker');
    expect(coordinator.length).toBeGreaterThan(0);
    expect(worker.length).toBeGreaterThan(0);
    // every line of a job names it and carries its invocation's request id, as Powertools writes it
    for (const line of [...coordinator, ...worker]) {
      expect(line).toMatchObject({
        job: name,
        function_request_id: expect.any(String),
        timestamp: expect.any(String),
      });
    }
    // every worker line is about one task of one batch; so is every coordinator line about a batch
    expect(worker.every((l) => [500, 1000].includes(l.batchTime))).toBe(true);
    const batchLines = coordinator.filter((l) => /^Batch \d+ ms done/.test(l.message));
    expect(batchLines.map((l) => l.batchTime)).toEqual([500, 1000]);
    expect(batchLines.every((l) => l.level === 'INFO' && l.service === 'sluice-coordinator')).toBe(true);
    // one coordinator invocation drove both batches; the worker's lines come from several invocations
    expect(new Set(coordinator.map((l) => l.function_request_id)).size).toBe(1);
    expect(new Set(worker.map((l) => l.function_request_id)).size).toBeGreaterThan(1);
  });

  it('log each retried task once, with its cause', () => {
    const retries = logLines('coordinator').filter((l) => /retrying/.test(l.message));
    // each task failed once: one retry line per task, at warn, naming the worker's error
    const failedAttempts = batches.reduce((n, b) => n + b.taskAttempts - b.tasks, 0);
    expect(failedAttempts).toBe(8);
    expect(retries).toHaveLength(failedAttempts);
    const tasks = retries.map((l) => `${l.batchTime}/${l.stageId}/${l.partition}`);
    expect(new Set(tasks).size).toBe(failedAttempts);
    for (const line of retries) {
      expect(line.level).toBe('WARN');
      expect(line.attempt).toBe(1);
      expect(line.error).toContain(`injected failure of stage ${line.stageId} partition ${line.partition}`);
    }
  });
});
