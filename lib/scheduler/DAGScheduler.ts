import { parentPartitions } from '../dataset/Dependency';
import type { PersistenceTracker } from '../dataset/PersistenceTracker';
import { CacheMissError, FetchFailedError, type LostShuffleOutput, TaskFailedError } from '../errors';
import { type Logger, silentLogger } from '../log/Logger';
import type { JobPlan, MapStatus, StagePlan, TaskPlan, TaskResult } from '../plan/Plan';
import { groupStatuses, groupsToMerge, isStored } from '../shuffle/ShuffleMerger';
import type { BatchRun } from './BatchRun';
import type { LosingAttempts } from './LosingAttempts';
import { MapOutputTracker } from './MapOutputTracker';
import type { SpeculationPolicy } from './SpeculationPolicy';
import type { StageInfo, TaskInfo } from './StreamingListener';
import type { TaskRunner } from './TaskRunner';

/** Settings of the stage scheduler. */
export interface DAGSchedulerOptions {
  /** How many times a task is tried before its batch fails. Default 4, as Spark's spark.task.maxFailures. */
  readonly maxTaskAttempts?: number;
  /**
   * How many times a stage runs while it finds map outputs missing (recomputing them between runs) before its
   * batch fails. Default 4, as Spark's spark.stage.maxConsecutiveAttempts.
   */
  readonly maxStageAttempts?: number;
  /** When set, stragglers of the task runner's stages get speculative copies. Default: none. */
  readonly speculation?: SpeculationPolicy;
  /** Where retries and speculative copies are logged, each once with its cause. Default: nowhere. */
  readonly log?: Logger;
  /**
   * Where the attempts that lost to their copy (or whose copy lost) are tracked while they still run, so that
   * cleanup deletes what they write late (see `LosingAttempts`). Default: tracked nowhere.
   */
  readonly losers?: LosingAttempts;
}

type Succeeded = Extract<TaskResult, { ok: true }>;

/** A task's used result and the attempts it took. */
interface TaskOutcome {
  readonly result: Succeeded;
  readonly attempts: number;
}

/**
 * Runs a job plan (Spark's DAGScheduler, the running half): stages whose parents are done run at once, each
 * stage's tasks run in parallel on the runner, failed tasks are retried, and map outputs feed the next stage.
 *
 * A task that finds a map output missing from the store (`FetchFailedError`) is not retried, as in Spark: its
 * stage stops, the map task that wrote the output runs again (that partition only), and the stage runs again,
 * up to `maxStageAttempts` times. A rerun map task's result is used as any task's: its dead letters are those of
 * dataset partitions the batch has already given, so none is written twice (see `BatchRun.addDeadLetters`).
 */
export class DAGScheduler {
  private readonly maxTaskAttempts: number;
  private readonly maxStageAttempts: number;
  private readonly speculation: SpeculationPolicy | undefined;
  private readonly log: Logger;
  private readonly losers: LosingAttempts | undefined;

  constructor(
    private readonly runner: TaskRunner,
    private readonly driverRunner: TaskRunner,
    private readonly persistence: PersistenceTracker,
    options: DAGSchedulerOptions = {},
  ) {
    this.maxTaskAttempts = options.maxTaskAttempts ?? 4;
    this.maxStageAttempts = options.maxStageAttempts ?? 4;
    this.speculation = options.speculation;
    this.log = options.log ?? silentLogger;
    this.losers = options.losers;
  }

