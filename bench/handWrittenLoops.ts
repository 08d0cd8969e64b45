import { GeneratorSource } from '../lib/source/GeneratorSource';
import { BATCH_INTERVAL_MS, GREP_WORD, lineSource } from './jobs';
import { median } from './stats';
import type { Workload } from './sustainableRate';

/** WordCount as a plain loop: split every line on spaces and count the words in a Map. */
export function wordCountLoop(lines: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    const words = lines[i]!.split(' ');
    for (let w = 0; w < words.length; w++) {
      const word = words[w]!;
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  return counts;
}

/** Grep as a plain loop: how many lines contain {@link GREP_WORD}. */
export function grepLoop(lines: readonly string[]): number {
  let matches = 0;
  for (let i = 0; i < lines.length; i++) if (lines[i]!.includes(GREP_WORD)) matches++;
  return matches;
}

/** The timings of a hand-written loop over the same generated lines. */
export interface LoopTiming {
  /** How many lines each repeat went through. */
  readonly lines: number;
  /** Records a second of every repeat, in order. */
  readonly repeatsPerSec: readonly number[];
  /** The median of the repeats: the practical single-core limit. */
  readonly recordsPerSec: number;
  /** What the loop computed (distinct words, or matching lines), to compare with Sluice's output. */
  readonly answer: number;
}

/**
 * One timing from the passes of several: the loop is timed before and after a workload's Sluice runs, so a
 * burst of load from other processes does not decide the limit alone.
 */
export function mergeLoopTimings(timings: readonly LoopTiming[]): LoopTiming {
  const repeatsPerSec = timings.flatMap((t) => t.repeatsPerSec);
  return {
    lines: timings[0]?.lines ?? 0,
    repeatsPerSec,
    recordsPerSec: median(repeatsPerSec),
    answer: timings[0]?.answer ?? 0,
  };
}

/** How fast the generator itself makes the lines, in one thread. */
export interface GenerationTiming {
  readonly lines: number;
  readonly recordsPerSec: number;
}

/**
 * Generates `lines` lines with the benchmark's GeneratorSource (outside any timing), then times the workload's
 * loop over them `repeats` times. The first pass is also a warm-up; the median hides it.
 */
export async function timeLoop(workload: Workload, lines: number, repeats: number): Promise<LoopTiming> {
  const { records } = await generateLines(lines);
  const repeatsPerSec: number[] = [];
  let answer = 0;
  for (let r = 0; r < repeats; r++) {
    const started = performance.now();
    answer = workload === 'wordCount' ? wordCountLoop(records).size : grepLoop(records);
    repeatsPerSec.push((records.length / (performance.now() - started)) * 1000);
  }
  return { lines: records.length, repeatsPerSec, recordsPerSec: median(repeatsPerSec), answer };
}

/** Makes `lines` lines the way a benchmark batch does, and says how fast that went. */
export async function generateLines(lines: number): Promise<GenerationTiming & { records: string[] }> {
  // One batch at `lines` a second holds exactly `lines` lines.
  const source = new GeneratorSource(lineSource(lines * (1000 / BATCH_INTERVAL_MS)));
  const started = performance.now();
  const records = await source.recordsFor(BATCH_INTERVAL_MS, BATCH_INTERVAL_MS);
  return {
    lines: records.length,
    recordsPerSec: (records.length / (performance.now() - started)) * 1000,
    records,
  };
}
