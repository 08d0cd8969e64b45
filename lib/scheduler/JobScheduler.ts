import { batchTimeOfPersistKey, streamOfPersistKey } from '../dataset/StorageLevel';
import type { DeadLetter } from '../dataset/TaskContext';
import { TaskFailedError } from '../errors';
import { type Logger, silentLogger } from '../log/Logger';
import type { StreamingContext } from '../StreamingContext';
import { deleteLeftovers } from '../storage/deleteLeftovers';
import { markEmptyPartitions } from '../storage/SegmentedBlob';
import { BatchRun, type OutputJob, runInOutputJob } from './BatchRun';
import { batchLogLabel } from './batchDateLabel';
import { type CheckpointData, type InputBlockInfo, METADATA_KEY } from './CheckpointData';
import type { Clock } from './Clock';
import { crashPoint } from './crashPoint';
import { DeadLetterLedger } from './DeadLetterLedger';
import { RedundantCheckpoints } from './RedundantCheckpoints';
import { Slots } from './Slots';
import type { BatchInfo, OutputOpInfo } from './StreamingListener';

/** When a run stops. */
export interface RunLimits {
  /** Stop after the batch at this position: batch N is at N × interval of stream time. */
  readonly batches?: number;
  /** Stop after the batch at or past this many milliseconds of stream time. */
  readonly durationMs?: number;
}

/**
 * The most batches a run may be limited to (`--batches`, a start event's `batches`): a billion, over 31 years of 1 s
 * batches. Batch N is at N × interval of stream time, which stays an exact whole number of ms this way for any
 * interval a job may have (up to an hour); a larger count is a typo, and a run meant to go on has no limit.
 */
export const MAX_BATCHES = 1_000_000_000;

/**
 * Completed batches a run keeps for its summary, the newest ones: Spark's UI retains 1,000 too
 * (`spark.streaming.ui.retainedBatches`). A job that runs for days must not hold every batch it ran: each
 * BatchInfo carries its stages and tasks, and the soak (bench/soak.ts) saw the heap grow 6 MiB per 1,000 batches.
 */
export const RETAINED_BATCHES = 1000;

/**
 * How long the end of a run waits at most for the losing attempts of copied tasks still running. Short: a coordinator
 * on Lambda hands over within the margin it keeps before its timeout (6 s for the shortest the stack allows), and a
 * loser that hangs (a worker until its own timeout) is left to the next restore, which deletes the shuffle files and
 * the persisted blocks no checkpoint lists.
 */
export const LOSERS_AWAITED_AT_END_MS = 2000;

/** How a run ended. */
export interface RunSummary {
  /** The completed batches, oldest first: the newest {@link RETAINED_BATCHES} of them. */
  readonly batches: readonly BatchInfo[];
  /** Batches generated but not run because a stop was asked for. */
  readonly notRun: number;
  /** Set when a batch failed and stopped the job. */
  readonly error?: Error;
  /** Set when the run resumed from a metadata checkpoint: the last batch completed before. */
  readonly resumedAfter?: number;
}

/** One output operation's job for a batch, with the output's name for the UI's batch page. */
interface Job {
  readonly name: string;
  /** Where the output was written, when known: `job.ts:14 (print(…))`, or the path of a JSON job's field. */
  readonly origin?: string | undefined;
  readonly run: (job: OutputJob) => Promise<void>;
  /** Runs as the running output job too, for a function of the user's (see `runInOutputJob`). */
  readonly needsRunningJob?: boolean;
  /** Computes a window's parent ahead of the slide; no output (see `generateJobs`). */
  readonly ahead?: true;
}

/**
 * Spark's JobGenerator and JobScheduler in one: at each batch time it asks every output for its job, queues the
 * batch, and runs queued batches with at most `concurrentJobs` jobs at once. A late batch is queued, never
 * skipped. After a batch is generated and again after it completes, it writes the metadata checkpoint; then
 * it forgets what no stream still needs. Given a checkpoint, it resumes at the first incomplete batch.
 */