  /**
   * Runs every stage of the job and returns the result stage's per-partition results; the job is listed in
   * `batch` under output operation `outputOp`.
   */
  async runJob(plan: JobPlan, batch: BatchRun, outputOp = 0): Promise<unknown[]> {
    batch.planBytes += JSON.stringify(plan).length;
    const stages: StageInfo[] = [];
    const planningMs = batch.planningMsByJob.get(plan.jobId) ?? 0;
    batch.planningMsByJob.delete(plan.jobId);
    const listed = {
      jobId: plan.jobId,
      action: plan.action.type,
      planningMs: Math.round(planningMs * 10) / 10,
      stagesTotal: plan.stages.length,
      stages,
      outputOp,
    };
    batch.jobs.push(listed);
    const jobStarted = performance.now();
    const job: RunningJob = { plan, batch, outputs: new MapOutputTracker(), stageInfos: stages };
    const done = new Map<number, Promise<unknown[]>>();
    const runStage = (stage: StagePlan): Promise<unknown[]> => {
      let running = done.get(stage.stageId);
      if (!running) {
        running = (async () => {
          await Promise.all(stage.parentStageIds.map((id) => runStage(plan.stages[id]!)));
          return this.runStageRecomputing(job, stage);
        })();
        done.set(stage.stageId, running);
      }
      return running;
    };
    try {
      return await runStage(plan.stages[plan.resultStageId]!);
    } finally {
      // Listed at its start, in job order; its duration is known only now, failed or not.
      const durationMs = Math.round((performance.now() - jobStarted) * 10) / 10;
      batch.jobs[batch.jobs.indexOf(listed)] = { ...listed, durationMs };
    }
  }

