import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { type NamedValue, withNonFiniteNumbers } from '../dataset/jsonNumber';
import type { TaskPlan, TaskResult } from '../plan/Plan';
import { Slots } from '../scheduler/Slots';
import type { TaskControl, TaskRunner } from '../scheduler/TaskRunner';
import type { BlockStore } from '../storage/BlockStore';
import type { WorkerJobRef } from './WorkerRuntime';

/** Settings of a `LambdaTaskRunner`. */
export interface LambdaTaskRunnerOptions {
  /** The Lambda client (AWS, or a local host such as `LambdaHost`). */
  readonly client: LambdaClient;
  /** The worker function's name or ARN. */
  readonly functionName: string;
  /**
   * Invocations in flight at most, speculative copies included (the DAG scheduler launches those, see
   * `SpeculationPolicy`; a copy still waiting for a slot when its original wins is dropped).
   */
  readonly parallelism: number;
  /**
   * Which job the tasks belong to, sent with every task so the worker can rebuild the graph: `{ jobKey }` (a
   * key in the worker's store; small payloads) or `{ job }` (the document itself), with an optional
   * `storePrefix`. `functions/worker.ts` refuses tasks without it. Default: none.
   */
  readonly job?: WorkerJobRef;
  /** Where a worker put results too large for a Lambda response (the worker's store). Default: none. */
  readonly spillStore?: BlockStore;
  /** Takes the input reports a successful task's answer carries (see `TaskReports`). Default: they are dropped. */
  readonly onReports?: (reports: Readonly<Record<string, string>>) => void;
}

type Failed = Extract<TaskResult, { ok: false }>;

/** What the tasks of one batch used of the worker function. */
export interface BatchInvocations {
  /** Invocations sent, speculative copies and retries included. */
  invokes: number;
  /** Their wall time, summed, in ms (see `LambdaTaskRunner.invokeMs`). */
  invokeMs: number;
  /** Storage requests their tasks reported, summed. */
  workerStorageRequests: number;
}

/** Batches whose usage was taken, remembered so that a straggling attempt's late figures are not kept for ever. */
const TAKEN_BATCHES_KEPT = 1000;

/**
 * Runs each task as one synchronous invocation of the worker function, its payload the task plan (plus which
 * job it belongs to), at most `parallelism` at once. Every failure, of the function or of the call, comes back
 * as a failed result for the DAG scheduler to retry.
 *
 * @example
 * const runner = new LambdaTaskRunner({ client, functionName: 'sluice-worker', parallelism: 16,
 *   job: { jobKey: 'job.json' }, spillStore: store });
 * ssc.connect({ ...env, runner });
 */
export class LambdaTaskRunner implements TaskRunner {
  readonly name = 'lambda';
  readonly parallelism: number;
  /** Invocations sent so far, speculative copies included. */
  invokes = 0;
  /**
   * Wall time of those invocations, summed, in ms: what Lambda bills as duration, plus the round trip (so a
   * little more, the safe side for the cost report).
   */
  invokeMs = 0;
  /** Storage requests the workers' tasks reported, summed (failed attempts report none). */
  workerStorageRequests = 0;
  /**
   * The same three counts per batch, by the batch time the tasks carry: batches overlap (`concurrentJobs`, or a
   * batch completing while the next one's tasks run), so a difference of the totals between two completions
   * would give one batch the other's invocations.
   */
  private readonly byBatch = new Map<number, BatchInvocations>();
  /** Batches already taken; what their attempts still add goes to {@link late}. */
  private readonly taken = new Set<number>();
  private late: BatchInvocations = noInvocations();
  private readonly slots: Slots;
  private readonly inFlight = new Set<AbortController>();
  private closed = false;

  constructor(private readonly options: LambdaTaskRunnerOptions) {
    const { parallelism, functionName } = options;
    if (!Number.isInteger(parallelism) || parallelism < 1) {
      throw new RangeError(`parallelism must be a positive whole number of invocations, got ${parallelism}`);
    }
    if (!functionName)
      throw new RangeError('functionName must name the worker function, got an empty string');
    this.parallelism = parallelism;
    this.slots = new Slots(parallelism);
  }

  run(task: TaskPlan, control?: TaskControl): Promise<TaskResult> {
    if (task.stage.runOn === 'driver') {
      // Reported up front instead of failing inside the worker, which cannot see the driver's functions.
      return Promise.resolve(
        failed(
          task,
          `stage ${task.stage.stageId} uses functions that exist only in the driver: run it there`,
        ),
      );
    }
    return this.attempt(task, control);
  }

  /**
   * What the tasks of `batchTime` used, for its cost report, taken once as the batch completes. An attempt that
   * ends after that (the losing copy of a straggler) adds its time to the next batch taken: counted once, late.
   */
  takeBatchUsage(batchTime: number): BatchInvocations {
    const own = this.byBatch.get(batchTime) ?? noInvocations();
    this.byBatch.delete(batchTime);
    const usage = {
      invokes: own.invokes + this.late.invokes,
      invokeMs: own.invokeMs + this.late.invokeMs,
      workerStorageRequests: own.workerStorageRequests + this.late.workerStorageRequests,
    };
    this.late = noInvocations();
    this.taken.add(batchTime);
    if (this.taken.size > TAKEN_BATCHES_KEPT) this.taken.delete(this.taken.values().next().value!);
    return usage;
  }

  /** The counts `batchTime`'s attempts add to: its own, or the late ones once the batch was taken. */
  private usageOf(batchTime: number): BatchInvocations {
    if (this.taken.has(batchTime)) return this.late;
    let usage = this.byBatch.get(batchTime);
    if (!usage) {
      usage = noInvocations();
      this.byBatch.set(batchTime, usage);
    }
    return usage;
  }

