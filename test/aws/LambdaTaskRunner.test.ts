import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaTaskRunner, type LambdaTaskRunnerOptions } from '../../lib/aws/LambdaTaskRunner';
import type { DeadLetter } from '../../lib/dataset/TaskContext';
import { LambdaHost } from '../../lib/devhost/LambdaHost';
import type { OutputEvent } from '../../lib/dstream/DStreamOps';
import { contextFromSource, type JobSource } from '../../lib/job/JobSource';
import { runBatches } from '../../lib/local/LocalRuntime';
import { localExecutorEnv } from '../../lib/local/localExecutorEnv';
import { LogicalClock } from '../../lib/scheduler/Clock';
import { InProcessRunner } from '../../lib/scheduler/InProcessRunner';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';
import type { TaskRunner } from '../../lib/scheduler/TaskRunner';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { hostLambdaClient } from '../helpers/hostLambdaClient';
import { failingJob, fixturesDir, userFunctionsJob } from '../job/fixtures/jobs';

/** A JSON job with shuffles, a user functions module, a static-file join and a dead letter. */
const job = userFunctionsJob('lambda-runner', {
  lines: { type: 'queue', batches: [['a b #X', 'b #y #x'], ['c', 7], []] },
  tweets: {
    type: 'queue',
    batches: [
      [
        { user: 'u1', text: 'hi #A' },
        { user: 'spammer1', text: 'buy #B' },
      ],
      [{ user: 'u2', text: 'yo' }],
      [],
    ],
  },
});
const source: JobSource = { kind: 'document', document: job, baseDir: fixturesDir };
const BATCHES = 3;

interface JobRun {
  /** Each output's batches, records in a stable order. */
  readonly outputs: Record<string, unknown[][]>;
  readonly batches: readonly BatchInfo[];
  readonly deadLetters: readonly string[];
  readonly error?: Error;
}

/** Output batches keyed by output, each batch sorted: partitioning may order records differently. */
function tables(events: readonly OutputEvent[]): Record<string, unknown[][]> {
  const byOutput: Record<string, unknown[][]> = {};
  for (const e of events) {
    const batches = byOutput[e.output] ?? [];
    byOutput[e.output] = batches;
    batches.push([...e.records].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)));
  }
  return byOutput;
}

const letters = (all: readonly DeadLetter[]) => all.map((l) => `${l.fn}: ${l.error}`).sort();

/** How a run is set up besides its runner. */
interface RunSetup {
  /** Stragglers get speculative copies, as on the coordinator. Default false. */
  readonly speculation?: boolean;
  /** Called as each batch completes. */
  readonly onBatch?: (info: BatchInfo) => void;
  /** Another job than the end-to-end one. */
  readonly source?: JobSource;
  /** Batches to run. Default 3. */
  readonly batches?: number;
}

/** Runs the job's batches on the logical clock with `runner` for tasks, storing blocks in `storeDir`. */
async function runOn(runner: TaskRunner, storeDir: string, setup: RunSetup = {}): Promise<JobRun> {
  const ssc = await contextFromSource(setup.source ?? source);
  const store = new LocalFolderStore(storeDir);
  const dirs = { storeDir, outputDir: storeDir, baseDir: fixturesDir };
  const driverRunner = new InProcessRunner(localExecutorEnv(dirs, ssc.functions));
  ssc.connect({
    store,
    outputs: store,
    runner,
    driverRunner,
    speculationByDefault: setup.speculation === true,
    print: () => {},
    appendJsonl: async () => {},
    outputPositions: async () => ({}),
    restoreOutputPositions: async () => {},
  });
  const events: OutputEvent[] = [];
  const deadLetters: DeadLetter[] = [];
  ssc.addListener({
    onOutput: (e) => events.push(e),
    onDeadLetters: (l) => deadLetters.push(...l),
    ...(setup.onBatch ? { onBatchCompleted: setup.onBatch } : {}),
  });
  const sources = ssc.graph.inputs.map((i) => i.source);
  for (const s of sources) await s.start?.({ intervalMs: ssc.batchIntervalMs, logicalClock: true });
  try {
    const summary = await new JobScheduler(ssc, new LogicalClock(), { name: String(job.name) }).run({
      batches: setup.batches ?? BATCHES,
    });
    return {
      outputs: tables(events),
      batches: summary.batches,
      deadLetters: letters(deadLetters),
      ...(summary.error ? { error: summary.error } : {}),
    };
  } finally {
    await Promise.all(sources.map((s) => s.stop?.()));
    await runner.close();
  }
}

const tasksOf = (run: JobRun) => run.batches.reduce((n, b) => n + b.tasks, 0);
const attemptsOf = (run: JobRun) => run.batches.reduce((n, b) => n + b.taskAttempts, 0);

