import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { extname, resolve } from 'node:path';
import type { JobDocument } from '../../job/JobDocument';
import type { JobSource } from '../../job/JobSource';
import { MAX_BATCH_INTERVAL_MS, MAX_PARTITIONS } from '../../job/jobLimits';
import type { TrialRunner } from '../../scheduler/TrialRunner';
import { type Recommendation, recommend } from './recommend';
import { type ConfigResult, searchRate } from './searchRate';
import { tuneTable } from './tuneTable';
import { maxTrialRatePerSec } from './tuneTrial';

/** Settings of `sluice tune`, as the command line gives them. */
export interface TuneOptions {
  /** Batch intervals to try, in ms. Default 500, 1000, 2000, 5000. */
  readonly intervalsMs?: readonly number[];
  /** Partition counts to try. Default: the job's `defaultPartitions` (2) and the number of cores. */
  readonly partitions?: readonly number[];
  /** The rate the recommendation must sustain, in records a second. */
  readonly targetPerSec?: number;
  /** Samples of records for the sources that are not generators: `file` for all of them, or `name=file`. */
  readonly samples?: readonly string[];
  /** The whole search's time, in ms. Default 5 minutes. */
  readonly budgetMs?: number;
  /** The stream time of one real-clock trial, in ms. Default 4 s (at least 3 batches). */
  readonly trialMs?: number;
  /** Worker threads. Default one per core. */
  readonly workers?: number;
  /** Where to write the whole search as JSON. */
  readonly outPath?: string;
  /** Real-clock trials per configuration at most. Default 8 (and one at the bottom of the range). */
  readonly maxTrials?: number;
  /** The first real-clock trial's rate, instead of a logical-clock estimate. Default: the estimate. */
  readonly startPerSec?: number;
  /**
   * Trials on the deployed stack instead of in this process (`sluice tune --aws`, see `awsTrialRunner`): given
   * the job's sources and samples, the runner, and what the report says about where it ran.
   */
  readonly elsewhere?: (
    job: JobDocument,
    samples: ReadonlyMap<string, readonly unknown[]>,
  ) => {
    readonly runTrial: TrialRunner;
    readonly where: Readonly<Record<string, string>>;
    /** What gives the job more compute there, for the advice when no configuration reaches the target. */
    readonly moreCapacity?: string;
  };
}

/** The JSON `sluice tune --out` writes: everything the search did, and the words that describe it. */
export interface TuneReport {
  readonly kind: 'sluice-tune';
  readonly version: 1;
  readonly job: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly cores: number;
  /** The rule each real-clock trial was judged by, in words and in numbers (see `judgeStability`). */
  readonly rule: {
    readonly text: string;
    readonly lastBatches: number;
    readonly maxTotalDelayIntervals: number;
    readonly growthIntervals: number;
  };
  readonly settings: {
    readonly intervalsMs: readonly number[];
    readonly partitions: readonly number[];
    readonly targetPerSec?: number;
    readonly budgetMs: number;
    readonly trialMs: number;
    /** Which sources were fed from which sample file; every other source is a generator at the rate tried. */
    readonly samples: Readonly<Record<string, string>>;
    readonly maxTrials?: number;
    readonly startPerSec?: number;
    /** Where the trials ran when not in this process: `{ "on": "aws", "control": …, "stream": … }`. */
    readonly ranOn?: Readonly<Record<string, string>>;
  };
  /** One entry per configuration: its estimate, its sustainable rate, its bottleneck, every trial's batches. */
  readonly results: readonly ConfigResult[];
  readonly recommendation: Recommendation;
}

const RULE_TEXT =
  'A trial is stable when every batch ran without error and, over its last batches (up to 4), processing ' +
  'stays below the interval, total delay stays below 1.5 intervals, and total delay does not keep growing ' +
  '(never falling and rising by more than 0.1 interval).';

