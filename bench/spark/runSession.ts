import { loadavg } from 'node:os';
import { percentile, slope } from '../stats';
import { type BatchReport, type EngineName, EngineProcess } from './EngineProcess';
import { launchEngine } from './engineLaunch';
import { LineFeeder, type LinePool } from './LineFeeder';
import type { SocketJobSettings, Workload } from './sluiceJobs';

/** One engine × workload × batch interval: a rate search in one process, then a latency run in a fresh one. */
export interface SessionSpec {
  readonly engine: EngineName;
  readonly workload: Workload;
  readonly intervalMs: number;
  /** The window and slide of `hashtags`, in ms; 0 otherwise. */
  readonly windowMs: number;
  readonly slideMs: number;
  /** The input lines. */
  readonly pool: LinePool;
  /** The first rate the search tries, in lines a second. */
  readonly guessRate: number;
  /** The rate of the search process's warm-up, in lines a second. */
  readonly warmupRate: number;
  /** Batches of a warm-up, of each search stage and of the latency stage. */
  readonly warmupBatches: number;
  readonly stageBatches: number;
  readonly latencyBatches: number;
  /** Search stages at most. */
  readonly maxSearchStages: number;
  /** Extra `node` flags for Sluice's process, such as `--cpu-prof`. Default none. */
  readonly nodeFlags?: readonly string[];
}

/** What one stretch of constant input rate showed. */
export interface StageResult {
  readonly purpose: 'warm-up' | 'search' | 'latency' | 'profile';
  /** Lines a second the feeder sent. */
  readonly rate: number;
  readonly stable: boolean;
  /** Why it is (un)stable, in a few words. */
  readonly why: string;
  /** The batches whose time fell in the stage, in order. */
  readonly batches: readonly BatchReport[];
  /** Lines the engine did not read in time and the feeder dropped. */
  readonly droppedLines: number;
  /** Seconds of input the process had had when the stage started (a 60 s window is full from 60 on). */
  readonly inputSecondsBefore: number;
}

/** Start-up of an engine process, in ms since it was spawned. */
export interface Startup {
  /** Until the engine's context was running (JVM + SparkContext; Node + tsx + worker threads). */
  readonly startedMs: number | undefined;
  /** Until the first batch completed. */
  readonly firstBatchMs: number | undefined;
  /** Processing time of the warm-up's first batch: the first full batch of input the engine processed. */
  readonly firstInputBatchProcessingMs: number | undefined;
  /** Median processing time of the second half of the warm-up, at the same rate: the warm engine. */
  readonly warmProcessingMs: number | undefined;
}

/** Total delay percentiles of a latency stage. */
export interface Latency {
  readonly rate: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly processingP50Ms: number;
  /** Median scheduling delay: from the batch's time until its first job started. */
  readonly schedulingP50Ms: number;
  readonly batches: number;
  readonly stable: boolean;
}

/** What one engine process did, whichever its purpose. */
export interface ProcessRecord {
  readonly startup: Startup;
  readonly stages: readonly StageResult[];
  /** Peak RSS (VmHWM) over the process's life, in bytes. */
  readonly peakBytes: number | undefined;
  /** RSS once the engine had connected, before any input, in bytes. */
  readonly idleRssBytes: number | undefined;
  readonly wallMs: number;
  /** Set when the process's run ended early: it died, or never worked off its backlog. */
  readonly error?: string;
}

/** Everything one session measured. */
export interface SessionResult {
  readonly engine: EngineName;
  readonly workload: Workload;
  readonly intervalMs: number;
  /** The rate-search process. */
  readonly search: ProcessRecord;
  /**
   * Fresh processes the search went on in, each after the one before ended early (it died, or never worked off an
   * unstable stage's backlog); absent when none was needed.
   */
  readonly searchRestarts?: readonly ProcessRecord[];
  /** The highest stable rate found, in lines a second; undefined when no rate tried was stable. */
  readonly sustainableRate: number | undefined;
  /** The lowest unstable rate tried, if any. */
  readonly lowestUnstableRate: number | undefined;
  /** The latency process: a fresh engine at half the sustainable rate. */
  readonly latencyRun: ProcessRecord | undefined;
  readonly latency: Latency | undefined;
  /** The machine's 1-minute load average every 5 s of the session: other work takes cores from the engine. */
  readonly loadDuring: readonly number[];
}

