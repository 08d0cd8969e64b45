import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';
import { uniqueName } from './localstack';

/**
 * The Lambda functions' logs: the real coordinator and worker handlers in our Lambda host (LocalStack's S3), their
 * output read line by line as CloudWatch Logs would get it. The worker fails the first attempt of every task, so
 * each task is retried once.
 */

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
let serverless: ServerlessHost;
const invoke = (functionName: string, payload: unknown) => serverless.invoke(functionName, payload);

/** The function's Powertools lines (JSON with a level; the EMF metric lines and the runtime's own are not). */
function logLines(fn: string): Array<Record<string, any>> {
  return output
    .filter((o) => o.fn === fn && o.line.startsWith('{'))
    .map((o) => JSON.parse(o.line) as Record<string, any>)
    .filter((line) => typeof line.level === 'string');
}

beforeAll(async () => {
  serverless = await startServerlessHost({
    bucket,
    workerModule: 'test/aws/fixtures/flakyWorker.ts',
    workerTimeoutMs: 60_000,
    workerEnv: { FLAKY: 'throw' },
    output: (fn, line) => output.push({ fn, line }),
  });
}, 120_000);

afterAll(async () => {
  await serverless?.stop();
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
    // named as the CLI and the Streaming UI name it: stream time and UTC date
    const batchLines = coordinator.filter((l) =>
      /^Batch \d+ ms \(\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{3} UTC\) done/.test(l.message),
    );
    expect(batchLines.map((l) => l.batchTime)).toEqual([500, 1000]);
    expect(batchLines.every((l) => l.level === 'INFO' && l.service === 'sluice-coordinator')).toBe(true);
    // one coordinator invocation drove both batches; the worker's lines come from several invocations
    expect(new Set(coordinator.map((l) => l.function_request_id)).size).toBe(1);
    expect(new Set(worker.map((l) => l.function_request_id)).size).toBeGreaterThan(1);
    // Powertools marks the first invocation of a container a cold start, as Lambda's initialization type says:
    // the coordinator's start was its container's first; the worker's first invocations failed before logging
    expect(coordinator.every((l) => l.cold_start === true)).toBe(true);
    expect(worker.every((l) => l.cold_start === false)).toBe(true);
    // and each line states the memory the stack gives its function, as Lambda's context gives it, a string (before,
    // the host said 128 MB)
    expect(coordinator.every((l) => l.function_memory_size === '1024')).toBe(true);
    expect(worker.every((l) => l.function_memory_size === '1769')).toBe(true);
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