  /**
   * Runs `stage` (only its tasks of `partitions`, when given), and again while a task finds a map output missing:
   * before each rerun, the map task that wrote the output runs again, itself recomputing what it finds missing.
   * After `maxStageAttempts` runs the batch fails with a `FetchFailedError` naming the output.
   */
  private async runStageRecomputing(
    job: RunningJob,
    stage: StagePlan,
    partitions?: readonly number[],
  ): Promise<unknown[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.runStage(job, stage, partitions);
      } catch (error) {
        if (!(error instanceof FetchFailures)) throw error;
        const found = new Map(error.failures.map((f) => [`${f.shuffleId}/${f.key}`, f]));
        const lost = [...found.values()].map((f) => job.outputs.lose(f.shuffleId, f.key) ?? f);
        if (attempt >= this.maxStageAttempts) throw new FetchFailedError(lost[0]!, attempt, stage.stageId);
        // Every output the stage's tasks found missing is recomputed before it runs again, as Spark does for an
        // executor's lost outputs: a stage found missing several outputs uses one attempt, not one each.
        const toRecompute = new Map<StagePlan, Set<number>>();
        for (const output of lost) {
          logRecompute(this.log, job.batch.logLabel, stage, output, attempt, this.maxStageAttempts);
          if (output.mapPartition === undefined) continue;
          const mapStage = job.plan.stages.find((s) => s.shuffleWrite?.shuffleId === output.shuffleId)!;
          toRecompute.set(mapStage, (toRecompute.get(mapStage) ?? new Set()).add(output.mapPartition));
        }
        await Promise.all(
          [...toRecompute].map(([mapStage, lostPartitions]) =>
            this.runStageRecomputing(job, mapStage, [...lostPartitions]),
          ),
        );
      }
    }
  }

  private async runStage(
    { plan, batch, outputs, stageInfos }: RunningJob,
    stage: StagePlan,
    only: readonly number[] | undefined,
  ): Promise<unknown[]> {
    const shuffleInputs: Record<number, MapStatus[]> = {};
    for (const id of stage.shuffleReads) shuffleInputs[id] = outputs.statuses(id);
    const runner = stage.runOn === 'driver' ? this.driverRunner : this.runner;
    batch.stages++;
    if (runner === this.driverRunner && runner !== this.runner) batch.driverStages++;
    const stageStarted = performance.now();
    // A merge stage runs only the groups worth merging, each with its group's statuses (see `ShuffleMerger`).
    const merge = stage.shuffleMerge;
    const partitions =
      only ??
      (merge
        ? groupsToMerge(merge, outputs.mapStatuses(merge.shuffleId))
        : Array.from({ length: stage.numPartitions }, (_, partition) => partition));
    const inputsOf = (partition: number) =>
      merge
        ? { [merge.shuffleId]: groupStatuses(merge, outputs.mapStatuses(merge.shuffleId), partition) }
        : forPartition(stage, shuffleInputs, partition);
    // Stages the driver must run have nowhere else to send a copy.
    const stragglers =
      this.speculation && runner === this.runner
        ? new StragglerWatch(this.speculation, runner, partitions.length, batch, this.log, this.losers)
        : undefined;
    let outcomes: TaskOutcome[];
    const running = partitions.map((partition) =>
      this.runTask(
        runner,
        { ...base(plan, stage, inputsOf(partition), batch, this.persistence.run), partition, attempt: 0 },
        batch,
        stragglers,
      ),
    );
    try {
      outcomes = await Promise.all(running);
    } catch (error) {
      if (!(error instanceof FetchFailures)) throw error;
      // The lost outputs are recomputed next, and the stage run again: no task of this run may still be reading
      // (an output being rewritten) or add its result after the rerun's. Those the other tasks found missing too
      // are recomputed with it.
      const settled = await Promise.allSettled(running);
      throw new FetchFailures(
        settled.flatMap((s) =>
          s.status === 'rejected' && s.reason instanceof FetchFailures ? s.reason.failures : [],
        ),
      );
    } finally {
      stragglers?.close();
    }
    const results = outcomes.map((o) => o.result);
    batch.storedMapOutputs += results.filter((r) => r.mapStatus && isStored(r.mapStatus)).length;
    const slowest = Math.max(0, ...results.map((r) => r.metrics.durationMs));
    const wallMs = performance.now() - stageStarted;
    batch.dispatchMs += Math.max(0, wallMs - slowest);
    stageInfos.push(stageInfo(stage, runner.name, wallMs, outcomes, stageInfos, stragglers));
    const statuses = new Map(results.map((r) => [r.partition, r.mapStatus!]));
    if (merge) outputs.setMerged(merge, statuses);
    if (stage.shuffleWrite) outputs.addMapOutputs(stage.shuffleWrite.shuffleId, statuses);
    return results.map((r) => r.result);
  }

  private async runTask(
    runner: TaskRunner,
    task: TaskPlan,
    batch: BatchRun,
    stragglers: StragglerWatch | undefined,
  ): Promise<TaskOutcome> {
    let last = '';
    let origin: string | undefined;
    let stream: string | undefined;
    for (let attempt = 0; attempt < this.maxTaskAttempts; attempt++) {
      batch.taskAttempts++;
      const result = stragglers
        ? await stragglers.run({ ...task, attempt })
        : await runner.run({ ...task, attempt });
      if (result.ok) {
        batch.tasks++;
        batch.shuffleBytes += result.metrics.shuffleBytesWritten;
        batch.storageRequests += result.metrics.storageRequests;
        batch.taskStorageMs += result.metrics.storageMs;
        batch.taskComputeMs += result.metrics.durationMs - result.metrics.storageMs;
        batch.addDeadLetters(
          { jobId: task.jobId, stageId: task.stage.stageId, partition: task.partition },
          result.deadLetters,
        );
        for (const p of result.persisted)
          this.persistence.record(p.key, p.partition, p.level, p.numPartitions);
        return { result, attempts: attempt + 1 };
      }
      if (result.cacheMiss) throw new CacheMissError(result.cacheMiss);
      // Not the task's fault: running it again would find the output missing again (see `runStageRecomputing`).
      if (result.fetchFailed) {
        const { shuffleId, keys } = result.fetchFailed;
        throw new FetchFailures(keys.map((key) => new FetchFailedError({ shuffleId, key })));
      }
      last = result.error;
      origin = result.origin ?? origin;
      stream = result.stream ?? stream;
      // The last failure is not logged here: it fails the batch, and the batch's failure names it.
      if (attempt + 1 < this.maxTaskAttempts)
        logRetry(this.log, task, batch.logLabel, attempt, this.maxTaskAttempts, result);
    }
    throw new TaskFailedError(
      task.stage.stageId,
      task.partition,
      this.maxTaskAttempts,
      last.split('\n')[0] ?? last,
      origin,
      stream,
    );
  }
}