/** The entry of `runs` for one engine, workload and batch interval (a session, a same-rate run, a recorded one). */
export function runFor<R extends { engine: EngineName; workload: Workload; intervalMs: number }>(
  runs: readonly R[] | undefined,
  engine: EngineName,
  workload: Workload,
  intervalMs: number,
): R | undefined {
  return runs?.find((r) => r.engine === engine && r.workload === workload && r.intervalMs === intervalMs);
}

/** A stage is stopped as unstable once a batch's total delay passes this many batch budgets. */
const EARLY_STOP_BUDGETS = 3;
/** How long an engine may take to connect to the line server (a cold JVM plus Spark's start-up). */
const CONNECT_TIMEOUT_MS = 180_000;
/** How long an engine may take to work off a backlog after an unstable stage. */
const DRAIN_TIMEOUT_MS = 60_000;
/**
 * Fresh processes a search may go on in after its process ended early. An overloaded stage can leave an engine a
 * backlog it dies of (Spark at a small heap runs out of memory) or never works off; the rate was unstable either way,
 * but ending the search there would leave the engine's rate at the stable rate below it, never bisected.
 */
const MAX_SEARCH_RESTARTS = 2;
/** The search stops refining once the stable and unstable rates are this close. */
const SEARCH_RESOLUTION = 1.15;

/**
 * A rate rounded to `digits` significant digits. `toPrecision`, not a multiply-round-divide, so that 190 000
 * does not come out as 190000.00000000003.
 */
export function roundRate(linesPerSec: number, digits = 3): number {
  return Number(linesPerSec.toPrecision(digits));
}

/** The next rate of the search: the guess, doubling up, dividing down, or the geometric mean. */
function nextRate(
  guess: number,
  stable: number | undefined,
  unstable: number | undefined,
): number | undefined {
  if (stable === undefined && unstable === undefined) return guess;
  if (unstable === undefined) return roundRate(stable! * 2, 3);
  if (stable === undefined) return roundRate(unstable / 2.5, 3);
  if (unstable / stable <= SEARCH_RESOLUTION) return undefined;
  return roundRate(Math.sqrt(stable * unstable), 3);
}

/**
 * Judges a stage by its batches, skipping the first (the rate just changed). Over the second half of the
 * rest: the median processing time below the batch budget (the interval, or the slide of a window that slides
 * less often; with the work of the unreported batches since the one before, which Sluice spends computing ahead
 * of the slide), total delay below two budgets and not growing (its trend over those batches less than a
 * quarter budget). The median, not the maximum: on a shared machine one batch that loses its core for a
 * moment is absorbed by the next ones, which is what stable means (total delay stays flat), while a rate the
 * engine cannot keep up with shows in most batches and in the growing total delay. And, when every batch is
 * reported, at least 90% of the lines sent arrived in the engine's batches.
 */
