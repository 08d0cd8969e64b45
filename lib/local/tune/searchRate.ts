import type { JobDocument } from '../../job/JobDocument';
import { judgeStability } from '../../scheduler/judgeStability';
import type { BatchInfo } from '../../scheduler/StreamingListener';
import type { TrialRunner } from '../../scheduler/TrialRunner';
import { type Bottleneck, findBottleneck } from './bottleneck';
import { runTuneTrial } from './tuneTrial';

/** One trial of the search, as the JSON report keeps it. */
export interface TuneTrial {
  readonly ratePerSec: number;
  readonly clock: 'logical' | 'system';
  /** For a real-clock trial: the stability rule's verdict. */
  readonly stable?: boolean;
  /** For a real-clock trial: the figure that decided it; for a logical one, what it measured. */
  readonly reason: string;
  readonly batches: readonly BatchInfo[];
}

/** The search's result for one batch interval and partition count. */
export interface ConfigResult {
  readonly intervalMs: number;
  readonly partitions: number;
  /** Records a second of processing time on the logical clock: the centre of the real-clock search. */
  readonly estimatePerSec: number;
  /** The highest rate found stable on the real clock, or undefined when none was. */
  readonly sustainablePerSec?: number;
  /**
   * Set when the rate found is the most the search could feed (`SearchLimits.maxPerSec`: what the job's generator
   * sources may make at this interval): the configuration sustains at least that, maybe more.
   */
  readonly ceilingPerSec?: number;
  /** At that rate: the median total delay and processing time of the judged batches, in ms. */
  readonly medianTotalDelayMs?: number;
  readonly medianProcessingMs?: number;
  /** At that rate (or, with none stable, at the lowest rate tried): the slowest stage. */
  readonly bottleneck?: Bottleneck;
  readonly trials: readonly TuneTrial[];
  /** Set when the job failed at this configuration. */
  readonly error?: string;
}

/** What the search of one configuration may use. */
export interface SearchLimits {
  /** Stop starting real-clock trials once this much time has gone, in ms (one always runs). */
  readonly budgetMs: number;
  /** The stream time of one real-clock trial, in ms; at least 3 batches. */
  readonly trialMs: number;
  /** Real-clock trials at most. Default 8, and one more at the bottom of the range when none of them held. */
  readonly maxSteps?: number;
  /** Worker threads. Default one per core. */
  readonly workers?: number;
  /** Where trials run. Default: in this process (`runTuneTrial`). */
  readonly runTrial?: TrialRunner;
  /**
   * The rate of the first real-clock trial, in records a second, instead of an estimate on the logical clock
   * (which only a run in this process has). Default: the estimate's.
   */
  readonly startPerSec?: number;
  /**
   * The highest rate a trial may feed, in records a second (`maxTrialRatePerSec`: a generator source may make so
   * many at this interval and no more). Default: no limit.
   */
  readonly maxPerSec?: number;
}

/** A trial whose total delay passes this many intervals is stopped: its backlog only grows (as in the bench). */
const STOP_ABOVE_INTERVALS = 3;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = (sorted.length - 1) / 2;
  return ((sorted[Math.floor(mid)] ?? 0) + (sorted[Math.ceil(mid)] ?? 0)) / 2;
}

/**
 * Finds the highest input rate at which one configuration keeps its total delay flat, as `npm run bench` does:
 * on the logical clock (batches back to back) it first raises the rate until a batch takes about one interval,
 * which estimates records a second of processing; then on the real clock it starts at 0.8 times the estimate,
 * doubles the rate while trials hold (halves it while they do not, down to 0.1 times the estimate), and
 * binary-searches between the last rate that held and the first that did not, judging each short trial with
 * {@link judgeStability}, until the two are within 5% or the budget is spent.
 */