export class JobScheduler {
  private readonly stopping = new AbortController();
  private readonly done: BatchInfo[] = [];
  private readonly pending = new Set<number>();
  /** Batches completed while an earlier one was still running (`concurrentJobs` above 1). */
  private readonly completedAhead = new Set<number>();
  private readonly deadLetters = new DeadLetterLedger();
  private lastCompleted = 0;
  /** The last completed batch whose file outputs are written: what checkpoints record (see `checkpoint`). */
  private committedThrough = 0;
  /**
   * The last completed batch of the newest metadata checkpoint written: what a restart resumes after, so what
   * cleanup keeps everything after. Not `lastCompleted`: a batch that completes ahead (concurrent batches) waits
   * for its checkpoint while an earlier one completes meanwhile, and cleaning up by the batches completed in
   * memory deleted input blocks that the checkpoint on disk still names for its pending batches; a kill -9 then
   * left a store whose rerun failed on the missing blocks.
   */
  private checkpointedThrough = 0;
  private skipped = 0;
  /** The newest batch generated that took something from a source: checkpoints up to it are never skipped. */
  private busyThrough = 0;
  private readonly redundantCheckpoints = new RedundantCheckpoints();
  private checkpointChain: Promise<void> = Promise.resolve();
  /** Set by a failed dead-letter write, after which no checkpoint is written (see `runBatch`). */
  private checkpointsStopped = false;
  /**
   * Each batch's jobs ahead of a window's slide until they end, by batch time: with `concurrentJobs` above 1 a
   * later batch's outputs wait for them rather than compute the same datasets again.
   */
  private readonly aheadRunning = new Map<number, Promise<unknown>>();
  /** Output jobs running at once, across batches: at most `concurrentJobs`. */
  private readonly slots: Slots;

  constructor(
    private readonly ssc: StreamingContext,
    private readonly clock: Clock,
    private readonly jobIdentity: { readonly name: string; readonly document?: unknown },
  ) {
    this.slots = new Slots(ssc.concurrentJobs);
  }

  /** Asks the run to stop once the running batch is done. */
  stop(): void {
    this.stopping.abort();
  }

