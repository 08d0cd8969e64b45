import { GREP_WORD } from '../jobs';
import { type BatchReport, type EngineName, EngineProcess } from './EngineProcess';
import { launchEngine } from './engineLaunch';
import { LineFeeder, type LinePool } from './LineFeeder';
import { hashtagsOf, type Workload } from './sluiceJobs';

/** A batch's output in a comparable form: counts by key, or a single count (grep). */
type BatchResult = ReadonlyMap<string, number> | number;

/** The correctness run of one workload. */
export interface CorrectnessSpec {
  readonly workload: Workload;
  readonly pool: LinePool;
  readonly intervalMs: number;
  /** Window and slide of `hashtags` for this check, in ms. */
  readonly windowMs: number;
  readonly slideMs: number;
  /** Lines written in each burst, one burst per batch. */
  readonly linesPerBatch: number;
  readonly bursts: number;
  /** Batches compared after the last burst (a window empties out over them). */
  readonly trailingBatches: number;
}

/** How one engine's batches compared with the reference. */
export interface EngineCheck {
  readonly engine: EngineName;
  /** Batches whose output equals the reference, of {@link CorrectnessResult.batches}. */
  readonly resultsMatched: number;
  /** Batches whose record count equals the lines of their burst. */
  readonly recordsMatched: number;
  /** The first difference, in words. */
  readonly firstMismatch?: string;
}

/** What the correctness check found for one workload. */
export interface CorrectnessResult {
  readonly workload: Workload;
  readonly linesPerBatch: number;
  readonly bursts: number;
  /** Batches compared. */
  readonly batches: number;
  readonly windowMs: number;
  readonly checks: readonly EngineCheck[];
  /** Spark and Sluice gave identical output for every batch. */
  readonly enginesAgree: boolean;
  /** The comparison flagged a deliberately wrong answer, as it must. */
  readonly detectsWrongAnswer: boolean;
  readonly error?: string;
}

function countsOf(keys: Iterable<string>, into = new Map<string, number>()): Map<string, number> {
  for (const key of keys) into.set(key, (into.get(key) ?? 0) + 1);
  return into;
}

/** The reference output of every compared batch, computed in this process from the same lines. */
function referenceResults(spec: CorrectnessSpec): BatchResult[] {
  const burst = (k: number) => spec.pool.lines.slice(k * spec.linesPerBatch, (k + 1) * spec.linesPerBatch);
  const out: BatchResult[] = [];
  for (let j = 0; j < spec.bursts + spec.trailingBatches; j++) {
    const lines = j < spec.bursts ? burst(j) : [];
    if (spec.workload === 'grep') out.push(lines.filter((l) => l.includes(GREP_WORD)).length);
    else if (spec.workload === 'wordCount') out.push(countsOf(lines.flatMap((l) => l.split(' '))));
    else {
      const windowBatches = spec.windowMs / spec.intervalMs;
      const counts = new Map<string, number>();
      for (let k = Math.max(0, j - windowBatches + 1); k <= Math.min(j, spec.bursts - 1); k++) {
        countsOf(burst(k).flatMap(hashtagsOf), counts);
      }
      out.push(counts);
    }
  }
  return out;
}

function normalise(result: unknown): BatchResult | undefined {
  if (typeof result === 'number') return result;
  if (!Array.isArray(result)) return undefined;
  return new Map(result.map((pair) => pair as [string, number]));
}