export function judgeStage(
  batches: readonly BatchReport[],
  rate: number,
  intervalMs: number,
  budgetMs: number,
): { stable: boolean; why: string } {
  const failed = batches.find((b) => b.error);
  if (failed) return { stable: false, why: `a batch failed: ${failed.error}` };
  const body = batches.slice(1);
  if (body.length < 2) return { stable: false, why: `only ${batches.length} batches completed` };
  const tail = body.slice(Math.floor(body.length / 2));
  const processing = percentile(
    tail.map((b) => b.processingMs + (b.aheadMs ?? 0)),
    50,
  );
  if (processing >= budgetMs) {
    return { stable: false, why: `median processing ${Math.round(processing)} ms ≥ ${budgetMs} ms` };
  }
  const totals = tail.map((b) => b.totalDelayMs);
  const maxTotal = Math.max(...totals);
  if (maxTotal > 2 * budgetMs)
    return { stable: false, why: `total delay ${maxTotal} ms > ${2 * budgetMs} ms` };
  const growth = slope(totals) * (totals.length - 1);
  if (growth > budgetMs / 4) return { stable: false, why: `total delay grows by ${Math.round(growth)} ms` };
  // Only when every batch is reported: Spark's receiver cuts blocks every 200 ms, so a 0.5 s batch holds 0.4 or
  // 0.6 s of input by turns, and a window sliding every second batch would always show the same one of the two.
  // The feeder's own check (lines a client did not read) covers those workloads.
  const expected = (rate * intervalMs * body.length) / 1000;
  const received = body.reduce((sum, b) => sum + b.records, 0);
  if (budgetMs === intervalMs && received < 0.9 * expected) {
    return { stable: false, why: `only ${Math.round((100 * received) / expected)}% of the lines arrived` };
  }
  return { stable: true, why: `total delay ${Math.min(...totals)}–${maxTotal} ms, flat` };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * One engine process fed by its own line server, run as a sequence of stages of constant input rate. Each
 * stage starts on a batch boundary once the engine has worked off the previous stage's input, so an unstable
 * stage's backlog does not leak into the next one.
 */
class EngineRun {
  readonly stages: StageResult[] = [];
  idleRssBytes: number | undefined;
  error: string | undefined;
  private readonly startedAt = Date.now();
  /** When the feeder last stopped sending. */
  private inputStoppedMs: number | undefined;
  /** When the first stage started sending. */
  private firstInputMs: number | undefined;
  private readonly budgetMs: number;

  private constructor(
    private readonly spec: SessionSpec,
    private readonly feeder: LineFeeder,
    private readonly engine: EngineProcess,
    private readonly log: (line: string) => void,
  ) {
    this.budgetMs = Math.max(spec.intervalMs, spec.slideMs);
  }

  /** Starts the line server and the engine, and waits until the engine has connected. */
  static async open(spec: SessionSpec, log: (line: string) => void): Promise<EngineRun> {
    const feeder = await LineFeeder.start(spec.pool);
    const settings: SocketJobSettings = {
      workload: spec.workload,
      port: feeder.port,
      intervalMs: spec.intervalMs,
      windowMs: spec.windowMs,
      slideMs: spec.slideMs,
    };
    const launch = await launchEngine(spec.engine, settings, { nodeFlags: spec.nodeFlags ?? [] });
    const engine = new EngineProcess(spec.engine, launch);
    const run = new EngineRun(spec, feeder, engine, log);
    const connected = await Promise.race([
      feeder.waitForClients(1, CONNECT_TIMEOUT_MS).then(() => true),
      engine.waitUntil(() => (engine.exit ? false : undefined), CONNECT_TIMEOUT_MS + 1000),
    ]).catch(() => false);
    if (connected !== true) {
      run.fail(new Error(`the ${spec.engine} process did not connect to the line server`));
    } else run.idleRssBytes = engine.memory()?.rssBytes;
    return run;
  }

  /** Records why the run ended early, with the engine's last stderr. */
  fail(error: unknown): void {
    this.error = error instanceof Error ? error.message : String(error);
    this.log(`    run ended early: ${this.error}`);
    if (this.engine.stderr)
      this.log(`    ${this.spec.engine} stderr (tail): ${this.engine.stderr.slice(-1500)}`);
  }

  /** Waits until a batch after the last input completes promptly: everything before it is done. */
  private async drain(): Promise<void> {
    if (this.inputStoppedMs === undefined) return;
    const after = this.inputStoppedMs + this.spec.intervalMs;
    const engine = this.engine;
    const drained = await engine.waitUntil(
      () =>
        engine.reports.some((r) => r.timeMs >= after && r.totalDelayMs < this.budgetMs) ? true : undefined,
      DRAIN_TIMEOUT_MS,
    );
    if (!drained) {
      throw new Error(
        engine.exit
          ? `the ${this.spec.engine} process exited (${JSON.stringify(engine.exit)})`
          : `the backlog did not drain within ${DRAIN_TIMEOUT_MS / 1000} s`,
      );
    }
  }

  /** Sends `rate` lines a second for `batches` batch intervals, and judges what the engine made of it. */
  async stage(purpose: StageResult['purpose'], rate: number, batches: number): Promise<StageResult> {
    const { spec, engine, feeder, budgetMs } = this;
    await this.drain();
    const start = Math.ceil((Date.now() + 100) / spec.intervalMs) * spec.intervalMs;
    const end = start + batches * spec.intervalMs;
    const droppedBefore = feeder.droppedLines;
    await sleep(start - Date.now() - 20);
    feeder.feed(rate, start, end);
    this.firstInputMs ??= start;
    let why: string | undefined;
    const complete = await engine.waitUntil(
      () => {
        // Only a search stage stops early, to save time on a rate that is plainly too high. A warm-up runs to
        // its end however slow (a cold engine's first batches are part of what it shows), and a latency or
        // profile stage is measured whole.
        const late =
          purpose === 'search' &&
          engine.reports.find((r) => r.timeMs > start && r.totalDelayMs > EARLY_STOP_BUDGETS * budgetMs);
        if (late) {
          why = `total delay ${late.totalDelayMs} ms > ${EARLY_STOP_BUDGETS} × ${budgetMs} ms (stopped early)`;
          return true;
        }
        return engine.reports.some((r) => r.timeMs > end - budgetMs) ? true : undefined;
      },
      end - Date.now() + EARLY_STOP_BUDGETS * budgetMs + 5_000,
    );
    feeder.stop();
    this.inputStoppedMs = Math.min(Date.now(), end);
    const stageBatches = engine.reports.filter((r) => r.timeMs > start && r.timeMs <= end);
    const droppedLines = feeder.droppedLines - droppedBefore;
    let verdict: { stable: boolean; why: string };
    if (why) verdict = { stable: false, why };
    else if (!complete)
      verdict = { stable: false, why: engine.exit ? 'the engine exited' : 'batches stopped arriving' };
    else if (droppedLines > 0.01 * rate * ((end - start) / 1000)) {
      verdict = { stable: false, why: `the engine did not read its input (${droppedLines} lines dropped)` };
    } else verdict = judgeStage(stageBatches, rate, spec.intervalMs, budgetMs);
    const result: StageResult = {
      purpose,
      rate,
      ...verdict,
      batches: stageBatches,
      droppedLines,
      inputSecondsBefore: (start - this.firstInputMs) / 1000,
    };
    this.stages.push(result);
    const delays = stageBatches.map((b) => b.totalDelayMs).join(', ');
    this.log(
      `    ${purpose} ${rate} lines/s: ${verdict.stable ? 'stable' : 'unstable'} (${verdict.why}); total delay ${delays}`,
    );
    if (!complete && engine.exit)
      throw new Error(`the ${spec.engine} process exited (${JSON.stringify(engine.exit)})`);
    return result;
  }

  /** Stops the engine and the server, and describes the process's run. */
  async close(): Promise<ProcessRecord> {
    const { engine } = this;
    const peakBytes = Math.max(engine.memory()?.peakBytes ?? 0, engine.sampledPeakBytes) || undefined;
    this.feeder.stop();
    await engine.stop();
    await this.feeder.close();
    const first = engine.reports[0];
    const warm = this.stages.find((s) => s.purpose === 'warm-up');
    const warmLater =
      warm?.batches.slice(Math.ceil(warm.batches.length / 2)).map((b) => b.processingMs) ?? [];
    return {
      startup: {
        startedMs: engine.startedAtMs === undefined ? undefined : engine.startedAtMs - engine.spawnedAtMs,
        firstBatchMs: first ? first.timeMs + first.totalDelayMs - engine.spawnedAtMs : undefined,
        firstInputBatchProcessingMs: warm?.batches[0]?.processingMs,
        warmProcessingMs: warmLater.length > 0 ? percentile(warmLater, 50) : undefined,
      },
      stages: this.stages,
      peakBytes,
      idleRssBytes: this.idleRssBytes,
      wallMs: Date.now() - this.startedAt,
      ...(this.error ? { error: this.error } : {}),
    };
  }
}

/**
 * Warms a fresh engine up to `rate` in two steps, a quarter of it and then all of it, each for the warm-up's
 * batches: a cold JVM fed a high rate from its first second builds a backlog it takes long to work off, which
 * would measure start-up instead of the steady state. The stage after waits until any backlog is gone.
 */
async function warmUp(run: EngineRun, spec: SessionSpec, rate: number): Promise<void> {
  await run.stage('warm-up', roundRate(rate / 4, 2), spec.warmupBatches);
  await run.stage('warm-up', rate, spec.warmupBatches);
}

/**
 * Runs one session. The rate search runs in one process: a warm-up, then stages that double the rate until
 * one is unstable and then bisect (geometric mean) between the highest stable and the lowest unstable rate. When
 * the process ends early, the search goes on from the next rate in a fresh one, warmed up the same way.
 * The latency run starts a fresh process at half the rate found, so that neither its latencies nor its peak
 * memory carry what the search's overloaded stages left behind: a warm-up up to that rate, then the
 * measured stage. Every process it starts is stopped before it returns.
 */
export async function runSession(spec: SessionSpec, log: (line: string) => void): Promise<SessionResult> {
  const loadDuring: number[] = [];
  const loadSampler = setInterval(() => loadDuring.push(loadavg()[0]!), 5_000);
  try {
    return await session(spec, log, loadDuring);
  } finally {
    clearInterval(loadSampler);
  }
}

async function session(
  spec: SessionSpec,
  log: (line: string) => void,
  loadDuring: number[],
): Promise<SessionResult> {
  let stable: number | undefined;
  let unstable: number | undefined;
  let stagesLeft = spec.maxSearchStages;
  const searchRuns: ProcessRecord[] = [];
  for (let restarts = 0; restarts <= MAX_SEARCH_RESTARTS; restarts++) {
    if (restarts > 0) log(`    the search goes on in a fresh ${spec.engine} process`);
    const run = await EngineRun.open(spec, log);
    const connected = !run.error;
    if (connected) {
      try {
        await run.stage('warm-up', spec.warmupRate, spec.warmupBatches);
        while (stagesLeft > 0) {
          const rate = nextRate(spec.guessRate, stable, unstable);
          if (rate === undefined) break;
          const tried = run.stages.length;
          try {
            await run.stage('search', rate, spec.stageBatches);
          } finally {
            // A stage is recorded even when the process died in it (unstable); one whose backlog the process could
            // not work off before it never ran, and the next process tries its rate.
            const stage = run.stages[tried];
            if (stage) {
              stagesLeft--;
              if (stage.stable) stable = rate;
              else unstable = rate;
            }
          }
        }
      } catch (error) {
        run.fail(error);
      }
    }
    const record = await run.close();
    searchRuns.push(record);
    // A process that never connected would not in a second try either.
    if (
      !connected ||
      !record.error ||
      stagesLeft === 0 ||
      nextRate(spec.guessRate, stable, unstable) === undefined
    )
      break;
  }
  const [search, ...searchRestarts] = searchRuns as [ProcessRecord, ...ProcessRecord[]];

  let latencyRun: ProcessRecord | undefined;
  let latency: Latency | undefined;
  if (stable !== undefined) {
    ({ run: latencyRun, latency } = await measureLatency(spec, roundRate(stable / 2, 3), 0, log));
  }
  return {
    engine: spec.engine,
    workload: spec.workload,
    intervalMs: spec.intervalMs,
    search,
    ...(searchRestarts.length > 0 ? { searchRestarts } : {}),
    sustainableRate: stable,
    lowestUnstableRate: unstable,
    latencyRun,
    latency,
    loadDuring,
  };
}

/** A latency run: the process it ran in, and its total delays (undefined when it ended early). */
export interface LatencyRun {
  readonly run: ProcessRecord;
  readonly latency: Latency | undefined;
}

/**
 * A fresh engine process at `rate`: a warm-up up to it, then one latency stage of `settleBatches` +
 * `spec.latencyBatches` batches at that rate without a break, of which only the last `spec.latencyBatches` are
 * measured (less the first one when nothing settles). `settleBatches` lets a windowed job's window fill first, so
 * that every measured slide also takes a leaving batch out, as it does in a job that has run for a while.
 */
export async function measureLatency(
  spec: SessionSpec,
  rate: number,
  settleBatches: number,
  log: (line: string) => void,
): Promise<LatencyRun> {
  log(
    `    latency run: a fresh ${spec.engine} process at ${rate} lines/s${settleBatches > 0 ? `, ${settleBatches} batches to settle first` : ''}`,
  );
  let latency: Latency | undefined;
  const run = await EngineRun.open(spec, log);
  if (!run.error) {
    try {
      await warmUp(run, spec, rate);
      const stage = await run.stage('latency', rate, settleBatches + spec.latencyBatches);
      const body = stage.batches.slice(Math.max(1, stage.batches.length - spec.latencyBatches));
      const totals = body.map((b) => b.totalDelayMs);
      latency = {
        rate,
        p50Ms: percentile(totals, 50),
        p95Ms: percentile(totals, 95),
        p99Ms: percentile(totals, 99),
        maxMs: Math.max(...totals),
        processingP50Ms: percentile(
          body.map((b) => b.processingMs),
          50,
        ),
        schedulingP50Ms: percentile(
          body.map((b) => b.schedulingDelayMs),
          50,
        ),
        batches: body.length,
        stable: stage.stable,
      };
    } catch (error) {
      run.fail(error);
    }
  }
  return { run: await run.close(), latency };
}

/** Runs a fresh engine process at one rate: a warm-up, then `batches` batches (for a CPU profile). */
export async function runAtRate(
  spec: SessionSpec,
  rate: number,
  batches: number,
  log: (line: string) => void,
): Promise<ProcessRecord> {
  const run = await EngineRun.open(spec, log);
  if (!run.error) {
    try {
      await warmUp(run, spec, rate);
      await run.stage('profile', rate, batches);
    } catch (error) {
      run.fail(error);
    }
  }
  return run.close();
}