  /** Restores what a metadata checkpoint recorded; call before `run`, after the sources started. */
  async restore(checkpoint: CheckpointData): Promise<void> {
    this.lastCompleted = checkpoint.lastCompletedBatch;
    this.committedThrough = checkpoint.lastCompletedBatch;
    this.checkpointedThrough = checkpoint.lastCompletedBatch;
    const env = this.ssc.env();
    const { store } = env;
    // Letters discarded below are written again by the rerun, so their entries are not restored.
    this.deadLetters.restore(
      checkpoint.deadLetters ?? [],
      env.discardDeadLettersAfter ? checkpoint.lastCompletedBatch : undefined,
    );
    // One listing for the blocks of every persisted dataset, rather than one per dataset the checkpoint lists.
    const blocks = blocksByDataset(await store.list('persist/'));
    const restored: string[] = [];
    for (const { key, numPartitions } of checkpoint.stored) {
      // A dataset of a batch after the last completed one was stored by a batch that did not complete: its dead
      // letters may be unwritten (a batch writes its letters at its end, and the ledger records only written
      // ones), and reading its blocks instead of computing it would lose them. That batch runs again, so the
      // dataset is computed again, and its letters written once.
      const time = batchTimeOfPersistKey(key);
      if (time !== undefined && time > checkpoint.lastCompletedBatch) continue;
      // Only checkpoints whose blocks all survived can cut lineage; the others are recomputed.
      if (blocks.get(key)?.length === numPartitions) {
        this.ssc.persistence.markStored(key, numPartitions);
        restored.push(...blocks.get(key)!);
      }
    }
    // A store of a Sluice before empty partitions were marked: its 0-byte blocks are empty partitions. Only a store
    // that refuses 0-byte blocks (see `BlockStore.mayEmptyBlocks`) needs them rewritten; elsewhere they read as
    // empty anyway, and the rewrite would read every restored block once for nothing.
    if (!checkpoint.emptyPartitionsMarked && store.mayEmptyBlocks) await markEmptyPartitions(store, restored);
    await this.deleteUnrestoredBlocks(blocks, checkpoint.lastCompletedBatch);
    for (const input of this.ssc.graph.inputs) {
      input.restoreBlocks(checkpoint.inputs[input.id] ?? {}, checkpoint.lastCompletedBatch);
      const position = checkpoint.sources[input.id];
      // A capped generator's or queue's position, its cap lifted (nothing held back, or the resume was refused): it
      // takes batches by their time, and kept, the position would be written on into every checkpoint, so a cap set
      // again later would start from it and hand out the batches taken without the cap a second time.
      if (position !== undefined && !input.replaysByBatchTime) input.source.restorePosition?.(position);
      // Backpressure's bound, not the source's cap: a restart that turned backpressure off takes none of it.
      const rate = checkpoint.rates?.[input.id];
      if (rate !== undefined && this.ssc.backpressure.enabled) input.rateLimit?.update(rate);
    }
    await env.restoreOutputPositions(checkpoint.outputs);
    await env.discardDeadLettersAfter?.(checkpoint.lastCompletedBatch);
    // A checkpoint is written before the cleanup it allows (see `runBatch`), so it still names the input
    // blocks that cleanup then deleted: replayed here, the same walk forgets them again. Left restored, a slice over
    // such a batch read a deleted block (ENOENT) until the first batch's cleanup.
    this.ssc.graph.clearMetadata(checkpoint.lastCompletedBatch, this.ssc.minRememberMs);
  }

  /**
   * Deletes the blocks of a stream's batch at or before `lastCompleted` (its own dataset or one its body persisted)
   * that the restore did not mark stored: no batch reads them, and no stream would ever drop them. A driver died
   * while the cleanup deleting them ran (after the next checkpoint, which no longer listed them), or before they
   * were all written. Those restored, their stream drops once it forgets their batch (see
   * `PersistenceTracker.restoredDatasets`). Awaited, not left to the background: a batch of this run that computes
   * such a dataset again (one whose blocks were not all there) writes the same keys.
   */
  private async deleteUnrestoredBlocks(
    blocks: ReadonlyMap<string, string[]>,
    lastCompleted: number,
  ): Promise<void> {
    const left = [...blocks].filter(
      ([key]) =>
        streamOfPersistKey(key) !== undefined &&
        batchTimeOfPersistKey(key)! <= lastCompleted && // a stream's key names its batch
        this.ssc.persistence.status(key) === undefined,
    );
    // Listed at the start of the restore, and left by earlier drivers: a successor that took the job over since
    // may have stored one of them again (a window's parent it recomputed), so they go as leftovers do, after a
    // check that this driver still owns the job (test/aws/staleRestoreDeletes.test.ts).
    await deleteLeftovers(
      this.ssc.env().store,
      left.flatMap(([, keys]) => keys),
      left.map(([key]) => `persist/${key}/`),
    );
  }

