import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';
import { uniqueName } from './localstack';

/**
 * Each batch's cost report counts its own worker invocations, also when batches overlap: the real coordinator
 * (LocalStack's S3, our Lambda host) drives a job with two batches at once whose worker tasks each take longer
 * than the batch interval, so a batch completes while the next one's tasks are running.
 */

const bucket = uniqueName('overlap');
const name = uniqueName('overlap-job');
const BATCH_INTERVAL_MS = 300;

/** Word counts: a map stage of two tasks and a reduce stage of two, every task on the worker. */
const job = {
  name,
  batchIntervalMs: BATCH_INTERVAL_MS,
  concurrentJobs: 2,
  // Copies would add invocations that no task attempt accounts for.
  speculation: { enabled: false },
  sources: {
    lines: {
      type: 'queue',
      batches: [
        ['a b', 'c d'],
        ['e f', 'g h'],
        ['a c', 'e g'],
        ['b d', 'f h'],
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

let serverless: ServerlessHost;
const invoke = (functionName: string, payload: unknown) => serverless.invoke(functionName, payload);

beforeAll(async () => {
  serverless = await startServerlessHost({
    bucket,
    workerModule: 'test/aws/fixtures/slowWorker.ts',
    workerTimeoutMs: 60_000,
    // Longer than the batch interval: the next batch starts while this one's stages run.
    workerEnv: { SLOW_TASK_MS: String(2 * BATCH_INTERVAL_MS) },
  });
}, 120_000);

afterAll(async () => {
  await serverless?.stop();
});

describe('per-batch worker invocations on the serverless runtime', () => {
  it("counts each batch's own invocations when batches overlap", async () => {
    // given a job whose batches outlast their interval, two at once
    // when the coordinator drives its four batches
    const started = await invoke('coordinator', { action: 'start', job, batches: 4 });
    expect(started.error).toBeUndefined();
    expect(started.batches).toBe(4);
    const status = await invoke('coordinator', { action: 'status', job: name, last: 10 });
    const batches = status.batches as Array<BatchInfo & { invokes: number }>;
    // then the batches did overlap: each ran longer than the interval after which the next one was due
    expect(batches.map((b) => b.batchTime)).toEqual([300, 600, 900, 1200]);
    for (const b of batches) expect(b.processingTimeMs).toBeGreaterThan(BATCH_INTERVAL_MS);
    // and each batch's invocations are its own task attempts: four tasks, none of another batch's
    const counted = batches.map((b) => ({
      batchTime: b.batchTime,
      invokes: b.invokes,
      workerInvocations: b.cost?.workerInvocations,
    }));
    expect(counted).toEqual(
      batches.map((b) => ({
        batchTime: b.batchTime,
        invokes: b.taskAttempts,
        workerInvocations: b.taskAttempts,
      })),
    );
    expect(batches.every((b) => b.taskAttempts === 4)).toBe(true);
  });
});
