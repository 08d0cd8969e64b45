import type { DeadLetter } from '../dataset/TaskContext';
import { DeadLetterLedger } from './DeadLetterLedger';
import type { JobInfo } from './StreamingListener';
import { TaskLocal } from './TaskLocal';

/** What the jobs of one batch add up to while they run. */
export class BatchRun {
  tasks = 0;
  taskAttempts = 0;
  /** Speculative copies launched for stragglers. */
  speculativeTasks = 0;
  /** Speculative copies whose result was the one used. */
  speculativeWins = 0;
  stages = 0;
  driverStages = 0;
  shuffleBytes = 0;
  /** Map outputs written to the store rather than carried inline: without any, the batch's clean-up lists nothing. */
  storedMapOutputs = 0;
  storageRequests = 0;
  /** Bytes of JSON plans sent to runners: stays flat when lineage is cut by checkpoints. */
  planBytes = 0;
  /** Time spent planning jobs (turning datasets into stages), in ms. */
  planningMs = 0;
  /** Time tasks spent computing, storage calls excluded, summed over tasks, in ms. */
  taskComputeMs = 0;
  /** Time tasks spent in block-store calls, summed over tasks, in ms. */
  taskStorageMs = 0;
  /** Per stage, the wall time beyond its slowest task (dispatch: thread messages or Lambda invokes), in ms. */
  dispatchMs = 0;
  /** Each successful task's dead letters, with where the task stands in the batch. */
  private readonly lettersByTask: Array<{ readonly order: TaskOrder; readonly letters: DeadLetter[] }> = [];
  private sortedLetters: DeadLetter[] | undefined;
  /** The jobs run, each with the output operation that ran it (see `runInOutputJob`), for the batch page. */
  readonly jobs: Array<JobInfo & { readonly outputOp: number }> = [];
  /** Planning time of each job by its id, in ms, until the scheduler files the job in `jobs`. */
  readonly planningMsByJob = new Map<number, number>();
  /** What removes the outputs this batch completed, should it fail after them (see `onFailure`). */
  private readonly undos: Array<() => Promise<void>> = [];

  /**
   * @param ledger the letters written already, by this batch and earlier ones; default: this batch's only.
   * @param oldestRunning the oldest batch the scheduler has not completed yet, this one at most (see `evictBefore`).
   * @param logLabel how log lines name the batch after the word "batch" (see `batchLogLabel`); default
   * `<batchTime> ms`.
   */
  constructor(
    readonly batchTime: number,
    private readonly ledger = new DeadLetterLedger(),
    private readonly oldestRunning: () => number = () => batchTime,
    readonly logLabel = `${batchTime} ms`,
  ) {}

  /**
   * The batch time before which this batch's tasks may evict memory copies of persisted partitions: this batch's
   * own, unless an earlier batch is still running. A task of a later batch evicting by its own time dropped what
   * the earlier batch was about to read (a state's previous batches), and the earlier batch, replanning once per
   * missing dataset, failed.
   */
  evictBefore(): number {
    return this.oldestRunning();
  }

  /**
   * Registers what removes an output this batch wrote whole (a `saveAsTextFiles` folder), run when the batch
   * fails after it: a later output failed, or the batch's dead letters were a flood (see `DeadLetterPolicy`).
   */
  onFailure(undo: () => Promise<void>): void {
    this.undos.push(undo);
  }

  /** Removes the outputs this batch completed; the scheduler calls it once the batch failed. */
  async undoOutputs(): Promise<void> {
    await Promise.all(this.undos.splice(0).map((undo) => undo()));
  }

  /**
   * Adds the dead letters of one successful task, except those of dataset partitions that an earlier
   * computation already gave, in this batch or an earlier one, in this process or one before a restart (see
   * `DeadLetterLedger`). A failed attempt's letters never get here, and of a task and its speculative copy only
   * the result used does.
   */
  addDeadLetters(task: TaskOrder, letters: readonly DeadLetter[]): void {
    const claimed = new Set<string>();
    const kept: DeadLetter[] = [];
    for (const { from, ...letter } of letters) {
      const source = from ?? {
        dataset: letter.dataset,
        stable: false,
        batchTime: this.batchTime,
        partition: task.partition,
      };
      const key = DeadLetterLedger.key(source);
      if (claimed.has(key) || this.ledger.claim(source, this.batchTime)) {
        claimed.add(key);
        kept.push(letter);
      }
    }
    if (kept.length === 0) return;
    this.lettersByTask.push({ order: task, letters: kept });
    this.sortedLetters = undefined;
  }

  /**
   * The batch's dead letters in the order of its jobs, their stages and partitions, not in the order the tasks
   * happened to finish: a batch (and its rerun after a crash) writes the same dead-letter lines in the same order.
   */
  get deadLetters(): DeadLetter[] {
    this.sortedLetters ??= this.lettersByTask
      .slice()
      .sort(
        (a, b) =>
          a.order.jobId - b.order.jobId ||
          a.order.stageId - b.order.stageId ||
          a.order.partition - b.order.partition,
      )
      .flatMap((task) => task.letters);
    return this.sortedLetters;
  }
}

/** Where a task stands in its batch: the dead letters of a batch are ordered by it. */
export interface TaskOrder {
  readonly jobId: number;
  readonly stageId: number;
  readonly partition: number;
}

/**
 * The job an output operation runs in a batch: the batch its actions add to, and the output's position among the
 * batch's outputs (the UI's batch page lists each output's jobs under it).
 */
export interface OutputJob {
  readonly batch: BatchRun;
  readonly outputOp: number;
}

/**
 * The output job whose function of the user's (`foreachRDD`) is running, carried along its async calls: its
 * actions run jobs with no batch in their arguments, on the dataset it was handed or on others (a static dataset),
 * and this is how they still land in the right batch, under the right output on the UI's batch page. Built-in
 * outputs act only on the dataset they are handed, whose scope names the job (`FnScope.job`), and run outside it.
 * A plain slot while one such job runs at a time, an `AsyncLocalStorage` only for one that starts while another
 * runs (see `TaskLocal`): an `AsyncLocalStorage` run once makes every promise of the driver pay a hook, for good.
 */
const userOutputJobs = new TaskLocal<OutputJob>();

/** Runs `run`, an output function of the user's, in `job` (see {@link runningJob}). */
export function runInOutputJob<R>(job: OutputJob, run: () => Promise<R>): Promise<R> {
  return userOutputJobs.run(job, run);
}

/** The output job whose function of the user's is running, if any (see {@link runInOutputJob}). */
export function runningJob(): OutputJob | undefined {
  return userOutputJobs.get();
}