  /** Runs batches until a limit is reached, `stop()` is called, or a batch fails. */
  async run(limits: RunLimits): Promise<RunSummary> {
    const interval = this.ssc.batchIntervalMs;
    const resumedAfter = this.lastCompleted;
    this.ssc.graph.start(0, this.ssc.minRememberMs);
    // Shuffle blobs are named by the driver that wrote them, and a driver deletes only its own: whatever is there
    // now was left by a driver that died or was fenced, and no batch of this one reads it. Listed before the store
    // checks that this driver still owns the job: a successor that took the job over since writes its blobs after,
    // so a driver that woke late never deletes the blobs of a successor's running batch (see `deleteLeftovers`).
    const { store } = this.ssc.env();
    if (store.deleteLeftovers) await store.deleteLeftovers(await store.list('shuffle/'));
    else await store.deletePrefix('shuffle/');
    // A first checkpoint before batch 1 records where file outputs start, so a crash in the first batch
    // rolls them back too.
    if (resumedAfter === 0) await this.checkpoint();
    this.clock.start();
    const inFlight: Promise<void>[] = [];
    let generated: Promise<Job[]> = Promise.resolve([]);
    let failure: Error | undefined;
    for (let n = resumedAfter / interval + 1; ; n++) {
      const batchTime = n * interval;
      if (limits.batches !== undefined && n > limits.batches) break;
      if (limits.durationMs !== undefined && batchTime > limits.durationMs) break;
      await this.clock.waitUntil(batchTime - resumedAfter, this.stopping.signal);
      if (this.stopping.signal.aborted || failure) break;
      const dueAt = this.clock.dueAt(batchTime - resumedAfter);
      // Generation is chained so batches always reach the job queue in time order.
      generated = generated.then(() => this.generateJobs(batchTime, dueAt));
      const batch = generated
        .then((jobs) => this.runBatch(batchTime, dueAt, jobs))
        .then(
          (info) => {
            if (info?.error && !failure) {
              failure = new Error(info.error);
              this.stop();
            }
          },
          (error: unknown) => {
            failure ??= error instanceof Error ? error : new Error(String(error));
            this.stop();
          },
        );
      inFlight.push(batch);
      // On the logical clock batches run back to back; on the system clock the next tick does not wait.
      if (this.clock.kind === 'logical') await batch;
    }
    await Promise.all(inFlight);
    await this.checkpointChain;
    // The run's last batches may have been idle, their checkpoints skipped: a restart resumes where this run ends.
    if (this.redundantCheckpoints.behind) await this.checkpoint([], true);
    // A batch never waits for the losing attempts of its copied tasks; the run's end waits a little, so that a loser
    // about to end has its late writes deleted by this run (see `deleteTaskWrites`) rather than by the next restore.
    await this.ssc.losers.releaseWithin(LOSERS_AWAITED_AT_END_MS);
    await this.ssc.cleanupsDone();
    return {
      batches: this.done,
      notRun: this.skipped,
      ...(failure ? { error: failure } : {}),
      ...(resumedAfter > 0 ? { resumedAfter } : {}),
    };
  }

  /**
   * A task that failed in an input stream's own dataset (its innermost failing dataset is the one the stream
   * generated) failed reading that stream's input, a file or an object of a planned batch: the stream's latest
   * error, which the Streaming UI shows on its row. Matched by the stream's id, as Spark keys its receivers: two
   * streams made on one source line share their origin, and the one whose read did not fail has no error.
   */
  private noteFailedRead(error: unknown): void {
    if (!(error instanceof TaskFailedError) || error.stream === undefined) return;
    this.ssc.graph.inputs.find((input) => input.id === error.stream)?.noteFailedRead(error.cause);
  }