/** Reads a sample file: `.jsonl`/`.ndjson`/`.json` lines are JSON values, any other file's lines are text. */
async function readSample(path: string): Promise<unknown[]> {
  const text = await readFile(path, 'utf8').catch(() => {
    throw new Error(`cannot read the sample file ${path}`);
  });
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  if (!['.jsonl', '.ndjson', '.json'].includes(extname(path))) return lines;
  return lines.map((line, i) => {
    try {
      return JSON.parse(line) as unknown;
    } catch (error) {
      throw new Error(`line ${i + 1} of the sample ${path} is not JSON: ${(error as Error).message}`);
    }
  });
}

/** The sample of every source that is not a generator, from `--sample file` or `--sample name=file`. */
async function loadSamples(
  job: JobDocument,
  specs: readonly string[],
): Promise<{ samples: Map<string, unknown[]>; files: Record<string, string> }> {
  const needing = Object.entries(job.sources)
    .filter(([, spec]) => spec.type !== 'generator')
    .map(([name]) => name);
  const files: Record<string, string> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const named = eq > 0 && job.sources[spec.slice(0, eq)] !== undefined;
    const path = resolve(named ? spec.slice(eq + 1) : spec);
    for (const name of named ? [spec.slice(0, eq)] : needing) files[name] = path;
  }
  const missing = needing.filter((name) => files[name] === undefined);
  if (missing.length > 0) {
    throw new Error(
      `source ${missing.join(', ')} is not a generator, so sluice tune replays a sample of its records at each ` +
        'rate: give one with --sample records.jsonl (or --sample <source>=records.jsonl)',
    );
  }
  const samples = new Map<string, unknown[]>();
  for (const [name, path] of Object.entries(files)) {
    const sample = await readSample(path);
    if (sample.length === 0) throw new Error(`the sample file ${path} for source ${name} has no records`);
    // A socket, a folder, Kinesis and S3 deliver text lines: a JSON value in their place (a tweet of tweets.jsonl)
    // made a job's parseJson dead-letter every record, and the search measured nothing but dead letters. A string
    // value is its line, any other value its JSON, as --aws puts it into a stream; a queue takes JSON values.
    const lines = job.sources[name]?.type !== 'queue';
    samples.set(name, lines ? sample.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))) : sample);
  }
  return { samples, files };
}

/** The range of each whole-number option, as `sluice tune`'s flag for it reads it; `Infinity`: no upper bound. */
const NUMBER_RANGES = {
  budgetMs: [1, Infinity],
  trialMs: [1, Infinity],
  workers: [0, MAX_PARTITIONS],
  maxTrials: [1, Infinity],
  startPerSec: [1, Infinity],
  targetPerSec: [1, Infinity],
} as const satisfies Partial<Record<keyof TuneOptions, readonly [number, number]>>;

/** The range of each list option and what one of its values is. */
const LIST_RANGES = {
  intervalsMs: { range: [1, MAX_BATCH_INTERVAL_MS], what: 'batch interval' },
  partitions: { range: [1, MAX_PARTITIONS], what: 'partition count' },
} as const satisfies Partial<Record<keyof TuneOptions, { range: readonly [number, number]; what: string }>>;

const isWholeIn = (n: number, [min, max]: readonly [number, number]) =>
  Number.isInteger(n) && n >= min && n <= max;
const rangeWords = ([min, max]: readonly [number, number]) =>
  max === Infinity ? `, ${min} or more` : ` from ${min} to ${max}`;

/**
 * Refuses options the search cannot use, before anything runs, naming each option, its range and its value: the
 * ranges `sluice tune`'s flags are read with, for a caller of `runTune` that passes numbers as they are
 * (`partitions: [0]` had every configuration reported invalid after the search spent its budget on them, and
 * `budgetMs: 0` still ran every configuration's estimate and trial).
 */
export function checkTuneOptions(options: TuneOptions): void {
  const problems: string[] = [];
  for (const [name, { range, what }] of Object.entries(LIST_RANGES)) {
    const list = options[name as keyof typeof LIST_RANGES];
    if (list === undefined) continue;
    if (list.length === 0) problems.push(`${name} must list at least one ${what}, got []`);
    else if (!list.every((n) => isWholeIn(n, range)))
      problems.push(`${name} must each be a whole number${rangeWords(range)}, got ${JSON.stringify(list)}`);
  }
  for (const [name, range] of Object.entries(NUMBER_RANGES)) {
    const value = options[name as keyof typeof NUMBER_RANGES];
    if (value !== undefined && !isWholeIn(value, range))
      problems.push(`${name} must be a whole number${rangeWords(range)}, got ${String(value)}`);
  }
  if (problems.length > 0) throw new RangeError(`sluice tune's options: ${problems.join('; ')}`);
}

