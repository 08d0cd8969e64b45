import type { DeadLetter } from '../dataset/TaskContext';
import type { InputDStream } from '../dstream/InputDStream';
import { DelayTrend } from '../scheduler/DelayTrend';
import type { BatchInfo, StageInfo, StreamingListener } from '../scheduler/StreamingListener';
import { laterError, type SourceStatus } from '../source/SourceStatus';
import { type ActiveBatch, ActiveBatches } from './ActiveBatches';

export type { ActiveBatch } from './ActiveBatches';

/** How many completed batches the UI remembers, as Spark's `spark.streaming.ui.retainedBatches`. */
export const RETAINED_BATCHES = 1000;
/** Dead letters kept per batch for its page: enough to see the reasons, bounded for a flood of bad records. */
const LETTERS_PER_BATCH = 100;

/** What the streaming page shows: the header, the batches for the charts and tables, and the stability signal. */
export interface StreamingSummary {
  readonly jobName: string;
  readonly batchIntervalMs: number;
  /** When the run started, ms since the epoch. */
  readonly startedAtMs: number;
  /** Whether the page reads a finished record (AWS metrics) rather than a run in this process. */
  readonly readOnly: boolean;
  /**
   * Whether batches fall due on the wall clock, so that the page names a batch by its date (`dueAtMs`, as Spark
   * does) rather than its stream time: false on the logical clock (`sluice run --fast`, simulations).
   */
  readonly wallClock: boolean;
  /** Batches completed since the start, all of them, even those no longer retained. */
  readonly completedBatches: number;
  /** Records of all completed batches since the start. */
  readonly records: number;
  /** For how many batches in a row the total delay has grown (see `DelayTrend`). */
  readonly delayGrowingFor: number;
  readonly active: readonly ActiveBatch[];
  /**
   * When the active batches were seen, ms since the epoch: now for a run in this process (its end, once it ended:
   * the batches it left never ran on, so their waits stop there); on AWS, when the coordinator last wrote them
   * (every few seconds); absent when it never did.
   */
  readonly activeAsOfMs?: number;
  /**
   * The job's input streams, by id and name, as the newest batch names them (an id is its own name in metrics
   * written before streams had names); the page charts each one's rate from `BatchRow.inputRecords`. Each with its
   * state and latest error where it has them (Spark's receivers' table): live while the run is (a socket retrying
   * shows before the next batch completes; on AWS as of `activeAsOfMs`), else as of the newest batch.
   */
  readonly inputStreams: readonly InputStreamName[];
  /** The retained completed batches, oldest first, without their output operations (see `batch`). */
  readonly batches: readonly BatchRow[];
  /** Present once the run has ended (see `StreamingUiState.end`): when, and its error if it failed. */
  readonly ended?: RunEnd;
  /**
   * On AWS, a sentence for each object of the bucket that the page could not read and leaves out (not JSON, or not
   * what the coordinator writes), so that the rest still shows; absent when every object read well.
   */
  readonly unreadable?: readonly string[];
}

/** An input stream as the streaming page names it, with its state and latest error when it has them. */
export interface InputStreamName extends SourceStatus {
  /** Its id in the stream graph (`n1`), the key of `BatchInfo.inputRecords`. */
  readonly id: string;
  readonly name: string;
}

/** How a run ended: when, ms since the epoch, and the error that ended it, absent when it ended well. */
export interface RunEnd {
  readonly atMs: number;
  readonly error?: string;
}

/** One batch's page: its full metrics and its dead letters. */
export interface BatchDetail {
  readonly info: BatchInfo;
  readonly batchIntervalMs: number;
  readonly deadLetters: readonly DeadLetter[];
  /** Dead letters beyond those kept for the page. */
  readonly deadLettersNotShown: number;
  /** On AWS, a sentence for each part of the batch's record that could not be read and is left out. */
  readonly unreadable?: readonly string[];
}

/** Where the UI server reads what it shows: a run in this process, or the metrics a coordinator keeps on AWS. */
export interface StreamingUiSource {
  summary(): Promise<StreamingSummary>;
  /** The batch at `batchTime`, or undefined when it is not (or no longer) retained. */
  batch(batchTime: number): Promise<BatchDetail | undefined>;
}

/**
 * The UI's view of a run in this process, fed as a listener (Spark's StreamingJobProgressListener): the last
 * {@link RETAINED_BATCHES} completed batches, the active ones, totals since the start, and the stability signal.
 */