  /** The batch's jobs; a graph that cannot generate (a transform returning nothing) fails the batch. */
  private async generateJobs(batchTime: number, dueAt: number): Promise<Job[]> {
    const jobs: Job[] = [];
    // Every input takes its batch at every tick, as Spark's receivers do, even when no output needs that batch
    // yet (a window sliding every other batch): a socket's lines then land in their own batch, and the
    // metrics count them there.
    for (const input of this.ssc.graph.inputs) {
      try {
        await input.getOrCompute(batchTime);
      } catch (error) {
        jobs.push({ name: input.name, run: () => Promise.reject(error) });
      }
    }
    for (const output of this.ssc.graph.outputs) {
      try {
        const job = await output.generateJob(batchTime);
        if (job) jobs.push({ name: output.name, origin: output.origin, ...job });
      } catch (error) {
        jobs.push({ name: output.name, origin: output.origin, run: () => Promise.reject(error) });
      }
    }
    // A window sliding every few batches reads each of its parent's batches at the next slide, as Spark does: that
    // slide's batch would compute all of them, and its output wait for all of them. Each is computed in its own
    // batch instead, so the slide's batch computes only its own and merges. The results are the same. Best
    // effort: a failure here fails nothing, since the slide computes the dataset again and reports the failure.
    for (const { stream, window } of this.ssc.graph.aheadOfSlide(batchTime)) {
      const dataset = await stream.getOrCompute(batchTime).catch(() => undefined);
      if (dataset) {
        jobs.push({
          name: `${stream.name} ahead of the slide of ${window.origin ?? window.name}`,
          ahead: true,
          run: (job) =>
            this.ssc.runJob(dataset, { type: 'count' }, job).then(
              () => {},
              () => {},
            ),
        });
      }
    }
    this.pending.add(batchTime);
    if (this.ssc.graph.inputs.some((input) => input.tookInput(batchTime))) this.busyThrough = batchTime;
    const records = this.ssc.graph.inputs.reduce(
      (n, input) => n + (input.recordsPerBatch.get(batchTime) ?? 0),
      0,
    );
    for (const l of this.ssc.streamingListeners) l.onBatchSubmitted?.(batchTime, records, dueAt, jobs.length);
    // Spark checkpoints after generating too, so a pending batch's input blocks are found after a crash. Only
    // sources that cannot replay need it (or whose batches depend on what earlier ones took, a rate-limited one):
    // the others give the same records again.
    if (this.ssc.graph.inputs.some((input) => !input.replaysByBatchTime)) await this.checkpoint();
    return jobs;
  }