/**
 * Watches one stage's tasks on the runner for stragglers: it times each attempt from the moment the runner
 * starts it, and whenever the policy's threshold is known (enough tasks finished), launches one copy of every
 * attempt running past it. Each attempt resolves with the first success of original and copy.
 *
 * A copy cannot duplicate anything: only the winner's result reaches the batch (its map status, dead letters,
 * persisted partitions and counts); the loser's map output goes to a key of its own that no status names
 * (`shuffleKey`); and what a result task writes (`saveAsTextFiles` parts, persisted blocks) is keyed by batch
 * and partition, so the loser writes the same complete object the winner did, or, where the store refuses a
 * second write, fails, which is ignored. Outputs that run in the driver (jsonl, print, foreachRDD) run once,
 * from the winner's result. The loser runs on (nothing can stop it); it is tracked in `losers` until it settles,
 * so that what it writes after its batch's cleanup is deleted again (see `LosingAttempts`).
 */
class StragglerWatch {
  /** Partitions that got a speculative copy, and those whose copy's result was the one used. */
  readonly copied = new Set<number>();
  readonly copyWon = new Set<number>();
  private readonly finishedMs: number[] = [];
  private readonly running = new Set<RunningAttempt>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly policy: SpeculationPolicy,
    private readonly runner: TaskRunner,
    private readonly numTasks: number,
    private readonly batch: BatchRun,
    private readonly log: Logger,
    private readonly losers: LosingAttempts | undefined,
  ) {}

  /** Runs one attempt; resolves with the first success of it and its copy, else the original's failure. */
  run(task: TaskPlan): Promise<TaskResult> {
    return new Promise((resolve) => {
      const attempt: RunningAttempt = {
        task,
        startedAt: undefined,
        copied: false,
        outstanding: 1,
        settled: false,
        cancelCopy: new AbortController(),
        resolve,
      };
      this.running.add(attempt);
      this.launch(attempt, task);
    });
  }

  /** Stops watching: the stage is over (done or failed). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const attempt of this.running) attempt.cancelCopy.abort();
    this.running.clear();
  }

  private launch(attempt: RunningAttempt, task: TaskPlan): void {
    const copy = task.speculative === true;
    let startedAt = performance.now();
    const onStarted = () => {
      startedAt = performance.now();
      if (!copy) {
        attempt.startedAt = startedAt;
        this.schedule();
      }
    };
    void this.runner.run(task, copy ? { signal: attempt.cancelCopy.signal, onStarted } : { onStarted }).then(
      (result) => this.settle(attempt, result, copy, performance.now() - startedAt),
      (error: unknown) =>
        // A runner reports failures as results; one that throws anyway is treated the same way.
        this.settle(
          attempt,
          { ok: false, stageId: task.stage.stageId, partition: task.partition, error: String(error) },
          copy,
          0,
        ),
    );
  }

  private settle(attempt: RunningAttempt, result: TaskResult, copy: boolean, durationMs: number): void {
    attempt.outstanding--;
    if (attempt.settled) {
      attempt.loserSettled?.();
      return;
    }
    if (!result.ok) {
      // A failed copy leaves the original running; a failed original waits for a copy still running, which is
      // a retry already under way.
      if (!copy) attempt.failure = result;
      if (attempt.outstanding > 0) return;
      result = attempt.failure ?? result;
    } else {
      this.finishedMs.push(durationMs);
      if (copy) {
        this.batch.speculativeWins++;
        this.copyWon.add(attempt.task.partition);
      }
    }
    attempt.settled = true;
    // The other attempt runs on, and writes what it writes whenever it ends.
    if (attempt.outstanding > 0)
      this.losers?.add(new Promise<void>((resolve) => (attempt.loserSettled = resolve)));
    attempt.cancelCopy.abort();
    this.running.delete(attempt);
    attempt.resolve(result);
    if (result.ok) this.schedule();
  }

  /** Launches the copies that are due, and sets a timer for the next attempt that could become due. */
  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    const threshold = this.policy.thresholdMs(this.finishedMs, this.numTasks);
    if (threshold === undefined) return;
    const now = performance.now();
    let nextDue = Number.POSITIVE_INFINITY;
    for (const attempt of this.running) {
      if (attempt.copied || attempt.startedAt === undefined) continue;
      const due = attempt.startedAt + threshold;
      if (due <= now) {
        attempt.copied = true;
        attempt.outstanding++;
        this.batch.speculativeTasks++;
        this.copied.add(attempt.task.partition);
        const { batchTime, stage, partition } = attempt.task;
        const runningMs = Math.round(now - attempt.startedAt);
        this.log.info(
          `Task ${partition} of stage ${stage.stageId} of batch ${this.batch.logLabel} has run ${runningMs} ms, past the ` +
            `straggler threshold of ${Math.round(threshold)} ms: launched a speculative copy`,
          { batchTime, stageId: stage.stageId, partition, runningMs, thresholdMs: Math.round(threshold) },
        );
        this.launch(attempt, { ...attempt.task, speculative: true });
      } else {
        nextDue = Math.min(nextDue, due);
      }
    }
    if (nextDue !== Number.POSITIVE_INFINITY) {
      this.timer = setTimeout(() => this.schedule(), Math.ceil(nextDue - now));
    }
  }
}