/**
 * `sluice tune`: for every batch interval and partition count tried, searches the highest input rate the job
 * sustains (see `searchRate`), prints a table and a recommendation, and writes the whole search as JSON.
 */
export async function runTune(
  source: JobSource,
  jobArg: string,
  options: TuneOptions,
  print: (text: string) => void,
  log: (line: string) => void,
): Promise<TuneReport> {
  checkTuneOptions(options);
  if (source.kind !== 'document') {
    throw new Error(
      'sluice tune sets the batch interval, the partitions and the input rate of a job document: give a .json job',
    );
  }
  const job = source.document as JobDocument;
  const cores = availableParallelism();
  const intervalsMs = options.intervalsMs ?? [500, 1000, 2000, 5000];
  const partitions = options.partitions ?? [...new Set([job.defaultPartitions ?? 2, cores])];
  const budgetMs = options.budgetMs ?? 300_000;
  const trialMs = options.trialMs ?? 4000;
  const { samples, files } = await loadSamples(job, options.samples ?? []);
  const elsewhere = options.elsewhere?.(job, samples);
  const started = new Date();
  const startedMs = performance.now();
  const configs = intervalsMs.flatMap((intervalMs) => partitions.map((p) => ({ intervalMs, partitions: p })));
  const results: ConfigResult[] = [];
  for (const [i, config] of configs.entries()) {
    // Each configuration gets an equal share of what is left, so an early one that finishes fast leaves more.
    const leftMs = budgetMs - (performance.now() - startedMs);
    const shareMs = Math.max(0, leftMs / (configs.length - i));
    log(
      `interval ${config.intervalMs / 1000} s, ${config.partitions} partitions (${Math.round(shareMs / 1000)} s)`,
    );
    const maxPerSec = maxTrialRatePerSec(job, config.intervalMs);
    results.push(
      await searchRate(
        job,
        source.baseDir,
        samples,
        config,
        {
          budgetMs: shareMs,
          trialMs,
          ...(options.workers !== undefined ? { workers: options.workers } : {}),
          ...(options.maxTrials !== undefined ? { maxSteps: options.maxTrials } : {}),
          ...(options.startPerSec !== undefined ? { startPerSec: options.startPerSec } : {}),
          ...(Number.isFinite(maxPerSec) ? { maxPerSec } : {}),
          ...(elsewhere ? { runTrial: elsewhere.runTrial } : {}),
        },
        log,
      ),
    );
  }
  const recommendation = recommend(results, options.targetPerSec, elsewhere?.moreCapacity);
  print(`${tuneTable(results)}\n\n${recommendation.text}\n`);
  const report: TuneReport = {
    kind: 'sluice-tune',
    version: 1,
    job: jobArg,
    startedAt: started.toISOString(),
    durationMs: Math.round(performance.now() - startedMs),
    cores,
    rule: { text: RULE_TEXT, lastBatches: 4, maxTotalDelayIntervals: 1.5, growthIntervals: 0.1 },
    settings: {
      intervalsMs,
      partitions,
      ...(options.targetPerSec !== undefined ? { targetPerSec: options.targetPerSec } : {}),
      budgetMs,
      trialMs,
      samples: files,
      ...(options.maxTrials !== undefined ? { maxTrials: options.maxTrials } : {}),
      ...(options.startPerSec !== undefined ? { startPerSec: options.startPerSec } : {}),
      ...(elsewhere ? { ranOn: elsewhere.where } : {}),
    },
    results,
    recommendation,
  };
  if (options.outPath !== undefined) {
    await writeFile(options.outPath, `${JSON.stringify(report, null, 2)}\n`);
    log(`Wrote the whole search to ${options.outPath}`);
  }
  return report;
}