  /** Runs a batch's jobs; undefined when a stop came before the batch started (it stays pending). */
  private async runBatch(batchTime: number, dueAt: number, jobs: Job[]): Promise<BatchInfo | undefined> {
    const dueAtMs = this.clock.kind === 'system' ? dueAt : undefined;
    const logLabel = batchLogLabel(batchTime, dueAtMs, this.ssc.batchIntervalMs);
    const batch = new BatchRun(batchTime, this.deadLetters, () => this.oldestPending(batchTime), logLabel);
    let started: number | undefined;
    let error: string | undefined;
    let skipped = false;
    const outputOps: OutputOpInfo[] = [];
    // Batches start in order, so every earlier batch's jobs ahead of a slide are registered by now.
    const earlierAhead = [...this.aheadRunning.values()];
    const running = jobs.map(async (job, id) => {
      if (!job.ahead && earlierAhead.length > 0) await Promise.all(earlierAhead);
      await this.slots.acquire();
      try {
        if (this.stopping.signal.aborted && started === undefined) {
          this.skipped++;
          skipped = true;
          return;
        }
        if (started === undefined) {
          started = this.now();
          for (const l of this.ssc.streamingListeners) l.onBatchStarted?.(batchTime);
        }
        const opStarted = this.now();
        let opError: string | undefined;
        try {
          const owner: OutputJob = { batch, outputOp: id };
          if (job.needsRunningJob) await runInOutputJob(owner, () => job.run(owner));
          else await job.run(owner);
        } catch (e) {
          opError = e instanceof Error ? e.message : String(e);
          error ??= opError;
          this.noteFailedRead(e);
        }
        const opJobs = batch.jobs.filter((j) => j.outputOp === id).map(({ outputOp, ...j }) => j);
        outputOps[id] = {
          id,
          name: job.name,
          ...(job.origin !== undefined ? { origin: job.origin } : {}),
          ...(job.ahead ? { ahead: true } : {}),
          durationMs: this.now() - opStarted,
          ...(opError !== undefined ? { error: opError } : {}),
          jobs: opJobs,
        };
        for (const l of this.ssc.streamingListeners) l.onOutputOpCompleted?.(batchTime, id, opError);
      } finally {
        this.slots.release();
      }
    });
    const ahead = running.filter((_, id) => jobs[id]!.ahead);
    if (ahead.length > 0) {
      const aheadDone = Promise.all(ahead);
      this.aheadRunning.set(batchTime, aheadDone);
      void aheadDone.finally(() => this.aheadRunning.delete(batchTime));
    }
    await Promise.all(running);
    if (skipped && started === undefined) return undefined;
    const ended = this.now();
    const start = started ?? ended;
    // Inputs whose tasks read directly learn their counts from the tasks' reports; a count is no reason to fail.
    await Promise.all(this.ssc.graph.inputs.map((input) => input.countRecords(batchTime).catch(() => {})));
    const records = this.ssc.graph.inputs.reduce(
      (sum, input) => sum + (input.recordsPerBatch.get(batchTime) ?? 0),
      0,
    );
    // A flood of bad records fails the batch (see `DeadLetterPolicy`): judged once every job ran, since the share
    // is the whole batch's, and before its letters are written and it is checkpointed as complete, so the failed
    // batch leaves no letters, and run again (after the threshold or the input changed) writes everything once.
    const flood = error ? undefined : this.ssc.deadLetterPolicy.judge(batch.deadLetters, records, batchTime);
    if (flood !== undefined) {
      error = flood;
      this.deadLetters.release(batchTime);
    }
    if (batch.deadLetters.length > 0 && flood === undefined) {
      // Written before the checkpoint that completes the batch, which records the file's new size and the
      // ledger's entries: a crash before it cuts the file back, and the batch, run again, writes its letters
      // once. In the checkpoints' chain, so that no checkpoint reads the file's size and the entries between
      // the write and the commit (with concurrent batches, another batch's checkpoint could).
      const written = this.checkpointChain.then(async () => {
        await this.ssc.env().writeDeadLetters?.(batch.deadLetters, batchTime);
        this.deadLetters.commit(batchTime);
      });
      // A failed write may have stopped part-way (a full disk), leaving letters in the file that the ledger does
      // not hold: a later checkpoint recorded the file with them, and the batch, run again from it, wrote them a
      // second time. So no checkpoint follows it (see `checkpoint`): the batch fails, and the rerun cuts the file
      // back to the last checkpoint and writes each letter once. Batches that complete after it (concurrent jobs)
      // are not checkpointed either, so the rerun runs them again, and that repeats no output: their jsonl lines
      // were held for a commit that never came, their letters are cut back with the file, and on S3 each batch's
      // output and letters are objects of their own, rewritten whole. Only `print` and `foreachRDD` show them
      // twice, at least once as after any crash and as in Spark (test/engine/deadLetterWriteFailure.test.ts).
      this.checkpointChain = written.catch(() => {
        this.checkpointsStopped = true;
      });
      try {
        await written;
        for (const l of this.ssc.streamingListeners) l.onDeadLetters?.(batch.deadLetters);
        logDeadLetters(this.ssc.env().log ?? silentLogger, batch, batch.deadLetters);
      } catch (failure) {
        error ??= failure instanceof Error ? failure.message : String(failure);
        this.deadLetters.release(batchTime);
      }
    }
    // A failed batch leaves no complete output folder behind; a store that keeps complete folders (on S3, where
    // a fenced coordinator must not delete its successor's) has the rerun rewrite them. A folder left anyway is
    // rewritten by the rerun too, so a failed removal must not hide why the batch failed.
    if (error) {
      await batch.undoOutputs().catch(() => {});
      this.ssc.env().discardOutputs?.(batchTime);
    }
    const inputRecords = Object.fromEntries(
      this.ssc.graph.inputs.map((input) => [input.id, input.recordsPerBatch.get(batchTime) ?? 0]),
    );
    const inputs = Object.fromEntries(
      this.ssc.graph.inputs.map((input) => [input.id, input.inputInfo(batchTime)]),
    );
    const info: BatchInfo = {
      batchTime,
      ...(dueAtMs !== undefined ? { dueAtMs } : {}),
      records,
      inputRecords,
      inputs,
      schedulingDelayMs: Math.max(0, start - dueAt),
      processingTimeMs: ended - start,
      totalDelayMs: Math.max(0, ended - dueAt),
      jobs: jobs.length,
      stages: batch.stages,
      driverStages: batch.driverStages,
      tasks: batch.tasks,
      taskAttempts: batch.taskAttempts,
      speculativeTasks: batch.speculativeTasks,
      speculativeWins: batch.speculativeWins,
      shuffleBytes: batch.shuffleBytes,
      storageRequests: batch.storageRequests,
      planBytes: batch.planBytes,
      breakdown: {
        planningMs: Math.round(batch.planningMs * 10) / 10,
        dispatchMs: Math.round(batch.dispatchMs * 10) / 10,
        taskComputeMs: Math.round(batch.taskComputeMs * 10) / 10,
        taskStorageMs: Math.round(batch.taskStorageMs * 10) / 10,
      },
      deadLetters: batch.deadLetters.length,
      ...(error ? { error } : {}),
      outputOps: outputOps.filter((op) => op !== undefined),
    };
    if (!error) {
      this.pending.delete(batchTime);
      this.completedAhead.add(batchTime);
      const committed: number[] = [];
      while (this.completedAhead.delete(this.lastCompleted + this.ssc.batchIntervalMs)) {
        this.lastCompleted += this.ssc.batchIntervalMs;
        committed.push(this.lastCompleted);
      }
      crashPoint('checkpoint', batchTime);
      await this.checkpoint(committed);
      crashPoint('cleanup', batchTime);
      // Cleanup keeps exactly what a restart from the checkpoint just written needs, because that checkpoint
      // is all a crash leaves: the pending batches (after the last completed one, all kept), each stateful
      // stream's newest state checkpoint at or before the last completed batch (a restart rebuilds from it, and
      // so does the next batch when a memory copy is gone) with every batch after it, and the input batches that
      // recomputing those reads, a window's length further back. Anything older no recovery reads, so it goes;
      // deleting only after the write means the newest complete checkpoint never lacks a block it needs.
      const recomputedAfter = this.ssc.graph.clearMetadata(this.checkpointedThrough, this.ssc.minRememberMs);
      this.deadLetters.forgetThrough(recomputedAfter);
      // Only this driver's blobs: a coordinator frozen past its lease may still be running this batch beside its
      // successor, and neither may delete what the other reads. A batch whose map outputs all travelled inline
      // wrote none, and skips the listing (on S3 a LIST costs as much as a PUT, every batch).
      if (batch.storedMapOutputs > 0) {
        const { store } = this.ssc.env();
        const blobs = this.ssc.shuffleBlobsOf(batchTime);
        await this.ssc.deleteTaskWrites(() => store.deletePrefix(blobs));
      }
    }
    this.done.push(info);
    if (this.done.length > RETAINED_BATCHES) this.done.shift();
    for (const l of this.ssc.streamingListeners) l.onBatchCompleted?.(info);
    return info;
  }

