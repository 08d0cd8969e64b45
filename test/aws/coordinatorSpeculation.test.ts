import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';

/**
 * Speculation is on by default on the serverless runtime: the real coordinator (LocalStack's S3, our Lambda
 * host) drives a batch whose worker straggles on one task until the test releases it, which it does only
 * once the coordinator has answered. Without a copy the batch could not complete.
 */

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

let serverless: ServerlessHost;
let stragglerDir: string;
const invoke = (functionName: string, payload: unknown) => serverless.invoke(functionName, payload);

beforeAll(async () => {
  stragglerDir = await mkdtemp(join(tmpdir(), 'sluice-coordinator-straggler-'));
  serverless = await startServerlessHost({
    bucket,
    workerModule: 'test/aws/fixtures/stragglerWorker.ts',
    workerTimeoutMs: 60_000,
    workerEnv: { STRAGGLER_DIR: stragglerDir },
  });
}, 120_000);

afterAll(async () => {
  // Whatever happened, the straggler may answer now, so the host stops cleanly.
  if (stragglerDir) await writeFile(join(stragglerDir, 'release'), '');
  await serverless?.stop();
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
