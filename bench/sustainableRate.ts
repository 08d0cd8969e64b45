import { judgeStability } from '../lib/scheduler/judgeStability';
import type { BatchInfo } from '../lib/scheduler/StreamingListener';
import { BATCH_INTERVAL_MS } from './jobs';
import { jobName, runTrial } from './runTrial';
import { median } from './stats';

/** The two benchmark workloads. */
export type Workload = 'wordCount' | 'grep';

/** Where a run executes: how many worker threads, and how many partitions the input is split into. */
export interface Placement {
  /** Worker threads of the local runtime. */
  readonly workers: number;
  /** Input and shuffle partitions; one per worker, so every thread has a task. */
  readonly partitions: number;
}

/** One logical-clock run of the throughput estimate. */
export interface EstimateRun {
  /** Records divided by processing time (the jobs alone), over the batches after the first. */
  readonly processingRecordsPerSec: number;
  /** Records divided by total delay (input generation and storage included), over the same batches. */
  readonly endToEndRecordsPerSec: number;
  readonly batches: readonly BatchInfo[];
}

/** What the logical clock says a workload can process, before any real-time trial. */
export interface ThroughputEstimate {
  /** The input rate the estimate runs used, in records a second. */
  readonly ratePerSec: number;
  readonly runs: readonly EstimateRun[];
  /** Median over the runs of records / processing time: the centre of the real-time search. */
  readonly processingRecordsPerSec: number;
  /** Median over the runs of records / total delay. */
  readonly endToEndRecordsPerSec: number;
}

/** Settings of the throughput estimate. */
export interface EstimateOptions {
  /** The rate of the short calibration run that sizes the estimate runs. Default 50 000 lines/s. */
  readonly calibrationRatePerSec?: number;
  /** The estimate runs never go above this rate, to bound their length. Default 1 000 000 lines/s. */
  readonly maxRatePerSec?: number;
  /** Logical-clock runs, each of `batches` batches. Default 3. */
  readonly runs?: number;
  /** Batches per run; the first is a warm-up and left out. Default 5. */
  readonly batches?: number;
}

/** Calibration runs after the first, at most: on every workload measured, the second or third lands within a fifth. */
const MAX_RECALIBRATIONS = 2;

/**
 * Estimates throughput on the logical clock: short calibration runs find a rate at which a batch takes about
 * one interval, then several runs at that rate measure records per second of processing time.
 */
export async function estimateThroughput(
  workload: Workload,
  placement: Placement,
  options: EstimateOptions = {},
  log: (line: string) => void = () => {},
): Promise<ThroughputEstimate> {
  const maxRate = options.maxRatePerSec ?? 1_000_000;
  const sized = (c: EstimateRun) =>
    Math.round(Math.min(maxRate, c.processingRecordsPerSec * (BATCH_INTERVAL_MS / 1000)));
  const calibrate = async (ratePerSec: number) => {
    const run = await logicalRun(workload, ratePerSec, placement, 3);
    log(
      `  calibration at ${ratePerSec}/s: ${Math.round(run.processingRecordsPerSec)} records/s of processing`,
    );
    return run;
  };
  let calibrationRate = options.calibrationRatePerSec ?? 50_000;
  let calibration = await calibrate(calibrationRate);
  // A batch at the low first rate is mostly fixed costs, so it underrates the engine (Grep by half and more): the
  // rate it suggests is calibrated again until two agree within a fifth, so batches last about one interval.
  for (let step = 0; step < MAX_RECALIBRATIONS; step++) {
    const next = sized(calibration);
    if (Math.abs(next - calibrationRate) <= calibrationRate / 5) break;
    calibrationRate = next;
    calibration = await calibrate(calibrationRate);
  }
  const ratePerSec = sized(calibration);
  const runs: EstimateRun[] = [];
  for (let i = 0; i < (options.runs ?? 3); i++) {
    const run = await logicalRun(workload, ratePerSec, placement, options.batches ?? 5);
    log(
      `  estimate run ${i + 1} at ${ratePerSec}/s: ${Math.round(run.processingRecordsPerSec)} records/s of processing, ` +
        `${Math.round(run.endToEndRecordsPerSec)} end to end`,
    );
    runs.push(run);
  }
  return {
    ratePerSec,
    runs,
    processingRecordsPerSec: median(runs.map((r) => r.processingRecordsPerSec)),
    endToEndRecordsPerSec: median(runs.map((r) => r.endToEndRecordsPerSec)),
  };
}

/** One run of `batches` back-to-back batches: its rates over the batches after the first, and every batch. */
export async function logicalRun(
  workload: Workload,
  ratePerSec: number,
  placement: Placement,
  batches: number,
): Promise<EstimateRun> {
  const trial = await runTrial({
    exportName: jobName(workload, ratePerSec, placement.partitions),
    clock: 'logical',
    batches,
    workers: placement.workers,
  });
  if (trial.error)
    throw new Error(`${workload} at ${ratePerSec}/s failed on the logical clock: ${trial.error}`);
  // The first batch pays for JIT warm-up in every thread; a steady state is what a stream lives in.
  const measured = trial.batches.length > 1 ? trial.batches.slice(1) : trial.batches;
  const records = measured.reduce((sum, b) => sum + b.records, 0);
  const processingMs = measured.reduce((sum, b) => sum + b.processingTimeMs, 0);
  const totalMs = measured.reduce((sum, b) => sum + b.totalDelayMs, 0);
  return {
    processingRecordsPerSec: (records / Math.max(1, processingMs)) * 1000,
    endToEndRecordsPerSec: (records / Math.max(1, totalMs)) * 1000,
    batches: trial.batches,
  };
}