  /**
   * Writes the metadata checkpoint; writes are chained so a later one never lands before an earlier one. With
   * `committed`, the batches it completes: their held file outputs are written first, in the same step, and only
   * then do checkpoints record them as completed. A checkpoint written meanwhile (at the next batch's generation)
   * records the last committed batch with the file sizes that go with it. A checkpoint that adds only idle batches
   * is skipped unless `evenIfRedundant` (see `RedundantCheckpoints`). None is written after a failed dead-letter
   * write (see `runBatch`).
   */
  private checkpoint(committed: readonly number[] = [], evenIfRedundant = false): Promise<void> {
    const write = async () => {
      if (this.checkpointsStopped) return;
      const env = this.ssc.env();
      if (committed.length > 0) {
        await env.commitOutputs?.(committed);
        this.committedThrough = committed[committed.length - 1]!;
        crashPoint('commit', this.committedThrough);
      }
      const inputs: Record<string, Record<string, InputBlockInfo>> = {};
      const sources: Record<string, unknown> = {};
      const rates: Record<string, number> = {};
      for (const input of this.ssc.graph.inputs) {
        inputs[input.id] = Object.fromEntries([...input.blocks].map(([t, info]) => [String(t), info]));
        const position = input.source.checkpointPosition?.();
        if (position !== undefined) sources[input.id] = position;
        const rate = this.ssc.backpressure.enabled ? input.rateLimit?.estimatedRate : undefined;
        if (rate !== undefined) rates[input.id] = rate;
      }
      const data: CheckpointData = {
        version: 1,
        jobName: this.jobIdentity.name,
        ...(this.jobIdentity.document !== undefined ? { jobDocument: this.jobIdentity.document } : {}),
        graphSignature: this.ssc.graph.signature(),
        resumeSettings: this.ssc.graph.resumeSettings(),
        batchIntervalMs: this.ssc.batchIntervalMs,
        lastCompletedBatch: this.committedThrough,
        pendingBatches: [...this.pending].sort((a, b) => a - b),
        inputs,
        sources,
        stored: this.ssc.persistence.storedDatasets(this.committedThrough),
        outputs: await env.outputPositions([...this.ssc.jsonlPaths]),
        deadLetters: this.deadLetters.written(),
        ...(Object.keys(rates).length > 0 ? { rates } : {}),
        emptyPartitionsMarked: true,
        writtenAt: new Date().toISOString(),
      };
      // An idle batch's checkpoint differs from the last one only in its batch times (see `RedundantCheckpoints`).
      if (!evenIfRedundant && this.redundantCheckpoints.isRedundant(data, this.busyThrough)) return;
      await env.store.put(METADATA_KEY, this.redundantCheckpoints.textOf(data));
      this.redundantCheckpoints.written(data);
      this.checkpointedThrough = data.lastCompletedBatch;
    };
    this.checkpointChain = this.checkpointChain.then(write);
    return this.checkpointChain;
  }