  /** Stops sending: queued tasks and in-flight calls end as failed results. The client stays open (the caller's). */
  async close(): Promise<void> {
    this.closed = true;
    this.slots.close();
    for (const call of this.inFlight) call.abort();
  }

  /** One invocation, once a slot is free; the control learns when it is sent, and may cancel it before. */
  private async attempt(task: TaskPlan, control?: TaskControl): Promise<TaskResult> {
    await this.slots.acquire();
    try {
      if (this.closed) return failed(task, 'the Lambda task runner is closed');
      if (control?.signal?.aborted) return failed(task, 'no longer needed: another attempt won');
      control?.onStarted?.();
      return await this.invoke(task);
    } finally {
      this.slots.release();
    }
  }

  private async invoke(task: TaskPlan): Promise<TaskResult> {
    const { client, functionName, job } = this.options;
    const call = new AbortController();
    this.inFlight.add(call);
    this.invokes++;
    this.usageOf(task.batchTime).invokes++;
    let text: string;
    let functionError: string | undefined;
    const sentAt = performance.now();
    try {
      const out = await client.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify({ ...job, task })),
        }),
        { abortSignal: call.signal },
      );
      text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
      functionError = out.FunctionError;
    } catch (error) {
      const e = error as Error;
      return failed(task, `invoking ${functionName} failed: ${e.name}: ${e.message}`);
    } finally {
      this.inFlight.delete(call);
      const ms = performance.now() - sentAt;
      this.invokeMs += ms;
      // Looked up again: the batch may have been taken while the call ran.
      this.usageOf(task.batchTime).invokeMs += ms;
    }
    if (functionError !== undefined)
      return failed(task, describeFunctionError(functionName, functionError, text));
    return this.resultOf(task, text);
  }

  /** The task result in a worker's answer, read back from the spill store when the worker spilled it. */
  private async resultOf(task: TaskPlan, text: string): Promise<TaskResult> {
    let answer: unknown;
    try {
      answer = JSON.parse(text);
      const spilled = (answer as { spilled?: unknown } | null)?.spilled;
      if (typeof spilled === 'string') answer = await this.readSpilled(spilled);
    } catch (error) {
      return failed(task, `the worker's answer could not be read: ${(error as Error).message}`);
    }
    const result = answer as Partial<TaskResult> | null;
    if (
      typeof result?.ok !== 'boolean' ||
      result.stageId !== task.stage.stageId ||
      result.partition !== task.partition
    ) {
      return failed(
        task,
        `the worker answered something that is not this task's result: ${text.slice(0, 200)}`,
      );
    }
    const metrics = (result as { metrics?: { storageRequests?: unknown } }).metrics;
    if (typeof metrics?.storageRequests === 'number') {
      this.workerStorageRequests += metrics.storageRequests;
      this.usageOf(task.batchTime).workerStorageRequests += metrics.storageRequests;
    }
    const {
      reports,
      namedValues: named,
      nonFiniteNumbers,
      ...taskResult
    } = result as TaskResult & {
      reports?: Record<string, string>;
      namedValues?: NamedValue[];
      nonFiniteNumbers?: NamedValue[];
    };
    // `nonFiniteNumbers`: a worker of the version before, which named only Infinity and NaN so, still answering
    // while a deploy replaces it.
    const namedValues = named ?? nonFiniteNumbers;
    if (result.ok && reports !== undefined) this.options.onReports?.(reports);
    // The Infinity, NaN, undefined, Dates, Maps, Sets and BigInts of the records, which JSON carried as something
    // else (see `WorkerRuntime`), back in place.
    if (taskResult.ok && namedValues !== undefined) {
      return { ...taskResult, result: withNonFiniteNumbers(taskResult.result, namedValues) };
    }
    return taskResult as TaskResult;
  }

  private async readSpilled(key: string): Promise<unknown> {
    const store = this.options.spillStore;
    if (!store)
      throw new Error(`the worker spilled its result to ${key}, but this runner was given no spillStore`);
    const bytes = await store.get(key);
    if (!bytes) throw new Error(`the spilled result ${key} is not in the spill store`);
    const result: unknown = JSON.parse(new TextDecoder().decode(bytes));
    // Best effort: a leftover spill file costs storage, not correctness.
    await store.deletePrefix(key).catch(() => {});
    return result;
  }
}

function noInvocations(): BatchInvocations {
  return { invokes: 0, invokeMs: 0, workerStorageRequests: 0 };
}

function failed(task: TaskPlan, error: string): Failed {
  return { ok: false, stageId: task.stage.stageId, partition: task.partition, error };
}

/**
 * A function error's first line says what failed, the whole message (the batch's error keeps only the first line,
 * and an error such as `invalid job:` lists its issues on the lines that follow); the trace follows for the logs.
 */
function describeFunctionError(functionName: string, kind: string, body: string): string {
  try {
    const { errorType, errorMessage, trace } = JSON.parse(body) as {
      errorType?: string;
      errorMessage?: string;
      trace?: unknown;
    };
    const stack = Array.isArray(trace) ? `\n${trace.join('\n')}` : '';
    const message = (errorMessage ?? body)
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .join(' ');
    return `worker ${functionName} failed (${kind}): ${errorType ?? 'Error'}: ${message}${stack}`;
  } catch {
    return `worker ${functionName} failed (${kind}): ${body.slice(0, 500)}`;
  }
}