/** One real-time trial of the search. */
export interface RateTrial {
  readonly ratePerSec: number;
  readonly stable: boolean;
  readonly reason: string;
  /** `search` for a step of the binary search, `confirm` for a repeat at the rate the search settled on. */
  readonly purpose: 'search' | 'confirm';
  readonly batches: readonly BatchInfo[];
  /** The first record of every output batch (distinct words, matching lines), to show the work was done. */
  readonly outputs: readonly unknown[];
}

/** The outcome of the search for the highest sustainable rate. */
export interface SustainableRate {
  /** The highest rate stable in most of its trials, or undefined when none was. */
  readonly ratePerSec: number | undefined;
  /** How many of the trials at `ratePerSec` were stable, and how many ran. */
  readonly confirmed: { readonly stable: number; readonly runs: number };
  readonly trials: readonly RateTrial[];
  /** The search range, in records a second. */
  readonly lowPerSec: number;
  readonly highPerSec: number;
}

/** Settings of the search. */
export interface SearchOptions {
  /** Real-time trials of the binary search. Default 6. */
  readonly trials?: number;
  /** Batches per trial. Default 10. */
  readonly batches?: number;
  /** The search's lower end, as a fraction of the estimate. Default 0.1. */
  readonly lowFraction?: number;
  /** The search's upper end, as a fraction of the estimate. Default 1.5. */
  readonly highFraction?: number;
  /** Extra trials at the rate the search settles on; most of the trials there must be stable. Default 2. */
  readonly confirmations?: number;
  /** Lower rates tried when a rate fails its confirmation, none below the search range. Default 4. */
  readonly fallbacks?: number;
}

/** A trial whose total delay passes this many intervals is stopped: its backlog only grows. */
const STOP_ABOVE_INTERVALS = 3;

/**
 * Binary search for the highest input rate that keeps total delay flat on the real clock, then repeats at the
 * rate found, because one 10-second trial on a shared machine can pass or fail by luck. Each trial runs in a
 * fresh runtime and store and is cut short once total delay passes three intervals.
 */
export async function findSustainableRate(
  workload: Workload,
  placement: Placement,
  estimatePerSec: number,
  options: SearchOptions = {},
  log: (line: string) => void = () => {},
): Promise<SustainableRate> {
  const batches = options.batches ?? 10;
  const lowPerSec = Math.max(1, Math.round(estimatePerSec * (options.lowFraction ?? 0.1)));
  const highPerSec = Math.max(lowPerSec + 1, Math.round(estimatePerSec * (options.highFraction ?? 1.5)));
  const trials: RateTrial[] = [];
  const attempt = async (ratePerSec: number, purpose: RateTrial['purpose']): Promise<RateTrial> => {
    const stopAboveMs = STOP_ABOVE_INTERVALS * BATCH_INTERVAL_MS;
    const trial = await runTrial({
      exportName: jobName(workload, ratePerSec, placement.partitions),
      clock: 'system',
      batches,
      workers: placement.workers,
      stopAboveTotalDelayMs: stopAboveMs,
    });
    const worst = Math.max(0, ...trial.batches.map((b) => b.totalDelayMs));
    const verdict = trial.error
      ? { stable: false, reason: `failed: ${trial.error}` }
      : trial.stoppedEarly
        ? { stable: false, reason: `stopped early: total delay reached ${worst} ms > ${stopAboveMs} ms` }
        : judgeStability(trial.batches, batches, BATCH_INTERVAL_MS);
    const result: RateTrial = {
      ratePerSec,
      ...verdict,
      purpose,
      batches: trial.batches,
      outputs: trial.outputs.map((o) => o.records[0]),
    };
    log(`  ${ratePerSec}/s on the real clock: ${verdict.stable ? 'stable' : 'unstable'} (${verdict.reason})`);
    trials.push(result);
    return result;
  };

  let low = lowPerSec;
  let high = highPerSec;
  let best: number | undefined;
  for (let i = 0; i < (options.trials ?? 6); i++) {
    const mid = Math.round((low + high) / 2);
    if ((await attempt(mid, 'search')).stable) {
      best = mid;
      low = mid;
    } else {
      high = mid;
    }
  }
  // Every trial failed: say whether even the bottom of the range holds, rather than report nothing.
  if (best === undefined && (await attempt(lowPerSec, 'search')).stable) best = lowPerSec;

  const confirmations = options.confirmations ?? 2;
  for (let fallback = 0; best !== undefined && fallback <= (options.fallbacks ?? 4); fallback++) {
    const rate: number = best;
    for (let c = 0; c < confirmations; c++) await attempt(rate, 'confirm');
    const atRate = trials.filter((t) => t.ratePerSec === rate);
    const stable = atRate.filter((t) => t.stable).length;
    if (stable * 2 > atRate.length)
      return { ratePerSec: rate, confirmed: { stable, runs: atRate.length }, trials, lowPerSec, highPerSec };
    // Not stable most of the time: fall back to the next stable rate the search saw, or 15% lower.
    const lower = trials.filter((t) => t.stable && t.ratePerSec < rate).map((t) => t.ratePerSec);
    best = lower.length > 0 ? Math.max(...lower) : Math.round(rate * 0.85);
    if (best < lowPerSec) break;
  }
  return { ratePerSec: undefined, confirmed: { stable: 0, runs: 0 }, trials, lowPerSec, highPerSec };
}
