/**
 * `npm run bench:spark`: Sluice side by side with Apache Spark Streaming (DStreams) on this machine, both fed
 * by the same loopback socket server. For each engine × workload (WordCount, Grep, a 60 s windowed hashtag
 * count) × batch interval (1 s, 0.5 s): the highest sustainable input rate, total-delay percentiles at half of
 * it, peak memory and start-up; total-delay percentiles with both engines at one rate (half of the slower one's),
 * the window full for the hashtag count; then a per-batch correctness check of both engines against a reference, and a
 * CPU profile of Sluice where it loses most. Rewrites the figures of `bench/SPARK.md` (between its `bench:spark`
 * markers; the Method above them is written by hand), adds a pointer to it at the end of `bench/RESULTS.md` if that
 * file exists without one, and logs progress to stderr. `--render` rewrites the figures from the last run's raw
 * results without running anything.
 *
 * Needs Java 17+ and Maven: the Spark program in `bench/spark/` is built (and Spark downloaded into ~/.m2) on
 * first use. Takes about 30 minutes on 2 cores. Every process it starts is stopped, by pid, before it exits.
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { writeSection } from './resultsFile';
import { type CorrectnessResult, checkCorrectness } from './spark/checkCorrectness';
import { type EngineName, EngineProcess } from './spark/EngineProcess';
import { ENGINE_CORES, ensureSparkBuild, javaVersion, SPARK_HEAP } from './spark/engineLaunch';
import { LinePool } from './spark/LineFeeder';
import { profileSluice } from './spark/profileSluice';
import { appendHistory, readHistory, summarizeRun } from './spark/runHistory';
import {
  measureLatency,
  roundRate,
  runFor,
  runSession,
  type SessionResult,
  type SessionSpec,
} from './spark/runSession';
import { WORKLOADS, type Workload } from './spark/sluiceJobs';
import {
  formatRatio,
  renderSparkResults,
  type SameRateLatency,
  type SparkBenchResults,
} from './spark/sparkReport';
import { formatRate } from './stats';

const SPARK_MD = fileURLToPath(new URL('./SPARK.md', import.meta.url));
/** The raw figures of the last run, kept next to Maven's output (ignored by git) for a second look. */
const RAW_RESULTS = fileURLToPath(new URL('./spark/target/spark-bench-results.json', import.meta.url));
const RESULTS_MD = fileURLToPath(new URL('./RESULTS.md', import.meta.url));

const INTERVALS_MS = [1000, 500] as const;
/** The hashtag count's window and slide. */
const WINDOW_MS = 60_000;
const SLIDE_MS = 1000;
/** Records generated once per input kind and sent in a cycle (26 MB of lines, 13 MB of tweets). */
const POOL_LINES = 1 << 18;
/**
 * The search's first rate at 1 s batches, lines a second; at 0.5 s it starts from the engine's 1 s result. About a
 * quarter of what the faster engine sustained in the runs of 2026-11-29: from half that, five stages were all
 * doublings at 1 s, and the rates they found were powers of two apart (both engines "1 600 000" in Hashtags).
 */
const FIRST_GUESS: Record<Workload, number> = { wordCount: 200_000, grep: 800_000, hashtags: 400_000 };
/** Batches per stage, chosen so a stage is 7–8 s and the searches stay near 20 minutes. */
const WARMUP_BATCHES: Record<number, number> = { 1000: 6, 500: 10 };
const STAGE_BATCHES: Record<number, number> = { 1000: 8, 500: 14 };
const LATENCY_BATCHES: Record<number, number> = { 1000: 15, 500: 24 };
const SEARCH_STAGES: Record<number, number> = { 1000: 5, 500: 5 };
/**
 * Stream time a windowed job is fed before its same-rate latency is measured: the window fills, and then slides
 * for 10 s, so that every measured slide also takes a leaving batch out (the steady state of a job that has run
 * for a while).
 */
const SETTLE_MS = WINDOW_MS + 10_000;
/** The correctness check: 1 s batches of 20 000 lines, a 5 s window so bursts also leave it. */
const CHECK = { intervalMs: 1000, linesPerBatch: 20_000, bursts: 6, windowMs: 5000 };
/** Seconds of stream time the CPU profile measures, after half as long of warm-up. */
const PROFILE_SECONDS = 8;
/** Runs shown side by side in SPARK.md's run-to-run table, this one included. */
const HISTORY_RUNS = 5;

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * The settings of an engine's run for one workload and interval, starting from `guessRate` (the search's first
 * rate, or the rate a latency run holds): the window and slide for the hashtag count, this benchmark's batch counts.
 */
function sessionSpec(
  engine: EngineName,
  workload: Workload,
  intervalMs: number,
  guessRate: number,
  pool: LinePool,
): SessionSpec {
  const windowed = workload === 'hashtags';
  return {
    engine,
    workload,
    intervalMs,
    windowMs: windowed ? WINDOW_MS : 0,
    slideMs: windowed ? SLIDE_MS : 0,
    pool,
    guessRate,
    warmupRate: roundRate(guessRate / 4, 2),
    warmupBatches: WARMUP_BATCHES[intervalMs]!,
    stageBatches: STAGE_BATCHES[intervalMs]!,
    latencyBatches: LATENCY_BATCHES[intervalMs]!,
    maxSearchStages: SEARCH_STAGES[intervalMs]!,
  };
}

