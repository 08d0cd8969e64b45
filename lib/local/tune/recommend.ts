import {
  MAX_GENERATED_BYTES_PER_BATCH,
  MAX_GENERATED_RECORDS_PER_BATCH,
  MAX_GENERATOR_RATE_PER_SEC,
} from '../../job/jobLimits';
import type { ConfigResult } from './searchRate';

/** The configuration `sluice tune` recommends, and why, in plain words. */
export interface Recommendation {
  /** The chosen configuration, or undefined when none sustains the target (or any rate at all). */
  readonly intervalMs?: number;
  readonly partitions?: number;
  /** Its highest sustainable rate, in records a second. */
  readonly sustainablePerSec?: number;
  /** Its latency estimate: one interval (a record waits for its batch) plus the median total delay, in ms. */
  readonly latencyMs?: number;
  /** The recommendation as a sentence. */
  readonly text: string;
}

/** A record waits up to one interval for its batch, then the batch's total delay: the worst end-to-end latency. */
export function latencyMs(result: ConfigResult): number | undefined {
  if (result.sustainablePerSec === undefined || result.medianTotalDelayMs === undefined) return undefined;
  return result.intervalMs + result.medianTotalDelayMs;
}

const seconds = (ms: number) => `${ms / 1000} s`;
/** A latency to a tenth of a second: more digits would claim a precision a shared machine does not give. */
const aboutSeconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Picks, among the configurations whose sustainable rate reaches `targetPerSec`, the one with the least latency
 * (ties: fewer partitions, then the shorter interval). Without a target, the one that sustains the highest rate.
 * `moreCapacity` is what gives the job more compute where the trials ran, for the advice when none reaches the
 * target. Default `more cores` (this machine's).
 */
export function recommend(
  results: readonly ConfigResult[],
  targetPerSec?: number,
  moreCapacity = 'more cores',
): Recommendation {
  if (results.length > 0 && results.every((r) => r.error !== undefined)) {
    return {
      text:
        'No configuration tried could run the job: each row says why (invalid: the job refuses that interval or ' +
        'partition count; failed: a batch failed, and the log above gives its error).',
    };
  }
  const sustained = results.filter((r) => latencyMs(r) !== undefined);
  // Ties (configurations that all held at the most the sources make) go to the least latency.
  const highest = [...sustained].sort(
    (a, b) => b.sustainablePerSec! - a.sustainablePerSec! || latencyMs(a)! - latencyMs(b)!,
  )[0];
  if (targetPerSec === undefined) {
    if (!highest)
      return { text: 'No configuration tried kept its total delay flat, even at the lowest rate tried.' };
    return chosen(
      highest,
      highest.ceilingPerSec !== undefined
        ? `it sustains at least ${highest.sustainablePerSec} records/s, ${ceilingWords(highest)}, with a ` +
            `latency of about ${aboutSeconds(latencyMs(highest)!)}.`
        : `it sustains the highest rate found, ${highest.sustainablePerSec} records/s, with a latency of about ` +
            `${aboutSeconds(latencyMs(highest)!)}.`,
    );
  }
  const meeting = sustained
    .filter((r) => r.sustainablePerSec! >= targetPerSec)
    .sort(
      (a, b) => latencyMs(a)! - latencyMs(b)! || a.partitions - b.partitions || a.intervalMs - b.intervalMs,
    );
  const best = meeting[0];
  if (!best) {
    const closest = highest
      ? ` The highest rate found is ${highest.ceilingPerSec !== undefined ? 'at least ' : ''}` +
        `${highest.sustainablePerSec} records/s, with a batch interval of ${seconds(highest.intervalMs)} and ` +
        `${highest.partitions} partitions.`
      : '';
    // A configuration that held at the most its sources make was never tried above it: say so, not "too slow".
    const advice = sustained.some((r) => r.ceilingPerSec !== undefined)
      ? ` Rates marked ≥ held at the most the job's generator sources may make (${GENERATOR_LIMITS}), so those ` +
        'configurations may sustain more than tune could feed them. A shorter interval raises that limit, up to ' +
        `${grouped(MAX_GENERATOR_RATE_PER_SEC)} records/s; past it, give the job a socket or folder source and ` +
        'tune a sample of its records (--sample).'
      : ` Try longer intervals, more partitions, or ${moreCapacity}.`;
    return { text: `No configuration tried sustains ${targetPerSec} records/s.${closest}${advice}` };
  }
  return chosen(
    best,
    `it sustains ${targetPerSec} records/s (${best.ceilingPerSec !== undefined ? 'at least' : 'up to'} ` +
      `${best.sustainablePerSec} records/s) with the least latency of the configurations that do, about ` +
      `${aboutSeconds(latencyMs(best)!)}.`,
  );
}

const grouped = (n: number) => n.toLocaleString('en-US');

/** What a generator source may make, in the job's limits (`maxGeneratorRatePerSec`). */
const GENERATOR_LIMITS =
  `${grouped(MAX_GENERATOR_RATE_PER_SEC)} records a second, and ${grouped(MAX_GENERATED_RECORDS_PER_BATCH)} ` +
  `records or ${MAX_GENERATED_BYTES_PER_BATCH / 2 ** 20} MiB of lines a batch`;

/** Why a configuration's rate is a floor: its trials reached what the generators may make. */
function ceilingWords(result: ConfigResult): string {
  return `the most the job's generator sources may make at a ${seconds(result.intervalMs)} interval (${GENERATOR_LIMITS})`;
}

/** The recommendation of a sustained configuration: its figures, and a sentence that names it and says `why`. */
function chosen(best: ConfigResult, why: string): Recommendation {
  return {
    intervalMs: best.intervalMs,
    partitions: best.partitions,
    sustainablePerSec: best.sustainablePerSec!,
    latencyMs: latencyMs(best)!,
    text: `Use a batch interval of ${seconds(best.intervalMs)} with ${best.partitions} partitions: ${why}`,
  };
}