/** One attempt of a task under watch, with its copy once launched. */
interface RunningAttempt {
  readonly task: TaskPlan;
  /**
   * When the runner started the original, by `performance.now()`; undefined while it waits for a slot, and
   * for good on a runner that does not report starts (it gets no copies).
   */
  startedAt: number | undefined;
  copied: boolean;
  /** Original and copy still running. */
  outstanding: number;
  settled: boolean;
  failure?: Extract<TaskResult, { ok: false }>;
  /** Set once the attempt is settled while the other one runs on: called when that one settles too. */
  loserSettled?: () => void;
  /** Drops the copy if it has not started when the attempt is settled. */
  readonly cancelCopy: AbortController;
  readonly resolve: (result: TaskResult) => void;
}

/** The map outputs the tasks of one run of a stage found missing (`runStageRecomputing` handles it). */
class FetchFailures extends Error {
  constructor(readonly failures: readonly FetchFailedError[]) {
    super(failures.map((f) => f.message).join('; '));
  }
}

/** What the stages of one job share while it runs. */
interface RunningJob {
  readonly plan: JobPlan;
  readonly batch: BatchRun;
  readonly outputs: MapOutputTracker;
  readonly stageInfos: StageInfo[];
}

/** One line for a stage that found a map output missing and runs again once it is recomputed. */
function logRecompute(
  log: Logger,
  batchLabel: string,
  stage: StagePlan,
  lost: LostShuffleOutput,
  attempt: number,
  maxAttempts: number,
): void {
  const { shuffleId, key, mapPartition, mergeGroup } = lost;
  const how =
    mapPartition !== undefined
      ? `recomputing map partition ${mapPartition}`
      : mergeGroup !== undefined
        ? `reading merge group ${mergeGroup}'s map outputs instead`
        : 'no task of this job wrote it';
  log.warn(
    `Stage ${stage.stageId} of batch ${batchLabel} found map output ${key} of shuffle ${shuffleId} missing from the ` +
      `store on attempt ${attempt} of ${maxAttempts}; ${how}, then running the stage again`,
    { stageId: stage.stageId, shuffleId, key, attempt, maxAttempts },
  );
}

/** One line for a failed attempt that will be retried: which task, which attempt, and why it failed. */
function logRetry(
  log: Logger,
  task: TaskPlan,
  batchLabel: string,
  attempt: number,
  maxAttempts: number,
  failure: Extract<TaskResult, { ok: false }>,
): void {
  const { batchTime, stage, partition } = task;
  // The first line says what failed; a stack trace would make one event many lines.
  const error = failure.error.split('\n')[0] ?? failure.error;
  log.warn(
    `Task ${partition} of stage ${stage.stageId} of batch ${batchLabel} failed on attempt ${attempt + 1} of ` +
      `${maxAttempts}${failure.origin ? ` in ${failure.origin}` : ''}; retrying: ${error}`,
    {
      batchTime,
      stageId: stage.stageId,
      partition,
      attempt: attempt + 1,
      maxAttempts,
      error,
      ...(failure.origin ? { op: failure.origin } : {}),
    },
  );
}

