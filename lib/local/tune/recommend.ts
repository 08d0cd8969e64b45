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
 */
export function recommend(results: readonly ConfigResult[], targetPerSec?: number): Recommendation {
  const sustained = results.filter((r) => latencyMs(r) !== undefined);
  const highest = [...sustained].sort((a, b) => b.sustainablePerSec! - a.sustainablePerSec!)[0];
  if (targetPerSec === undefined) {
    if (!highest)
      return { text: 'No configuration tried kept its total delay flat, even at the lowest rate tried.' };
    return chosen(
      highest,
      `it sustains the highest rate found, ${highest.sustainablePerSec} records/s, with a latency of about ` +
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
      ? ` The highest rate found is ${highest.sustainablePerSec} records/s, with a batch interval of ` +
        `${seconds(highest.intervalMs)} and ${highest.partitions} partitions.`
      : '';
    return {
      text:
        `No configuration tried sustains ${targetPerSec} records/s.${closest} Try longer intervals, more ` +
        'partitions, or more cores.',
    };
  }
  return chosen(
    best,
    `it sustains ${targetPerSec} records/s (up to ${best.sustainablePerSec} records/s) with the least latency ` +
      `of the configurations that do, about ${aboutSeconds(latencyMs(best)!)}.`,
  );
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