  /** The oldest batch generated and not completed, `batchTime` at most: what the tasks of a batch must not evict. */
  private oldestPending(batchTime: number): number {
    let oldest = batchTime;
    for (const t of this.pending) if (t < oldest) oldest = t;
    return oldest;
  }

  /** The time batches are measured in: the clock's own (a simulation's), or the wall clock. */
  private now(): number {
    return this.clock.now?.() ?? Date.now();
  }
}

/** The block keys under `persist/`, by the persistence key of their dataset (`persist/<key>/<partition>`). */
function blocksByDataset(blockKeys: readonly string[]): Map<string, string[]> {
  const byDataset = new Map<string, string[]>();
  for (const blockKey of blockKeys) {
    const key = blockKey.slice('persist/'.length, blockKey.lastIndexOf('/'));
    const keys = byDataset.get(key);
    if (keys) keys.push(blockKey);
    else byDataset.set(key, [blockKey]);
  }
  return byDataset;
}

/** One line a batch for its dead letters, once they are written: how many, and the first one's op and error. */
function logDeadLetters(
  log: Logger,
  { batchTime, logLabel }: BatchRun,
  letters: readonly DeadLetter[],
): void {
  const first = letters[0]!;
  const where = first.op ?? first.dataset;
  log.warn(
    `Batch ${logLabel}: ${letters.length} record(s) dead-lettered; the first by ${where}: ${first.error}`,
    { batchTime, deadLetters: letters.length, op: where, error: first.error },
  );
}