/** Undefined when equal; otherwise the first difference, in words. */
function difference(actual: BatchResult | undefined, expected: BatchResult): string | undefined {
  if (actual === undefined) return 'no output';
  if (typeof expected === 'number' || typeof actual === 'number') {
    return actual === expected ? undefined : `${String(actual)} instead of ${String(expected)}`;
  }
  for (const [key, count] of expected) {
    if (actual.get(key) !== count) return `${key}: ${actual.get(key) ?? 'missing'} instead of ${count}`;
  }
  for (const key of actual.keys()) if (!expected.has(key)) return `unexpected key ${key}`;
  return undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Feeds both engines, at once, through the same socket server, the same deterministic number of lines per
 * batch, and compares every batch's output with a reference computed here.
 *
 * Why per batch and not totals: a socket stream's batch boundaries are wherever each engine's clock ticks. So
 * both engines tick on wall-clock multiples of the interval (Spark does so on its own, Sluice's engine process
 * starts its clock on one), and each batch's lines are written as one burst in the middle of the interval,
 * far from either boundary (Spark's receiver cuts blocks every 200 ms). Batch k of either engine then holds
 * exactly burst k, and a windowed count can be checked batch by batch, including the batches where bursts
 * leave the window.
 */
export async function checkCorrectness(
  spec: CorrectnessSpec,
  log: (line: string) => void,
): Promise<CorrectnessResult> {
  const expected = referenceResults(spec);
  const feeder = await LineFeeder.start(spec.pool);
  const settings = {
    workload: spec.workload,
    port: feeder.port,
    intervalMs: spec.intervalMs,
    windowMs: spec.windowMs,
    slideMs: spec.slideMs,
  };
  const names: EngineName[] = ['spark', 'sluice'];
  const engines = await Promise.all(
    names.map(async (n) => new EngineProcess(n, await launchEngine(n, settings))),
  );
  const batches = spec.bursts + spec.trailingBatches;
  const base: { ms?: number } = {};
  let error: string | undefined;
  try {
    await feeder.waitForClients(engines.length, 180_000);
    const connectedAt = Date.now();
    for (const engine of engines) {
      const ready = await engine.waitUntil(
        () => (engine.reports.some((r) => r.timeMs > connectedAt) ? true : undefined),
        60_000,
      );
      if (!ready) throw new Error(`${engine.engine} reported no batch after connecting`);
    }
    feeder.rewind();
    base.ms = Math.ceil((Date.now() + spec.intervalMs) / spec.intervalMs) * spec.intervalMs;
    for (let k = 0; k < spec.bursts; k++) {
      await sleep(base.ms + k * spec.intervalMs + spec.intervalMs / 2 - Date.now());
      feeder.burst(spec.linesPerBatch);
    }
    const last = base.ms + batches * spec.intervalMs;
    for (const engine of engines) {
      const done = await engine.waitUntil(
        () => (engine.reports.some((r) => r.timeMs >= last) ? true : undefined),
        last - Date.now() + 30_000,
      );
      if (!done) throw new Error(`${engine.engine} did not report its batches up to ${last}`);
    }
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
    log(`    correctness run failed: ${error}`);
  } finally {
    await Promise.all(engines.map((e) => e.stop()));
    await feeder.close();
  }

  const reportAt = (engine: EngineProcess, j: number): BatchReport | undefined =>
    base.ms === undefined
      ? undefined
      : engine.reports.find((r) => r.timeMs === base.ms! + (j + 1) * spec.intervalMs);
  const checks = engines.map((engine): EngineCheck => {
    let resultsMatched = 0;
    let recordsMatched = 0;
    let firstMismatch: string | undefined;
    for (let j = 0; j < batches; j++) {
      const report = reportAt(engine, j);
      const diff = report ? difference(normalise(report.result), expected[j]!) : 'no batch reported';
      if (diff === undefined) resultsMatched++;
      else firstMismatch ??= `batch ${j + 1}: ${diff}`;
      const lines = j < spec.bursts ? spec.linesPerBatch : 0;
      if (report?.records === lines) recordsMatched++;
      else firstMismatch ??= `batch ${j + 1}: ${report?.records ?? 'no'} records instead of ${lines}`;
    }
    return {
      engine: engine.engine,
      resultsMatched,
      recordsMatched,
      ...(firstMismatch ? { firstMismatch } : {}),
    };
  });
  let enginesAgree = base.ms !== undefined;
  for (let j = 0; j < batches && enginesAgree; j++) {
    const [spark, sluice] = engines.map((e) => normalise(reportAt(e, j)?.result));
    if (spark === undefined || sluice === undefined || difference(sluice, spark) !== undefined)
      enginesAgree = false;
  }
  // The check must be able to fail: one count off by one in a copy of the reference has to be flagged.
  const first = expected[0]!;
  const wrong: BatchResult =
    typeof first === 'number'
      ? first + 1
      : new Map([...first].map(([key, count], i) => [key, i === 0 ? count + 1 : count] as [string, number]));
  const detectsWrongAnswer = difference(wrong, first) !== undefined;
  return {
    workload: spec.workload,
    linesPerBatch: spec.linesPerBatch,
    bursts: spec.bursts,
    batches,
    windowMs: spec.windowMs,
    checks,
    enginesAgree,
    detectsWrongAnswer,
    ...(error ? { error } : {}),
  };
}