export class StreamingUiState implements StreamingListener, StreamingUiSource {
  /** The retained completed batches, by batch time: with concurrent jobs they complete out of order. */
  private readonly completed: BatchInfo[] = [];
  /** Completed batches that the delay trend has not seen yet, because an older batch is still active. */
  private readonly notObserved: BatchInfo[] = [];
  private readonly letters = new Map<number, { kept: DeadLetter[]; more: number }>();
  private readonly activeBatches = new ActiveBatches();
  private trend: DelayTrend;
  private completedBatches = 0;
  private records = 0;
  private ended: RunEnd | undefined;
  /** The run's input streams, asked for their state and latest error at each summary while the run is live. */
  private inputs: readonly InputDStream<unknown>[] = [];

  /**
   * @param jobName the job's name, for the page's title
   * @param batchIntervalMs the job's batch interval
   * @param startedAtMs when the run started, ms since the epoch; default now
   * @param wallClock whether the run is on the system clock (see `StreamingSummary.wallClock`); default true
   */
  constructor(
    private jobName = 'job',
    private batchIntervalMs = 1000,
    private startedAtMs = Date.now(),
    private wallClock = true,
  ) {
    this.trend = new DelayTrend(batchIntervalMs);
  }

  /** Names the run once its job is built: the server can start (and fail on a taken port) before that. */
  describe(jobName: string, batchIntervalMs: number, startedAtMs = Date.now(), wallClock = true): void {
    this.jobName = jobName;
    this.batchIntervalMs = batchIntervalMs;
    this.startedAtMs = startedAtMs;
    this.wallClock = wallClock;
    // Named before the first batch: the trend judges waits against this interval.
    this.trend = new DelayTrend(batchIntervalMs);
  }

  /**
   * The run's input streams, once its job is built: while it runs, the summary shows their state and latest error
   * as they are now (a socket's connection lost and retried), not only as of the newest batch, as Spark's receiver
   * events reach its page live.
   */
  watchInputs(inputs: readonly InputDStream<unknown>[]): void {
    this.inputs = inputs;
  }

  /**
   * The run has ended, with `error` when it failed: the summary says so from now on, and the page stops showing it
   * as live. The first call counts; the server may go on serving the finished run.
   * @example
   * state.end(); // or state.end('batch 7000 failed: task 0.1 failed on every attempt')
   */
  end(error?: string, atMs = Date.now()): void {
    this.ended ??= { atMs, ...(error !== undefined ? { error } : {}) };
  }

  /** A batch was generated and waits for a job slot. */
  onBatchSubmitted(batchTime: number, records: number, dueAtMs: number, outputOps: number): void {
    this.activeBatches.onBatchSubmitted(batchTime, records, dueAtMs, outputOps);
  }

  /** A batch's first job started. */
  onBatchStarted(batchTime: number): void {
    this.activeBatches.onBatchStarted(batchTime);
  }

  /** One of a batch's output operations finished. */
  onOutputOpCompleted(batchTime: number, id: number, error?: string): void {
    this.activeBatches.onOutputOpCompleted(batchTime, id, error);
  }

  onDeadLetters(letters: readonly DeadLetter[]): void {
    // Filed by each letter's own batch time, not given to the next batch to complete: the scheduler awaits a
    // batch's checkpoint between reporting its letters and completing it, and with concurrent jobs another batch
    // can complete in between.
    for (const letter of letters) {
      const forBatch = this.letters.get(letter.batchTime) ?? { kept: [], more: 0 };
      if (forBatch.kept.length < LETTERS_PER_BATCH) forBatch.kept.push(letter);
      else forBatch.more++;
      this.letters.set(letter.batchTime, forBatch);
    }
  }

  onBatchCompleted(info: BatchInfo): void {
    this.activeBatches.onBatchCompleted(info);
    insertByBatchTime(this.completed, info);
    this.completedBatches++;
    this.records += info.records;
    insertByBatchTime(this.notObserved, info);
    // The trend is "batches in a row" in batch time: a batch that overtook an older, still active one waits for it.
    const oldestActive = this.activeBatches.oldestBatchTime() ?? Number.POSITIVE_INFINITY;
    while (this.notObserved.length > 0 && this.notObserved[0]!.batchTime < oldestActive) {
      this.trend.observe(this.notObserved.shift()!);
    }
    while (this.completed.length > RETAINED_BATCHES) this.letters.delete(this.completed.shift()!.batchTime);
  }

  async summary(): Promise<StreamingSummary> {
    // A batch left queued or running by a run that ended will never complete: its wait and processing time so far
    // are as of the end, not growing with the clock of a page read hours later.
    const nowMs = this.ended?.atMs ?? Date.now();
    return {
      jobName: this.jobName,
      batchIntervalMs: this.batchIntervalMs,
      startedAtMs: this.startedAtMs,
      readOnly: false,
      wallClock: this.wallClock,
      completedBatches: this.completedBatches,
      records: this.records,
      delayGrowingFor: this.trend.growingFor,
      active: this.activeBatches.snapshot(nowMs),
      activeAsOfMs: nowMs,
      // Once the run ended its sources are closed: the newest batch tells how they last were.
      inputStreams: withLiveStatus(
        inputStreamsOf(this.completed),
        this.ended ? [] : liveInputStreams(this.inputs),
      ),
      batches: this.completed.map(batchRow),
      ...(this.ended ? { ended: this.ended } : {}),
    };
  }