/** What a finished stage did, from its tasks' used results; records in are what its parent stages wrote. */
function stageInfo(
  stage: StagePlan,
  ranOn: string,
  durationMs: number,
  outcomes: readonly TaskOutcome[],
  earlier: readonly StageInfo[],
  stragglers: StragglerWatch | undefined,
): StageInfo {
  const sum = (f: (m: Succeeded['metrics']) => number) =>
    outcomes.reduce((n, o) => n + f(o.result.metrics), 0);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  const parents = earlier.filter((s) => stage.parentStageIds.includes(s.stageId));
  const tasks = outcomes.map(({ result, attempts }): TaskInfo => {
    const speculative = stragglers?.copyWon.has(result.partition)
      ? 'won'
      : stragglers?.copied.has(result.partition)
        ? 'launched'
        : undefined;
    return {
      partition: result.partition,
      durationMs: round(result.metrics.durationMs),
      attempts,
      ...(speculative ? { speculative } : {}),
    };
  });
  return {
    stageId: stage.stageId,
    description: stage.shuffleMerge ? 'shuffle merge' : stage.datasets.map((d) => d.type).join(' → '),
    ranOn,
    durationMs: round(durationMs),
    ...(parents.length > 0 ? { recordsIn: parents.reduce((n, s) => n + s.recordsOut, 0) } : {}),
    recordsOut: sum((m) => m.recordsOut),
    shuffleBytesRead: sum((m) => m.shuffleBytesRead),
    shuffleBytesWritten: sum((m) => m.shuffleBytesWritten),
    storageRequests: sum((m) => m.storageRequests),
    computeMs: round(sum((m) => m.durationMs - m.storageMs)),
    storageMs: round(sum((m) => m.storageMs)),
    tasks,
  };
}

/**
 * The map statuses a task needs, with inline map outputs cut down to the reduce partitions it reads: the
 * task's partition, followed through narrow dependencies (a union shifts it, a coalesce or a cartesian product
 * reads several) down to each shuffle.
 */
function forPartition(
  stage: StagePlan,
  inputs: Record<number, MapStatus[]>,
  partition: number,
): Record<number, MapStatus[]> {
  const needed = reducePartitionsRead(stage, partition);
  const out: Record<number, MapStatus[]> = {};
  for (const [id, statuses] of Object.entries(inputs)) {
    const keep = needed.get(Number(id)) ?? new Set<number>();
    out[Number(id)] = statuses.map((s) => {
      if (!s.inline) return s;
      const inline: Record<number, string> = {};
      for (const r of keep) if (s.inline[r] !== undefined) inline[r] = s.inline[r]!;
      return { ...s, inline };
    });
  }
  return out;
}

/** For one task, the reduce partitions it reads of each shuffle. */
function reducePartitionsRead(stage: StagePlan, partition: number): Map<number, Set<number>> {
  const byId = new Map(stage.datasets.map((d) => [d.id, d]));
  const needed = new Map<number, Set<number>>();
  const stack: Array<[number, number]> = [[stage.rootId, partition]];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const [id, p] = stack.pop()!;
    if (seen.has(`${id}:${p}`)) continue;
    seen.add(`${id}:${p}`);
    for (const dep of byId.get(id)?.deps ?? []) {
      if (dep.type === 'shuffle') {
        let set = needed.get(dep.shuffleId);
        if (!set) {
          set = new Set();
          needed.set(dep.shuffleId, set);
        }
        set.add(p);
      } else {
        for (const parentPartition of parentPartitions(dep, p)) stack.push([dep.parent, parentPartition]);
      }
    }
  }
  return needed;
}

function base(
  plan: JobPlan,
  stage: StagePlan,
  shuffleInputs: Record<number, MapStatus[]>,
  batch: BatchRun,
  driverRun: string,
) {
  const evictBefore = batch.evictBefore();
  return {
    jobId: plan.jobId,
    batchTime: plan.batchTime,
    ...(evictBefore < plan.batchTime ? { evictBefore } : {}),
    driverRun,
    ...(batch.logLabel !== `${plan.batchTime} ms` ? { batchLabel: batch.logLabel } : {}),
    stage,
    shuffleInputs,
    ...(stage.stageId === plan.resultStageId ? { action: plan.action } : {}),
  };
}
