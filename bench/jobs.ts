/**
 * The benchmark's job modules. Every worker thread re-imports this file and rebuilds the job by its export
 * name, so a job's settings must be spelled in that name: `wordCount.250000.2` is WordCount fed 250 000
 * generated lines a second split over 2 partitions. The rate-indexed exports make that name a plain job
 * source (`{ kind: 'module', path, exportName }`) that crosses threads as JSON, like any other job.
 */
import type { DStream } from '../lib/dstream/DStream';
import { defineJob, type JobModule } from '../lib/job/JobModule';
import type { StreamingContext } from '../lib/StreamingContext';
import type { GeneratorSourceOptions } from '../lib/source/GeneratorSource';

/** The batch interval of every benchmark job, in milliseconds. */
export const BATCH_INTERVAL_MS = 1000;

/** Size of every generated line, in bytes. */
export const LINE_BYTES = 100;

/**
 * The word Grep looks for. A mid-frequency word of the generator's Zipf vocabulary, chosen because it is in a
 * few percent of the lines and, as a substring, is not part of any more frequent word (`the` would also
 * match `there`, `they`, `other`). The benchmark measures and reports the fraction it actually matches.
 */
export const GREP_WORD = 'water';

/** The generator settings of both workloads at `ratePerSec` lines a second. */
export function lineSource(ratePerSec: number): GeneratorSourceOptions<'lines'> {
  return { kind: 'lines', ratePerSec, lineBytes: LINE_BYTES, seed: 1 };
}

/**
 * Lines the engine's jobs cycle through, made once per thread before they are read (the generator's
 * `poolRecords`): the input is pre-made, as the hand-written loop's is, so that the benchmark measures the engine
 * and not the generator, which inside the timing bounded Grep. 26 MB of lines per thread.
 */
export const POOL_LINES = 1 << 18;

/** The engine jobs' input: {@link lineSource} from a pre-made pool of {@link POOL_LINES}. */
function premadeLines(ratePerSec: number): GeneratorSourceOptions<'lines'> {
  return { ...lineSource(ratePerSec), poolRecords: POOL_LINES };
}

// The record functions are declarations, not arrows, so a CPU profile names them: tsx wraps arrows in a
// naming helper (esbuild's keepNames), which leaves them anonymous to V8.
function splitWords(line: string): string[] {
  return line.split(' ');
}
function pairWithOne(word: string): [string, number] {
  return [word, 1];
}
function sum(a: number, b: number): number {
  return a + b;
}
function containsGrepWord(line: string): boolean {
  return line.includes(GREP_WORD);
}

/** WordCount's transformations: split lines, pair each word with 1, sum per word. */
export function wordCounts(lines: DStream<string>): DStream<[string, number]> {
  return lines.flatMap(splitWords).map(pairWithOne).reduceByKey(sum);
}

/** Grep's transformations: the lines that contain {@link GREP_WORD}. */
export function grepLines(lines: DStream<string>): DStream<string> {
  return lines.filter(containsGrepWord);
}

/** A job family indexed by `<ratePerSec>.<partitions>` in its export name; see the module comment. */
export type JobsByRate = Readonly<Record<string, Readonly<Record<string, JobModule>>>>;

function byRate(make: (ssc: StreamingContext, ratePerSec: number, partitions: number) => void): JobsByRate {
  const perRate = (rate: string) =>
    new Proxy({} as Record<string, JobModule>, {
      get: (_target, partitions) =>
        typeof partitions === 'string' ? job(Number(rate), Number(partitions), make) : undefined,
    });
  return new Proxy({} as Record<string, Record<string, JobModule>>, {
    get: (_target, rate) => (typeof rate === 'string' ? perRate(rate) : undefined),
  });
}

function job(
  ratePerSec: number,
  partitions: number,
  make: (ssc: StreamingContext, ratePerSec: number, partitions: number) => void,
): JobModule {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`a benchmark job needs a positive whole number of partitions, got ${partitions}`);
  }
  // Shuffles get as many partitions as the input, so every worker thread has a reduce task too.
  return defineJob({ batchIntervalMs: BATCH_INTERVAL_MS, defaultPartitions: partitions }, (ssc) =>
    make(ssc, ratePerSec, partitions),
  );
}

/**
 * WordCount; its output is the number of distinct words per batch, which forces every word through the
 * shuffle without printing or collecting them.
 */
export const wordCount: JobsByRate = byRate((ssc, ratePerSec, partitions) => {
  wordCounts(ssc.generatorStream(premadeLines(ratePerSec), partitions))
    .count()
    .collectBatches('distinctWords');
});

/** Grep; its output is the number of matching lines per batch. */
export const grep: JobsByRate = byRate((ssc, ratePerSec, partitions) => {
  grepLines(ssc.generatorStream(premadeLines(ratePerSec), partitions))
    .count()
    .collectBatches('matchingLines');
});

/** A job with no input at all, to time what the scheduler costs per batch: an empty queue and a count. */
export const empty: JobModule = defineJob({ batchIntervalMs: BATCH_INTERVAL_MS }, (ssc) => {
  ssc.queueStream<string>([]).count().collectBatches('count');
});

function addCounts(values: number[], state: number | undefined): number {
  let s = state ?? 0;
  for (const v of values) s += v;
  return s;
}

/**
 * Many small state blocks: WordCount's words counted with updateStateByKey over 32 partitions, its state
 * checkpointed every batch, so each batch writes 32 blocks a restart reads (bench/durableWrites.ts).
 */
export const stateBlocks: JobsByRate = byRate((ssc, ratePerSec, partitions) => {
  wordCounts(ssc.generatorStream(premadeLines(ratePerSec), partitions))
    .updateStateByKey(addCounts, { partitions: 32 })
    .checkpoint(BATCH_INTERVAL_MS)
    .count()
    .collectBatches('keys');
});