  async batch(batchTime: number): Promise<BatchDetail | undefined> {
    const info = this.completed.find((b) => b.batchTime === batchTime);
    if (!info) return undefined;
    const letters = this.letters.get(batchTime);
    return {
      info,
      batchIntervalMs: this.batchIntervalMs,
      deadLetters: letters?.kept ?? [],
      deadLettersNotShown: letters?.more ?? 0,
    };
  }
}

/** Puts `info` into `batches` (ordered by batch time) in its place; completions come nearly in order, so from the end. */
function insertByBatchTime(batches: BatchInfo[], info: BatchInfo): void {
  let at = batches.length;
  while (at > 0 && batches[at - 1]!.batchTime > info.batchTime) at--;
  batches.splice(at, 0, info);
}

/**
 * The input streams of the newest batch that has them (`batches` oldest first): the graph is fixed for a run, so
 * its names are every batch's, sent once rather than with each of 1,000 rows; their state and latest error are the
 * newest batch's, as the stream was when it completed. Metrics written before streams had
 * names give their ids, which then name themselves.
 */
export function inputStreamsOf(batches: readonly BatchInfo[]): InputStreamName[] {
  for (let i = batches.length - 1; i >= 0; i--) {
    const { inputs, inputRecords } = batches[i]!;
    if (inputs) {
      return Object.entries(inputs).map(([id, { name, state, lastError }]) => ({
        id,
        name,
        ...(state ? { state } : {}),
        ...(lastError ? { lastError } : {}),
      }));
    }
    if (inputRecords) return Object.keys(inputRecords).map((id) => ({ id, name: id }));
  }
  return [];
}

/** The input streams of a running job with their state and latest error now (see `InputDStream.status`). */
export function liveInputStreams(inputs: readonly InputDStream<unknown>[]): InputStreamName[] {
  return inputs.map((input) => ({ id: input.id, name: input.inputName, ...input.status() }));
}

/**
 * The input streams as the newest batch left them (`fromBatches`), with the state and latest error that the
 * running job has seen since (`live`, from `liveInputStreams`): its state when it has one (a closed source has
 * none: the batch's then), the later of the two errors. A stream no batch has named yet (before the first batch
 * completes) is added, so that a socket refused from the start shows at once.
 */
export function withLiveStatus(
  fromBatches: readonly InputStreamName[],
  live: readonly InputStreamName[],
): InputStreamName[] {
  const liveById = new Map(live.map((stream) => [stream.id, stream]));
  const merged = fromBatches.map((stream) => {
    const now = liveById.get(stream.id);
    if (!now) return stream;
    const state = now.state ?? stream.state;
    const lastError = laterError(stream.lastError, now.lastError);
    const { state: _state, lastError: _error, ...named } = stream;
    return { ...named, ...(state ? { state } : {}), ...(lastError ? { lastError } : {}) };
  });
  const named = new Set(fromBatches.map((stream) => stream.id));
  return [...merged, ...live.filter((stream) => !named.has(stream.id))];
}

/**
 * A batch for the page's charts and tables: the output operations (tasks included) and what each input took stay
 * on the batch page, so the summary of 1,000 batches that the page polls stays small. The slowest stage's id is
 * kept for the table.
 */
export function batchRow(info: BatchInfo): BatchRow {
  const { outputOps, inputs: _inputs, ...rest } = info;
  if (!outputOps) return rest;
  const stages = outputOps.flatMap((op) => op.jobs.flatMap((job) => job.stages));
  const slowest = stages.reduce<StageInfo | undefined>(
    (a, s) => (a && a.durationMs >= s.durationMs ? a : s),
    undefined,
  );
  return {
    ...rest,
    outputOpsTotal: outputOps.length,
    outputOpsFailed: outputOps.filter((op) => op.error !== undefined).length,
    ...(slowest
      ? {
          slowestStage: {
            stageId: slowest.stageId,
            description: slowest.description,
            durationMs: slowest.durationMs,
          },
        }
      : {}),
  };
}

/** A completed batch as the streaming page's table and charts show it. */
export type BatchRow = Omit<BatchInfo, 'outputOps' | 'inputs'> & {
  readonly outputOpsTotal?: number;
  readonly outputOpsFailed?: number;
  /** The stage that took longest, the first place to look in a slow batch. */
  readonly slowestStage?: Pick<StageInfo, 'stageId' | 'description' | 'durationMs'>;
};
