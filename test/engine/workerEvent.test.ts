import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { isJobVersion, JOB_VERSION_PATTERN, jobVersion } from '../../lib/aws/jobVersion';
import { LambdaTaskRunner } from '../../lib/aws/LambdaTaskRunner';
import { parseWorkerEvent, WorkerRuntime, withoutStackFrames } from '../../lib/aws/WorkerRuntime';
import { workerEventIssues } from '../../lib/aws/workerEvents';
import { schema } from '../../lib/aws/workerEventValidator.generated.mjs';
import { datasetTypes } from '../../lib/dataset/datasetTypes';
import { runBatches } from '../../lib/local/LocalRuntime';
import { StderrLogger } from '../../lib/local/StderrLogger';
import type { TaskPlan } from '../../lib/plan/Plan';
import { InProcessRunner } from '../../lib/scheduler/InProcessRunner';
import { combiningTables } from '../helpers/combiningTable';
import { workerTaskEvent } from '../helpers/workerTaskEvent';
import { failingJob, fixturesDir } from '../job/fixtures/jobs';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-worker-event-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

const job = failingJob('worker-event');

/** The tasks a run of `source` hands its runner, in the driver's thread. */
async function tasksOf(...runs: Parameters<typeof runBatches>[]): Promise<TaskPlan[]> {
  const tasks: TaskPlan[] = [];
  const run = InProcessRunner.prototype.run;
  vi.spyOn(InProcessRunner.prototype, 'run').mockImplementation(function (this: InProcessRunner, task, c) {
    tasks.push(structuredClone(task));
    return run.call(this, task, c);
  });
  for (const args of runs) await runBatches(...args);
  vi.restoreAllMocks();
  return tasks;
}

/** The reduce task of the failing job (its map outputs inline): a real plan, to break one field at a time. */
let task: TaskPlan;
beforeAll(async () => {
  const tasks = await tasksOf([{ kind: 'document', document: job, baseDir: fixturesDir }, 1]);
  task = tasks.find((t) => t.stage.shuffleWrite === undefined)!;
});