describe('LambdaTaskRunner through a local Lambda host and functions/worker.ts', () => {
  let host: LambdaHost;
  let lambda: LambdaClient;
  let storeDir: string;
  let stragglerDir: string;
  let expected: JobRun;
  let runs = 0;

  /** A runner on `functionName`, on a store folder of its own (a storePrefix of the worker's store). */
  function runnerFor(
    functionName: string,
    options: Partial<LambdaTaskRunnerOptions> = {},
    document: Record<string, unknown> = job,
  ) {
    const storePrefix = `run-${++runs}/`;
    const store = new LocalFolderStore(join(storeDir, storePrefix));
    const runner = new LambdaTaskRunner({
      client: lambda,
      functionName,
      parallelism: 4,
      job: { job: document, storePrefix },
      spillStore: store,
      ...options,
    });
    return { runner, store, dir: store.root, storePrefix };
  }

  beforeAll(async () => {
    storeDir = await mkdtemp(join(tmpdir(), 'sluice-lambda-runner-'));
    stragglerDir = await mkdtemp(join(tmpdir(), 'sluice-straggler-'));
    const env = { SLUICE_STORE: pathToFileURL(storeDir).href, SLUICE_BASE_DIR: fixturesDir };
    const worker = new URL('../../functions/worker.ts', import.meta.url).pathname;
    const flaky = new URL('./fixtures/flakyWorker.ts', import.meta.url).pathname;
    const straggler = new URL('./fixtures/stragglerWorker.ts', import.meta.url).pathname;
    const timeoutMs = 30_000;
    host = await LambdaHost.start({
      functions: {
        worker: { module: worker, env, timeoutMs },
        spilling: { module: worker, env: { ...env, SLUICE_SPILL_BYTES: '0' }, timeoutMs },
        throwsOnce: { module: flaky, env: { ...env, FLAKY: 'throw' }, timeoutMs },
        crashesOnce: { module: flaky, env: { ...env, FLAKY: 'crash' }, timeoutMs },
        straggler: { module: straggler, env: { ...env, STRAGGLER_DIR: stragglerDir }, timeoutMs },
      },
      output: () => {},
    });
    lambda = hostLambdaClient(host.url);
    const inProcess = await runBatches(source, BATCHES, { workers: 0 });
    expected = {
      outputs: tables(inProcess.outputs),
      batches: inProcess.batches,
      deadLetters: letters(inProcess.deadLetters),
    };
  });

  afterAll(async () => {
    lambda?.destroy();
    await host?.stop();
    await rm(storeDir, { recursive: true, force: true });
    await rm(stragglerDir, { recursive: true, force: true });
  });

  it('produces the same batches as the in-process runner, one invocation per task', async () => {
    // given the job, run in-process, and a runner on the worker function
    expect(expected.outputs.words?.length).toBe(BATCHES);
    const { runner, dir } = runnerFor('worker');
    // when the same batches run through Lambda
    const run = await runOn(runner, dir);
    // then every output batch and dead letter is the same
    expect(run.error).toBeUndefined();
    expect(run.outputs).toEqual(expected.outputs);
    expect(run.deadLetters).toEqual(expected.deadLetters);
    expect(run.deadLetters.some((l) => l.includes('splitWords expects a string, got 7'))).toBe(true);
    expect(runner.invokes).toBe(tasksOf(run));
  });

  it('gives the same batches with every shuffle stored and combined, the merge tasks on Lambda too', async () => {
    // given the job with the combining shuffle forced on, and a runner on the worker function
    const combining = { ...job, shuffle: { combine: 'always', inlineMaxBytes: 0 } };
    const { runner, dir } = runnerFor('worker', {}, combining);
    // when the same batches run through Lambda
    const run = await runOn(runner, dir, {
      source: { kind: 'document', document: combining, baseDir: fixturesDir },
    });
    // then every output batch and dead letter is the in-process direct run's, and merge tasks ran besides
    expect(run.error).toBeUndefined();
    expect(run.outputs).toEqual(expected.outputs);
    expect(run.deadLetters).toEqual(expected.deadLetters);
    expect(tasksOf(run)).toBeGreaterThan(tasksOf(expected));
    expect(runner.invokes).toBe(tasksOf(run));
  });

  it('detects a wrong answer: the comparison fails when one record differs', async () => {
    // given the expected outputs with one count changed
    const wrong = structuredClone(expected.outputs);
    (wrong.words![0]![0] as [string, number])[1] += 1;
    // when compared with a correct run's outputs
    // then they differ
    expect(wrong).not.toEqual(expected.outputs);
  });

  it('builds the graph from a job document stored under jobKey', async () => {
    // given the job document in the store, and a runner that names it by key
    const { store, dir, storePrefix } = runnerFor('worker');
    await store.put('job.json', JSON.stringify(job));
    const runner = new LambdaTaskRunner({
      client: lambda,
      functionName: 'worker',
      parallelism: 2,
      job: { jobKey: 'job.json', storePrefix },
    });
    // when the batches run
    const run = await runOn(runner, dir);
    // then they are the same as in-process
    expect(run.error).toBeUndefined();
    expect(run.outputs).toEqual(expected.outputs);
  });

  it('retries a task whose invocation failed with a FunctionError', async () => {
    // given a worker that fails the first attempt of every task
    const { runner, dir } = runnerFor('throwsOnce');
    // when the batches run
    const run = await runOn(runner, dir);
    // then every task ran twice and the answers are still right
    expect(run.error).toBeUndefined();
    expect(run.outputs).toEqual(expected.outputs);
    expect(attemptsOf(run)).toBe(2 * tasksOf(run));
    expect(runner.invokes).toBe(2 * tasksOf(run));
  });

  it('retries the tasks of a worker process that crashed, on its replacement', async () => {
    // given a worker whose process kills itself on a first attempt
    const { runner, dir } = runnerFor('crashesOnce');
    // when the batches run
    const run = await runOn(runner, dir);
    // then the failed tasks were retried and the answers are right
    expect(run.error).toBeUndefined();
    expect(run.outputs).toEqual(expected.outputs);
    expect(attemptsOf(run)).toBeGreaterThan(tasksOf(run));
  });

  it('reads back results the worker spilled to the store, and removes them', async () => {
    // given a worker that spills every result
    const { runner, dir, store } = runnerFor('spilling');
    // when the batches run with the worker's store as spill store
    const run = await runOn(runner, dir);
    // then the results are the same, and no spill file is left behind
    expect(run.error).toBeUndefined();
    expect(run.outputs).toEqual(expected.outputs);
    expect(await store.list('spill/')).toEqual([]);
  });

  it('fails a spilled result it cannot read, saying why', async () => {
    // given a runner without a spill store, on a worker that spills
    const { runner, dir } = runnerFor('spilling', { spillStore: undefined });
    // when the batches run
    const run = await runOn(runner, dir);
    // then the batch fails and says what is missing
    expect(run.error?.message).toContain('no spillStore');
  });

  it('copies a straggling task and finishes the batch with the copy, while the straggler still runs', async () => {
    // given a worker whose first attempt of one task of the first stage hangs until the test releases it
    const { runner, dir } = runnerFor('straggler');
    const atFirstBatch = { started: false, finished: false };
    const release = (info: BatchInfo) => {
      if (info.batchTime !== 1000) return;
      atFirstBatch.started = existsSync(join(stragglerDir, 'started'));
      atFirstBatch.finished = existsSync(join(stragglerDir, 'finished'));
      // Only now may the straggler answer: the batch cannot have waited for it.
      void writeFile(join(stragglerDir, 'release'), '');
    };
    // when the batches run with speculation on, as the coordinator runs them
    const run = await runOn(runner, dir, { speculation: true, onBatch: release });
    // then the straggler was copied, the copy's result was the one used, and the answers are right
    expect(run.error).toBeUndefined();
    expect(run.outputs).toEqual(expected.outputs);
    const first = run.batches[0]!;
    // (at least: on a loaded machine another task may also run past the threshold and be copied)
    expect(first.speculativeTasks).toBeGreaterThanOrEqual(1);
    expect(first.speculativeWins).toBeGreaterThanOrEqual(1);
    // and the first batch completed while the straggler was still running
    expect(atFirstBatch).toEqual({ started: true, finished: false });
    // and no task was retried: the copy is not a failure
    expect(attemptsOf(run)).toBe(tasksOf(run));
  });

  it('names the op and JSON path that failed in the batch error, as the worker reported it', async () => {
    // given a job whose streams.counts.ops[3] throws, sent with every task to the worker function
    const failing = failingJob('failing-on-lambda');
    const { dir, storePrefix } = runnerFor('worker');
    const runner = new LambdaTaskRunner({
      client: lambda,
      functionName: 'worker',
      parallelism: 2,
      job: { job: failing, storePrefix },
    });
    // when its batch runs through Lambda
    const run = await runOn(runner, dir, {
      source: { kind: 'document', document: failing, baseDir: fixturesDir },
      batches: 1,
    });
    // then the batch's error (what the metrics line and the status event carry) names the op first
    expect(run.batches[0]?.error).toMatch(
      /^streams\.counts\.ops\[3\] \(mapPartitions\): task \d+ of stage \d+ failed 2 time\(s\); last error: Error: the partition exploded$/,
    );
  });

  it('rejects a malformed event at the edge with a clear error', async () => {
    // given an event whose task has no partition
    const event = { job, task: { jobId: 0, batchTime: 1000, attempt: 0, stage: {}, shuffleInputs: {} } };
    // when the worker is invoked with it
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: 'worker', Payload: JSON.stringify(event) }),
    );
    // then it is a function error naming the field, in one line, with no stack frame in its trace
    expect(out.FunctionError).toBe('Unhandled');
    const error = JSON.parse(new TextDecoder().decode(out.Payload));
    expect(error.errorType).toBe('InvalidTaskEventError');
    expect(error.errorMessage).toBe(
      'invalid task event: task.partition is missing: it must be a whole number; task.stage.stageId is missing: it must be a whole number; task.stage.numPartitions is missing: it must be a whole number; task.stage.rootId must be an integer; task.stage.datasets must be an array of dataset specs',
    );
    expect(error.trace).toEqual([`InvalidTaskEventError: ${error.errorMessage}`]);
  });
});