/**
 * Latency with both engines at the same input rate, per workload and interval: half of the lower of the two
 * sustainable rates, so that each engine carries the same lines per batch with room to spare. A windowed job's
 * run first settles for {@link SETTLE_MS}. One fresh process per engine, Sluice first.
 */
async function sameRateLatencies(
  sessions: readonly SessionResult[],
  poolOf: (workload: Workload) => LinePool,
): Promise<SameRateLatency[]> {
  const out: SameRateLatency[] = [];
  for (const workload of WORKLOADS) {
    for (const intervalMs of INTERVALS_MS) {
      const rates = (['sluice', 'spark'] as const).map(
        (engine) => runFor(sessions, engine, workload, intervalMs)?.sustainableRate,
      );
      if (rates.some((r) => r === undefined)) continue;
      const rate = roundRate(Math.min(...(rates as number[])) / 2, 3);
      const settleBatches = workload === 'hashtags' ? SETTLE_MS / intervalMs : 0;
      for (const engine of ['sluice', 'spark'] as const) {
        log(
          `Same-rate latency, ${engine}, ${workload}, ${intervalMs} ms batches, ${formatRate(rate)} lines/s`,
        );
        const { run, latency } = await measureLatency(
          sessionSpec(engine, workload, intervalMs, rate, poolOf(workload)),
          rate,
          settleBatches,
          log,
        );
        out.push({ engine, workload, intervalMs, rate, settleBatches, run, latency });
        log(`  p50/p99 ${latency ? `${Math.round(latency.p50Ms)}/${Math.round(latency.p99Ms)} ms` : 'n/a'}`);
      }
    }
  }
  return out;
}

/** Kills every engine process by pid when the bench is interrupted or fails. */
function stopEnginesOnExit(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      EngineProcess.killAll();
      process.exit(130);
    });
  }
  process.on('exit', () => EngineProcess.killAll());
}

/** Appends a pointer to SPARK.md at the end of RESULTS.md, if that exists and has none. */
async function pointFromResults(): Promise<void> {
  let text: string;
  try {
    text = await readFile(RESULTS_MD, 'utf8');
  } catch {
    return;
  }
  if (text.includes('SPARK.md')) return;
  await appendFile(
    RESULTS_MD,
    `${text.endsWith('\n') ? '' : '\n'}\nSide by side with Apache Spark Streaming on this machine: [SPARK.md](SPARK.md) (\`npm run bench:spark\`).\n`,
  );
}