describe('the worker at the edge', () => {
  const invalid: [string, () => unknown, string][] = [
    ['an empty event', () => ({}), 'jobKey is missing: give jobKey'],
    ['null', () => null, '(root) must be an object { jobKey or job, task } (got null)'],
    ['a string', () => 'run it', '(root) must be an object { jobKey or job, task } (got "run it")'],
    ['no task', () => ({ job }), 'task must be a task plan (an object)'],
    ['both job and jobKey', () => ({ job, jobKey: 'job.json', task }), 'job and jobKey are both given'],
    ['an unknown field', () => ({ jobkey: 'job.json', job, task }), 'jobkey is not a field'],
    [
      'a partition that is a string',
      () => ({ job, task: { ...task, partition: '0' } }),
      'task.partition must be a whole number (got "0")',
    ],
    [
      'a task without a partition',
      () => ({ job, task: { ...task, partition: undefined } }),
      'task.partition is missing: it must be a whole number',
    ],
    [
      'a dataset that is not a spec',
      () => ({ job, task: { ...task, stage: { ...task.stage, datasets: [null] } } }),
      'task.stage.datasets[0] must be a dataset spec (an object) (got null)',
    ],
    [
      'a dataset of an unknown type',
      () => ({
        job,
        task: { ...task, stage: { ...task.stage, datasets: [{ ...task.stage.datasets[0], type: 'magic' }] } },
      }),
      'task.stage.datasets[0].type must be one of',
    ],
    [
      'shuffle inputs that are not map statuses',
      () => ({ job, task: { ...task, shuffleInputs: { 0: 'x' } } }),
      'task.shuffleInputs.0 must be an array of map statuses (got "x")',
    ],
    [
      'an unknown action',
      () => ({ job, task: { ...task, action: { type: 'explode' } } }),
      'task.action must be an action',
    ],
    [
      'a take without its count',
      () => ({ job, task: { ...task, action: { type: 'take' } } }),
      'task.action.n is missing: it must be a whole number',
    ],
    [
      'a shuffle input under a key that is not a shuffle id',
      () => ({ job, task: { ...task, shuffleInputs: { first: [] } } }),
      'task.shuffleInputs.first is not a shuffle id (a whole number)',
    ],
    [
      'a negative attempt',
      () => ({ job, task: { ...task, attempt: -1 } }),
      'task.attempt must be a whole number (got -1)',
    ],
    [
      'a batch label that is not a string',
      () => ({ job, task: { ...task, batchLabel: 1000 } }),
      'task.batchLabel must be a non-empty string of at most 100 characters (got 1000)',
    ],
    [
      'an eviction bound that is not a batch time',
      () => ({ job, task: { ...task, evictBefore: '1000' } }),
      'task.evictBefore must be a whole number (got "1000")',
    ],
    [
      'a driver run that is not a string',
      () => ({ job, task: { ...task, driverRun: 7 } }),
      'task.driverRun must be a non-empty string (got 7)',
    ],
    [
      'a speculative flag that is false',
      () => ({ job, task: { ...task, speculative: false } }),
      'task.speculative must be true or absent (got false)',
    ],
    [
      'a store prefix that climbs out of the store',
      () => ({ job, storePrefix: 'jobs/../../etc/', task }),
      'storePrefix must be a relative folder such as jobs/x/store/ (got "jobs/../../etc/")',
    ],
    [
      'an absolute store prefix',
      () => ({ job, storePrefix: '/jobs/x/store/', task }),
      'storePrefix must be a relative folder',
    ],
  ];

  it.each(invalid)('refuses %s in one line naming the field', async (_, event, message) => {
    const worker = new WorkerRuntime({ storeUrl: `file://${dir}`, baseDir: fixturesDir });
    const error = await worker.handle(event()).then(
      () => undefined,
      (e: Error) => e,
    );
    // (Lambda answers a thrown error as a function error: its message and its stack as the trace)
    expect(error?.name).toBe('InvalidTaskEventError');
    expect(error?.message).toMatch(/^invalid task event: /);
    expect(error?.message).toContain(message);
    expect(error?.message).not.toContain('\n');
    expect(error?.stack).toBe(`InvalidTaskEventError: ${error?.message}`);
  });

  it('answers a task that fails in user code with the error and the op, without stack frames', async () => {
    // given the worker and a task whose partition function throws
    const worker = new WorkerRuntime({ storeUrl: `file://${dir}`, baseDir: fixturesDir });
    // when it runs the task
    const result = await worker.handle({ job, task });
    // then the answer is a failed result with the user's message and the op, and no frame of the engine
    expect(result).toMatchObject({
      ok: false,
      error: 'Error: the partition exploded',
      origin: 'streams.counts.ops[3] (mapPartitions)',
    });
  });

  it("drops V8's frames from an answer's error, and keeps a message's own indented lines", () => {
    const error = [
      'Error: the input is malformed',
      '  at row 3: bad date',
      '    at parse (/var/task/job.mjs:12:9)',
      '    at file:///var/task/job.mjs:20:3',
      '    at Array.map (<anonymous>)',
      '    at JSON.parse (native)',
      '    at async Promise.all (index 0)',
      '    ... 2 lines matching cause stack trace ...',
    ].join('\n');
    // (before, "  at row 3: bad date" went too: every indented line starting with "at" was taken for a frame)
    expect(withoutStackFrames(error)).toBe('Error: the input is malformed\n  at row 3: bad date');
  });

  it('accepts every task plan the engine makes: windows, state, joins and combining shuffles', async () => {
    // given the tasks of every shuffling operator table
    const module = new URL('../helpers/combiningCases.ts', import.meta.url).pathname;
    const tasks = await tasksOf(
      ...combiningTables.flatMap(({ table, name, batches }) =>
        // (combining: its merge stages, and the map and reduce stages every shuffle has)
        [
          [{ kind: 'module', path: module, exportName: `combining.${table}.${name}` }, batches] as Parameters<
            typeof runBatches
          >,
        ],
      ),
    );
    expect(tasks.some((t) => t.stage.shuffleMerge !== undefined)).toBe(true);
    expect(tasks.some((t) => t.stage.shuffleWrite !== undefined)).toBe(true);
    // then each, as a LambdaTaskRunner sends it, passes the worker's check
    for (const t of tasks) {
      expect(() =>
        parseWorkerEvent({ jobKey: 'job.json', storePrefix: 'jobs/x/store/', task: t }),
      ).not.toThrow();
    }
  });
});

