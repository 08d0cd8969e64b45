import { join } from 'node:path';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaTaskRunner } from '../../lib/aws/LambdaTaskRunner';
import { functionModule } from '../../lib/devhost/localFunctions';
import { findJobModules } from '../../lib/job/jobModuleFiles';
import { runBatches } from '../../lib/local/LocalRuntime';
import type { TaskPlan } from '../../lib/plan/Plan';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';

/**
 * Infinity, -Infinity and NaN that a function of the job makes reach the coordinator from the workers as they are
 * (LocalStack's S3, the real coordinator and worker handlers in our Lambda host), though a worker answers in JSON,
 * which writes them as null: `print` shows what local mode shows, and the actions of a `foreachRDD` take what
 * local mode takes.
 */

const fixtures = new URL('fixtures/nonFiniteActions/', import.meta.url).pathname;
const suffix = Math.random().toString(36).slice(2, 8);
const bucket = `sluice-nonfinite-${suffix}`;

/** Every line the coordinator printed. */
const printed: string[] = [];
let serverless: ServerlessHost;

beforeAll(async () => {
  const jobModules = findJobModules(join(fixtures, 'nonFiniteFunctions.ts'), '/');
  serverless = await startServerlessHost({
    bucket,
    coordinatorModule: functionModule('coordinator', jobModules),
    workerModule: functionModule('worker', jobModules),
    output: (fn, line) => {
      if (fn === 'coordinator') printed.push(line);
    },
  });
}, 120_000);

afterAll(async () => {
  await serverless?.stop();
});

/** A job printing pairs whose values JSON cannot write, made by a function of its module on a worker. */
const nonFiniteJob = (name: string) => ({
  name,
  batchIntervalMs: 1000,
  functions: 'nonFiniteFunctions.ts',
  sources: { numbers: { type: 'queue', batches: [[1, 0, -1, 2]], partitions: 2 } },
  streams: { divided: { from: 'numbers', ops: [{ op: 'map', fn: 'dividedByZero' }] } },
  outputs: [
    { stream: 'divided', type: 'print' },
    { stream: 'divided', type: 'foreachRDD', fn: 'logTaken' },
  ],
});

describe('print on the serverless runtime', () => {
  it('shows Infinity, NaN and an undefined value as local mode does', async () => {
    // given the job's lines in local mode
    let local = '';
    await runBatches({ kind: 'document', document: nonFiniteJob('local'), baseDir: fixtures }, 1, {
      write: (text) => (local += text),
    });
    const records = local.split('\n').slice(3, 7);
    expect(records).toEqual(['(k,Infinity)', '(k,NaN)', '(k,-Infinity)', '(k,null)']);
    // when the coordinator drives its batch, the records computed by the worker
    const run = await serverless.invoke('coordinator', {
      action: 'start',
      job: nonFiniteJob(`print-${suffix}`),
      batches: 1,
    });
    // then it printed the same record lines
    expect(run.error).toBeUndefined();
    const start = printed.findIndex((line) => line.startsWith('Time: 1000'));
    expect(printed.slice(start + 2, start + 6)).toEqual(records);
  }, 120_000);
});

describe('actions on the serverless runtime', () => {
  it('take Infinity and NaN from the workers as local mode takes them', async () => {
    // given what collect, take, top and max took of the values in local mode
    const takenLines: string[] = [];
    Object.assign(globalThis, { takenLines });
    try {
      await runBatches({ kind: 'document', document: nonFiniteJob('taken'), baseDir: fixtures }, 1);
    } finally {
      Reflect.deleteProperty(globalThis, 'takenLines');
    }
    const [local] = takenLines;
    expect(local).toBe(
      'taken: collect Infinity,NaN,-Infinity,; take Infinity,NaN; top NaN,Infinity; max NaN',
    );
    // when the coordinator drives the batch, whose tasks run on the worker
    const run = await serverless.invoke('coordinator', {
      action: 'start',
      job: nonFiniteJob(`taken-${suffix}`),
      batches: 1,
    });
    // then its foreachRDD took the same
    expect(run.error).toBeUndefined();
    expect(
      printed
        .find((line) => line.includes('taken: '))
        ?.split('\t')
        .at(-1),
    ).toBe(local);
  }, 120_000);
});

describe('a take answered by a worker of the previous version, during a deploy', () => {
  it('puts back the Infinity it named as nonFiniteNumbers', async () => {
    // given a worker function still on the version before values were named `namedValues`: its answer to a take,
    // word for word as that version wrote it (this version's worker cannot write it)
    const answer = {
      ok: true,
      stageId: 0,
      partition: 0,
      result: [['k', null]],
      metrics: { durationMs: 1, recordsOut: 1, storageRequests: 0 },
      nonFiniteNumbers: [[[0, 1], 'Infinity']],
    };
    const client = {
      send: async () => ({ Payload: new TextEncoder().encode(JSON.stringify(answer)) }),
    } as unknown as LambdaClient;
    const runner = new LambdaTaskRunner({ client, functionName: 'worker', parallelism: 1 });
    const task = {
      jobId: 0,
      batchTime: 1000,
      partition: 0,
      attempt: 0,
      shuffleInputs: {},
      stage: { stageId: 0, datasets: [] },
      action: { type: 'take', n: 1 },
    } as unknown as TaskPlan;
    // when a coordinator of this version runs the task on it
    const result = await runner.run(task);
    // then the record is the one the function made, as before the rename, and the name list is not passed on
    expect(result).toMatchObject({ ok: true, result: [['k', Number.POSITIVE_INFINITY]] });
    expect(result).not.toHaveProperty('nonFiniteNumbers');
  });
});