export async function searchRate(
  job: JobDocument,
  baseDir: string,
  samples: ReadonlyMap<string, readonly unknown[]>,
  config: { readonly intervalMs: number; readonly partitions: number },
  limits: SearchLimits,
  log: (line: string) => void = () => {},
): Promise<ConfigResult> {
  const started = performance.now();
  const trials: TuneTrial[] = [];
  const base = { ...config, trials };
  const workers = limits.workers !== undefined ? { workers: limits.workers } : {};
  const runTrial: TrialRunner =
    limits.runTrial ?? ((trialConfig, run) => runTuneTrial(job, baseDir, samples, trialConfig, run));

  // The logical clock: a few batches back to back, the rate raised until a batch takes half an interval or more.
  // Given a start rate, the real-clock search starts there instead (0.8 × an estimate of 1.25 × it).
  // Past the ceiling the job would refuse its own sources' rate: the search stays at or below it, and a
  // configuration that holds there is reported as sustaining at least it.
  const ceiling = limits.maxPerSec ?? Number.POSITIVE_INFINITY;
  const capped = (perSec: number) => Math.min(ceiling, perSec);
  let rate = capped(1000);
  let estimate = limits.startPerSec !== undefined ? limits.startPerSec / 0.8 : 0;
  for (let step = 0; step < (limits.startPerSec !== undefined ? 0 : 5); step++) {
    if (step > 0 && performance.now() - started > limits.budgetMs / 3) break; // leave the real clock its time
    let run: Awaited<ReturnType<typeof runTuneTrial>>;
    try {
      run = await runTrial(
        { ...config, ratePerSec: rate },
        {
          clock: 'logical',
          batches: 3,
          ...workers,
        },
      );
    } catch (error) {
      // The job refuses this configuration (a window's slide that is not a multiple of the interval): the
      // others are still worth trying, so this one is reported, not thrown.
      const message = error instanceof Error ? error.message : String(error);
      log(`  not possible: ${message}`);
      return { ...base, estimatePerSec: 0, error: message };
    }
    if (run.error) return { ...base, estimatePerSec: estimate, error: run.error };
    // The first batch pays for JIT warm-up in every thread; a stream lives in the steady state after it.
    const measured = run.batches.slice(1);
    const records = measured.reduce((n, b) => n + b.records, 0);
    const processingMs = measured.reduce((n, b) => n + b.processingTimeMs, 0);
    estimate = (records / Math.max(1, processingMs)) * 1000;
    trials.push({
      ratePerSec: rate,
      clock: 'logical',
      reason: `${Math.round(estimate)} records/s of processing`,
      batches: run.batches,
    });
    log(`  ${rate}/s on the logical clock: ${Math.round(estimate)} records/s of processing`);
    const batchMs = processingMs / Math.max(1, measured.length);
    if (batchMs >= config.intervalMs / 2 || estimate <= rate || rate >= ceiling) break;
    rate = capped(Math.round(Math.min(estimate, rate * 16)));
  }

  // The real clock: the bench's search (around the logical estimate), open upwards for a job the estimate
  // undersells.
  const batches = Math.max(3, Math.ceil(limits.trialMs / config.intervalMs));
  const lastBatches = Math.min(4, batches - 1);
  const attempt = async (ratePerSec: number): Promise<TuneTrial> => {
    const stopAboveMs = STOP_ABOVE_INTERVALS * config.intervalMs;
    const run = await runTrial(
      { ...config, ratePerSec },
      {
        clock: 'system',
        batches,
        stopAboveTotalDelayMs: stopAboveMs,
        ...workers,
      },
    );
    const worst = Math.max(0, ...run.batches.map((b) => b.totalDelayMs));
    const verdict = run.error
      ? { stable: false, reason: `failed: ${run.error}` }
      : run.stoppedEarly
        ? { stable: false, reason: `stopped early: total delay reached ${worst} ms > ${stopAboveMs} ms` }
        : judgeStability(run.batches, batches, config.intervalMs, { lastBatches });
    log(`  ${ratePerSec}/s on the real clock: ${verdict.stable ? 'stable' : 'unstable'} (${verdict.reason})`);
    const trial = { ratePerSec, clock: 'system' as const, ...verdict, batches: run.batches };
    trials.push(trial);
    return trial;
  };
  // What the table reports as the estimate: only a measured one.
  const reportedEstimate = limits.startPerSec !== undefined ? 0 : Math.round(estimate);
  const lowPerSec = capped(Math.max(1, Math.round(estimate * 0.1)));
  // Bounds known so far: `low` held (or is the floor), `high` did not (or is not known yet).
  let low = lowPerSec;
  let high: number | undefined;
  let best: TuneTrial | undefined;
  // A trial costs its stream time plus starting and stopping the runtime: the last one's length says how much.
  let trialCostMs = batches * config.intervalMs;
  let next = capped(Math.max(1, Math.round(estimate * 0.8)));
  for (let step = 0; step < (limits.maxSteps ?? 8); step++) {
    const spent = performance.now() - started;
    if (step > 0 && spent + trialCostMs > limits.budgetMs) break;
    const trialStarted = performance.now();
    let trial: TuneTrial;
    try {
      trial = await attempt(next);
    } catch (error) {
      // The stack refused the configuration (only a run elsewhere gets here: locally the logical clock would
      // have): the others are still worth trying.
      const message = error instanceof Error ? error.message : String(error);
      log(`  not possible: ${message}`);
      return { ...base, estimatePerSec: reportedEstimate, error: message };
    }
    trialCostMs = performance.now() - trialStarted;
    if (trial.stable) {
      best = trial;
      low = next;
    } else {
      high = next;
    }
    if (trial.stable && next >= ceiling) break; // nothing higher can be fed
    // Exponential while one side is open (the estimate can be off either way), then binary.
    if (high === undefined) next = capped(low * 2);
    else if (!best && high / 2 >= lowPerSec) next = Math.round(high / 2);
    else next = Math.round((low + high) / 2);
    if (high !== undefined && high - low <= Math.max(1, low * 0.05)) break; // closer than a shared machine tells
  }
  // Nothing held: say whether even the bottom of the range does, rather than report nothing (within maxSteps
  // trials when that is given).
  const realTrials = trials.filter((t) => t.clock === 'system').length;
  if (!best && high !== lowPerSec && realTrials < (limits.maxSteps ?? Number.POSITIVE_INFINITY)) {
    const bottom = await attempt(lowPerSec);
    if (bottom.stable) best = bottom;
  }
  if (!best) {
    const lowest = trials.filter((t) => t.clock === 'system').at(-1);
    const bottleneck = lowest ? findBottleneck(lowest.batches.slice(1)) : undefined;
    return { ...base, estimatePerSec: reportedEstimate, ...(bottleneck ? { bottleneck } : {}) };
  }
  const judged = best.batches.slice(-lastBatches);
  const bottleneck = findBottleneck(judged);
  return {
    ...base,
    estimatePerSec: reportedEstimate,
    sustainablePerSec: best.ratePerSec,
    ...(best.ratePerSec >= ceiling ? { ceilingPerSec: ceiling } : {}),
    medianTotalDelayMs: median(judged.map((b) => b.totalDelayMs)),
    medianProcessingMs: median(judged.map((b) => b.processingTimeMs)),
    ...(bottleneck ? { bottleneck } : {}),
  };
}