async function main(): Promise<void> {
  stopEnginesOnExit();
  const started = new Date();
  const startedMs = Date.now();
  const loadBefore = loadavg();
  // Other work on the machine takes cores from both engines alike: sampled, so the report can say how much.
  const loadDuring: number[] = [];
  const loadSampler = setInterval(() => loadDuring.push(loadavg()[0]!), 10_000);
  loadSampler.unref();
  const build = await ensureSparkBuild(log);
  const java = await javaVersion();
  log(
    `Sluice vs Spark ${build.sparkVersion}: ${availableParallelism()} cores, Node ${process.version}, ${java}`,
  );
  log(`Generating ${POOL_LINES} input lines and tweets`);
  const pools = {
    lines: LinePool.generate('lines', POOL_LINES),
    tweets: LinePool.generate('tweets', POOL_LINES),
  };
  const poolOf = (workload: Workload) => (workload === 'hashtags' ? pools.tweets : pools.lines);

  const correctness: CorrectnessResult[] = [];
  for (const workload of WORKLOADS) {
    log(`Correctness, ${workload}: both engines, ${CHECK.bursts} batches of ${CHECK.linesPerBatch} lines`);
    const result = await checkCorrectness(
      {
        workload,
        pool: poolOf(workload),
        intervalMs: CHECK.intervalMs,
        windowMs: CHECK.windowMs,
        slideMs: CHECK.intervalMs,
        linesPerBatch: CHECK.linesPerBatch,
        bursts: CHECK.bursts,
        // A window empties out over its length after the last burst; the other workloads need only a couple.
        trailingBatches: workload === 'hashtags' ? CHECK.windowMs / CHECK.intervalMs + 2 : 2,
      },
      log,
    );
    correctness.push(result);
    log(
      `  ${result.checks.map((c) => `${c.engine} ${c.resultsMatched}/${result.batches} batches right`).join(', ')}; engines agree: ${result.enginesAgree}`,
    );
  }

  const sessions: SessionResult[] = [];
  for (const workload of WORKLOADS) {
    for (const intervalMs of INTERVALS_MS) {
      for (const engine of ['sluice', 'spark'] as const) {
        const atOneSecond = runFor(sessions, engine, workload, 1000);
        const guessRate =
          intervalMs === 1000 || atOneSecond?.sustainableRate === undefined
            ? FIRST_GUESS[workload]
            : roundRate(atOneSecond.sustainableRate * 0.8, 2);
        const spec = sessionSpec(engine, workload, intervalMs, guessRate, poolOf(workload));
        log(
          `${engine}, ${workload}, ${intervalMs} ms batches: searching from ${formatRate(guessRate)} lines/s`,
        );
        const result = await runSession(spec, log);
        sessions.push(result);
        log(
          `  sustainable ${result.sustainableRate === undefined ? 'none' : formatRate(result.sustainableRate)} lines/s; latency p50/p99 ${result.latency ? `${Math.round(result.latency.p50Ms)}/${Math.round(result.latency.p99Ms)} ms` : 'n/a'}`,
        );
      }
    }
  }

  const sameRate = await sameRateLatencies(sessions, poolOf);

  // Profile Sluice where its rate is furthest below Spark's (or closest above, if it never loses).
  const ratios = WORKLOADS.flatMap((workload) =>
    INTERVALS_MS.map((intervalMs) => {
      const of = (engine: 'sluice' | 'spark') =>
        runFor(sessions, engine, workload, intervalMs)?.sustainableRate;
      const sluice = of('sluice');
      const spark = of('spark');
      return { workload, intervalMs, sluice, ratio: sluice && spark ? sluice / spark : undefined };
    }),
  ).filter((x) => x.ratio !== undefined && x.sluice !== undefined);
  ratios.sort((a, b) => a.ratio! - b.ratio!);
  let profile: SparkBenchResults['profile'];
  const worst = ratios[0];
  if (worst) {
    const why =
      worst.ratio! < 1
        ? `Chosen as the configuration where Sluice's rate is furthest below Spark's in this run (${formatRatio(worst.ratio)}×), at Sluice's own highest sustainable rate.`
        : `Sluice was at or above Spark in every configuration of this run; this is the one where its lead was smallest (${formatRatio(worst.ratio)}×), at its own highest sustainable rate.`;
    log(
      `Profiling Sluice on ${worst.workload}, ${worst.intervalMs} ms batches, at ${formatRate(worst.sluice!)} lines/s`,
    );
    // The same stretch of stream time at either interval.
    const batches = (PROFILE_SECONDS * 1000) / worst.intervalMs;
    try {
      const result = await profileSluice(
        {
          workload: worst.workload,
          intervalMs: worst.intervalMs,
          windowMs: worst.workload === 'hashtags' ? WINDOW_MS : 0,
          slideMs: worst.workload === 'hashtags' ? SLIDE_MS : 0,
          pool: poolOf(worst.workload),
          guessRate: worst.sluice!,
          warmupRate: worst.sluice!,
          warmupBatches: batches / 2,
          stageBatches: batches,
          latencyBatches: batches,
          maxSearchStages: 0,
        },
        worst.sluice!,
        batches,
        log,
      );
      profile = { workload: worst.workload, intervalMs: worst.intervalMs, why, result };
    } catch (error) {
      profile = { error: error instanceof Error ? error.message : String(error) };
    }
  }

  const thisRun = summarizeRun(started, loadDuring, sessions);
  const history = [...(await readHistory()), thisRun].slice(-HISTORY_RUNS);
  await appendHistory(thisRun);

  const results: SparkBenchResults = {
    started,
    durationMs: Date.now() - startedMs,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    nodeVersion: process.version,
    javaVersion: java,
    sparkVersion: build.sparkVersion,
    sparkBuild: build.cached
      ? 'build reused from bench/spark/target'
      : `built by Maven in ${Math.round(build.buildMs / 1000)} s`,
    loadBefore,
    loadAfter: loadavg(),
    loadDuring,
    engineCores: ENGINE_CORES,
    sparkHeap: [...new Set(Object.values(SPARK_HEAP))]
      .map((heap) => {
        const jobs = WORKLOADS.filter((w) => SPARK_HEAP[w] === heap);
        return jobs.length === WORKLOADS.length ? `-Xmx${heap}` : `-Xmx${heap} (${jobs.join(', ')})`;
      })
      .join(', '),
    windowMs: WINDOW_MS,
    slideMs: SLIDE_MS,
    intervalsMs: INTERVALS_MS,
    poolLines: POOL_LINES,
    stageBatches: STAGE_BATCHES,
    latencyBatches: LATENCY_BATCHES,
    correctness,
    sessions,
    sameRate,
    settleMs: SETTLE_MS,
    profile,
    history,
  };
  await writeFile(RAW_RESULTS, JSON.stringify(results));
  await writeSection('spark', renderSparkResults(results), SPARK_MD);
  await pointFromResults();
  log(`Wrote ${SPARK_MD} in ${Math.round(results.durationMs / 1000)} s`);
}

/** `--render`: rewrites SPARK.md's figures from the last run's raw results, running nothing (after a report change). */
async function renderLastRun(): Promise<void> {
  const raw = JSON.parse(await readFile(RAW_RESULTS, 'utf8')) as SparkBenchResults & { started: string };
  await writeSection('spark', renderSparkResults({ ...raw, started: new Date(raw.started) }), SPARK_MD);
  log(`Rewrote the figures of ${SPARK_MD} from ${RAW_RESULTS}`);
}

await (process.argv.includes('--render') ? renderLastRun() : main());