describe("the worker's line for a task", () => {
  /** A job whose one batch is one task: the queue's records collected, in batches of 100 ms. */
  const collecting = {
    name: 'worker-line',
    batchIntervalMs: 100,
    sources: { lines: { type: 'queue', batches: [['a', 'b']], partitions: 1 } },
    outputs: [{ stream: 'lines', type: 'collectBatches' }],
  };
  const source = { kind: 'document', document: collecting, baseDir: dir } as const;

  it("carries the batch's date on the real clock, as the driver's lines name the batch", async () => {
    // given a batch the driver ran on the real clock, and one on the logical clock
    const [real] = await tasksOf([source, 1, { clock: 'system' }]);
    const [logical] = await tasksOf([source, 1]);
    // then the task of the first names its batch by stream time and date in UTC (see batchLogLabel), and the
    // other's, due at no date worth showing, by its stream time alone
    expect(real!.batchLabel).toMatch(/^100 ms \(\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{3} UTC\)$/);
    expect(logical!.batchLabel).toBeUndefined();
  });

  for (const [clock, batchLabel, named] of [
    ['real', '1000 ms (2026/11/30 21:40:03 UTC)', 'batch 1000 ms (2026/11/30 21:40:03 UTC)'],
    ['logical', undefined, 'batch 1000 ms'],
  ] as const) {
    it(`names the batch as the coordinator's lines do, on the ${clock} clock`, async () => {
      // given a task of records travelling in its plan, with the batch's label when the driver gave one
      const event = workerTaskEvent({
        job: 'line',
        jobVersion: jobVersion(collecting),
        action: { type: 'collect' },
        datasets: [{ id: 0, type: 'parallel', numPartitions: 1, deps: [], args: { data: ['a', 'b'] } }],
      });
      const lines: string[] = [];
      const log = new StderrLogger({ write: (text) => lines.push(text.trimEnd()) });
      const worker = new WorkerRuntime({ storeUrl: `file://${dir}`, baseDir: dir });
      // when a worker runs it
      const task = { ...event.task, ...(batchLabel ? { batchLabel } : {}) };
      expect(await worker.handle({ job: collecting, task }, log)).toMatchObject({ ok: true });
      // then its one line names the batch with its date where the driver's lines do, and the attempt as they do
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `^Task 0 of stage 0 of ${escapeRegExp(named)} done on attempt 1 in \\d+ ms: 2 records out$`,
        ),
      );
    });
  }
});

/** `text` as a regular expression that matches it literally. */
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('the worker event schema', () => {
  const defs = schema.$defs as Record<string, { properties: Record<string, { enum?: unknown[] }> }>;

  it("lists as dataset types exactly datasetTypes' keys", () => {
    expect(defs.dataset!.properties.type!.enum).toEqual(Object.keys(datasetTypes));
  });

  it('checks jobVersion with the pattern of isJobVersion', () => {
    const properties = schema.properties as Record<string, { pattern?: string }>;
    expect(properties.jobVersion!.pattern).toBe(JOB_VERSION_PATTERN);
    expect(isJobVersion(jobVersion(job))).toBe(true);
  });

  it('takes a merge stage, whose root is -1, and a speculative copy', () => {
    const merge = { ...task.stage, rootId: -1, datasets: [], shuffleMerge: { shuffleId: 0, groupSize: 2 } };
    expect(
      workerEventIssues({ jobKey: 'job.json', task: { ...task, stage: merge, speculative: true } }),
    ).toEqual([]);
  });
});

describe('a worker function error, as the coordinator reports it', () => {
  it('keeps the whole message on the first line, which the batch error keeps', async () => {
    // given a worker function that answers a function error whose message spans lines
    const body = {
      errorType: 'JobValidationError',
      errorMessage: 'invalid job:\n  name: is required',
      trace: ['JobValidationError: invalid job:', '    at validateJob (file:///var/task/index.mjs:1:2)'],
    };
    const client = {
      send: async () => ({
        FunctionError: 'Unhandled',
        Payload: new TextEncoder().encode(JSON.stringify(body)),
      }),
    } as unknown as LambdaClient;
    const runner = new LambdaTaskRunner({ client, functionName: 'worker', parallelism: 1 });
    // when a task runs on it
    const result = await runner.run(task);
    // then the first line of the failure says what is wrong, issues and all
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.split('\n')[0]).toBe(
      'worker worker failed (Unhandled): JobValidationError: invalid job: name: is required',
    );
  });
});
