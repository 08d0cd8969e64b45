import type { RoleSummary } from '../cpuProfile';
import { table } from '../resultsFile';
import { formatRate, percentile } from '../stats';
import type { CorrectnessResult } from './checkCorrectness';
import type { EngineName } from './EngineProcess';
import type { SluiceProfile } from './profileSluice';
import type { RunSummary } from './runHistory';
import { type Latency, type ProcessRecord, runFor, type SessionResult } from './runSession';
import type { Workload } from './sluiceJobs';

/** Everything `npm run bench:spark` measured, for `bench/SPARK.md`. */
export interface SparkBenchResults {
  readonly started: Date;
  readonly durationMs: number;
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly nodeVersion: string;
  readonly javaVersion: string;
  readonly sparkVersion: string;
  readonly sparkBuild: string;
  readonly loadBefore: readonly number[];
  readonly loadAfter: readonly number[];
  /** The 1-minute load average every 10 s during the run. */
  readonly loadDuring: readonly number[];
  /** Cores each engine was given. */
  readonly engineCores: number;
  /** Spark's `-Xmx` flags, by workload where they differ (`2g` alone in runs before 2026-11-30). */
  readonly sparkHeap: string;
  readonly windowMs: number;
  readonly slideMs: number;
  readonly intervalsMs: readonly number[];
  readonly poolLines: number;
  readonly stageBatches: Readonly<Record<number, number>>;
  readonly latencyBatches: Readonly<Record<number, number>>;
  readonly correctness: readonly CorrectnessResult[];
  readonly sessions: readonly SessionResult[];
  /** Latency with both engines at one rate (absent from runs before it was measured). */
  readonly sameRate?: readonly SameRateLatency[];
  /** Stream time a windowed job's same-rate run was fed before its batches were measured, in ms. */
  readonly settleMs?: number;
  /** The last few runs' headline figures, oldest first, this run last. */
  readonly history: readonly RunSummary[];
  readonly profile:
    | {
        readonly workload: Workload;
        readonly intervalMs: number;
        readonly why: string;
        readonly result: SluiceProfile;
      }
    | { readonly error: string }
    | undefined;
}

/** One engine's latency run at the rate both engines were given for a workload and interval. */
export interface SameRateLatency {
  readonly engine: EngineName;
  readonly workload: Workload;
  readonly intervalMs: number;
  /** Half of the lower of the two engines' sustainable rates, in lines a second. */
  readonly rate: number;
  /** Batches fed before the measured ones, in the same stage (a windowed job's window fills). */
  readonly settleBatches: number;
  readonly run: ProcessRecord;
  readonly latency: Latency | undefined;
}

const WORKLOAD_TEXT: Record<Workload, string> = {
  wordCount: 'WordCount',
  grep: 'Grep',
  hashtags: 'Hashtags (60 s window)',
};

const mib = (bytes: number | undefined) =>
  bytes === undefined ? 'n/a' : `${Math.round(bytes / 2 ** 20)} MiB`;
const ms = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? 'n/a' : `${Math.round(x)}`);
const seconds = (x: number | undefined) => (x === undefined ? 'n/a' : `${(x / 1000).toFixed(1)} s`);
const rate = (x: number | undefined) => (x === undefined ? 'none stable' : formatRate(x));
const interval = (intervalMs: number) => `${intervalMs / 1000} s`;

function session(
  results: SparkBenchResults,
  engine: EngineName,
  workload: Workload,
  intervalMs: number,
): SessionResult | undefined {
  return runFor(results.sessions, engine, workload, intervalMs);
}

/** Stream time from a latency run's first reported batch to the end of its last, in ms; 0 with none reported. */
function stageSpanMs(x: SameRateLatency): number {
  const batches = x.run.stages.at(-1)?.batches ?? [];
  return batches.length ? batches.at(-1)!.timeMs - batches[0]!.timeMs + x.intervalMs : 0;
}

function sameRate(
  results: SparkBenchResults,
  engine: EngineName,
  workload: Workload,
  intervalMs: number,
): SameRateLatency | undefined {
  return runFor(results.sameRate, engine, workload, intervalMs);
}

/** Whether Sluice's p50 and p99 are both below Spark's; undefined when either run is missing. */
function lowerLatency(a: Latency | undefined, b: Latency | undefined): boolean | undefined {
  return a && b ? a.p50Ms < b.p50Ms && a.p99Ms < b.p99Ms : undefined;
}

/** Why a run ended early; Spark's exit code 52 is its out-of-memory exit (`SparkExitCode.OOM`). */
function failure(x: SameRateLatency): string {
  const error = x.run.error ?? 'unknown';
  return x.engine === 'spark' && error.includes('"code":52') ? `${error}, Spark's out-of-memory exit` : error;
}

const verdict = (met: boolean | undefined) => (met === undefined ? 'n/a' : met ? '**met**' : '**not met**');
const p50p99 = (l: Latency | undefined) => (l ? `${ms(l.p50Ms)} / ${ms(l.p99Ms)}` : 'n/a');

/** Sluice's rate over Spark's; undefined when either is unknown. */
function ratio(sluice: SessionResult | undefined, spark: SessionResult | undefined): number | undefined {
  if (!sluice?.sustainableRate || !spark?.sustainableRate) return undefined;
  return sluice.sustainableRate / spark.sustainableRate;
}

/** The median 1-minute load average over a session (`n/a` for runs recorded before it was sampled). */
function load(s: SessionResult | undefined): string {
  const samples = s?.loadDuring ?? [];
  return samples.length === 0 ? 'n/a' : percentile(samples, 50).toFixed(2);
}

/** How precisely the search pinned the rate down: `≥ stable, < unstable`. */
function bounds(s: SessionResult | undefined): string {
  if (!s) return 'not run';
  const low = s.sustainableRate === undefined ? 'none stable' : `stable at ${formatRate(s.sustainableRate)}`;
  const high =
    s.lowestUnstableRate === undefined
      ? 'no unstable rate reached'
      : `unstable at ${formatRate(s.lowestUnstableRate)}`;
  return `${low}; ${high}`;
}

function pairs(results: SparkBenchResults): Array<[Workload, number]> {
  const out: Array<[Workload, number]> = [];
  for (const workload of ['wordCount', 'grep', 'hashtags'] as const) {
    for (const intervalMs of results.intervalsMs) out.push([workload, intervalMs]);
  }
  return out;
}

function summary(results: SparkBenchResults): string[] {
  const lines = [
    "| Workload | Batch interval | Sluice (lines/s per core) | Spark (lines/s per core) | Sluice / Spark | Throughput goal (≥ 1) | Same rate (lines/s) | Sluice p50 / p99 total delay (ms) | Spark p50 / p99 total delay (ms) | Latency goal (Sluice p50 and p99 below Spark) | At half of each engine's own rate: Sluice / Spark p50 (ms), lower? |",
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  let throughputMet = 0;
  let latencyMet = 0;
  let ownRateLower = 0;
  let compared = 0;
  let bothFinished = 0;
  let sparkDidNotFinish = 0;
  for (const [workload, intervalMs] of pairs(results)) {
    const sluice = session(results, 'sluice', workload, intervalMs);
    const spark = session(results, 'spark', workload, intervalMs);
    const r = ratio(sluice, spark);
    const perCore = (s: SessionResult | undefined) =>
      s?.sustainableRate === undefined ? 'none stable' : formatRate(s.sustainableRate / results.engineCores);
    const throughputGoal = r === undefined ? undefined : r >= 1;
    const a = sameRate(results, 'sluice', workload, intervalMs);
    const b = sameRate(results, 'spark', workload, intervalMs);
    const latencyGoal = lowerLatency(a?.latency, b?.latency);
    // Spark's process ended before its latency was measured (it ran out of memory, say): none to compare.
    const sparkEnded = b !== undefined && !b.latency && b.run.error !== undefined;
    const sparkFailed = a?.latency !== undefined && sparkEnded;
    const own = lowerLatency(sluice?.latency, spark?.latency);
    compared++;
    if (throughputGoal) throughputMet++;
    if (latencyGoal) latencyMet++;
    if (latencyGoal !== undefined) bothFinished++;
    if (sparkFailed) sparkDidNotFinish++;
    if (own) ownRateLower++;
    const ownText =
      own === undefined
        ? 'n/a'
        : `${ms(sluice?.latency?.p50Ms)} / ${ms(spark?.latency?.p50Ms)}, ${own ? 'yes' : 'no'}`;
    lines.push(
      `| ${WORKLOAD_TEXT[workload]} | ${interval(intervalMs)} | ${perCore(sluice)} | ${perCore(spark)} | ${r === undefined ? 'n/a' : r.toFixed(2)} | ${verdict(throughputGoal)} | ${a ? formatRate(a.rate) : 'n/a'} | ${p50p99(a?.latency)} | ${sparkEnded ? `did not finish: ${failure(b)}` : p50p99(b?.latency)} | ${verdict(latencyGoal)} | ${ownText} |`,
    );
  }
  const settle =
    results.settleMs === undefined
      ? ''
      : ` (Hashtags after ${results.settleMs / 1000} s of input, so the ${results.windowMs / 1000} s window is full and sliding)`;
  lines.push(
    '',
    `**The issue's goal** (Sluice at or above Spark on throughput per core, and below it on p50 and p99 latency at the same batch interval, the window full): throughput met in ${throughputMet} of ${compared} configurations, latency met in ${latencyMet} of the ${bothFinished} where both engines finished their run${sparkDidNotFinish > 0 ? `; in ${sparkDidNotFinish} more, Spark's process did not finish its run and Sluice's did (the reason is in the table)` : ''}. ${
      throughputMet === compared && latencyMet === bothFinished && bothFinished === compared
        ? 'The goal is met.'
        : throughputMet === compared &&
            latencyMet === bothFinished &&
            bothFinished + sparkDidNotFinish === compared
          ? "The goal is met wherever both engines could run; where Spark's could not, there is no latency of its to compare."
          : 'The goal is **not met** overall.'
    }`,
    '',
    `Latency for the goal is both engines at the same input rate, half of the slower engine's highest sustainable rate${settle}: the same lines per batch for both. The last column is the other view, each engine at half of *its own* rate, where the engine that sustains more also carries more per batch: Sluice's p50 and p99 are both lower there in ${ownRateLower} of ${compared}.`,
  );
  return lines;
}

function throughputTable(results: SparkBenchResults): string[] {
  const lines = [
    '| Workload | Batch interval | Sluice (lines/s) | Spark (lines/s) | Sluice / Spark | Sluice search | Spark search | 1-min load during the sessions, median (Sluice / Spark) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const [workload, intervalMs] of pairs(results)) {
    const sluice = session(results, 'sluice', workload, intervalMs);
    const spark = session(results, 'spark', workload, intervalMs);
    const r = ratio(sluice, spark);
    lines.push(
      `| ${WORKLOAD_TEXT[workload]} | ${interval(intervalMs)} | ${rate(sluice?.sustainableRate)} | ${rate(spark?.sustainableRate)} | ${r === undefined ? 'n/a' : r.toFixed(2)} | ${bounds(sluice)} | ${bounds(spark)} | ${load(sluice)} / ${load(spark)} |`,
    );
  }
  return lines;
}

function latencyTable(results: SparkBenchResults): string[] {
  const lines = [
    '| Workload | Batch interval | Engine | Rate (lines/s) | Batches | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | Processing p50 (ms) | Stable |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [workload, intervalMs] of pairs(results)) {
    for (const engine of ['sluice', 'spark'] as const) {
      const l = session(results, engine, workload, intervalMs)?.latency;
      lines.push(
        l
          ? `| ${WORKLOAD_TEXT[workload]} | ${interval(intervalMs)} | ${engine} | ${formatRate(l.rate)} | ${l.batches} | ${ms(l.p50Ms)} | ${ms(l.p95Ms)} | ${ms(l.p99Ms)} | ${ms(l.maxMs)} | ${ms(l.processingP50Ms)} | ${l.stable ? 'yes' : 'no'} |`
          : `| ${WORKLOAD_TEXT[workload]} | ${interval(intervalMs)} | ${engine} | n/a | | | | | | | |`,
      );
    }
  }
  return lines;
}

function sameRateTable(results: SparkBenchResults): string[] {
  if (!results.sameRate?.length) return ['Not measured in this run.'];
  const lines = [
    '| Workload | Batch interval | Engine | Rate (lines/s) | Fed before the measured batches | Batches | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | Processing p50 (ms) | Peak RSS | Stable |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [workload, intervalMs] of pairs(results)) {
    for (const engine of ['sluice', 'spark'] as const) {
      const x = sameRate(results, engine, workload, intervalMs);
      const l = x?.latency;
      const fed = x ? `${(x.settleBatches * intervalMs) / 1000} s` : '';
      lines.push(
        l
          ? `| ${WORKLOAD_TEXT[workload]} | ${interval(intervalMs)} | ${engine} | ${formatRate(l.rate)} | ${fed} | ${l.batches} | ${ms(l.p50Ms)} | ${ms(l.p95Ms)} | ${ms(l.p99Ms)} | ${ms(l.maxMs)} | ${ms(l.processingP50Ms)} | ${mib(x?.run.peakBytes)} | ${l.stable ? 'yes' : 'no'} |`
          : `| ${WORKLOAD_TEXT[workload]} | ${interval(intervalMs)} | ${engine} | ${x ? formatRate(x.rate) : 'n/a'} | ${fed} | | | | | | | | ${x?.run.error ? failure(x) : 'not run'} |`,
      );
    }
  }
  return lines;
}

function memoryTable(results: SparkBenchResults): string[] {
  const lines = [
    '| Workload | Batch interval | Engine | RSS idle | Peak RSS, latency run | Peak RSS, search run (every rate tried) |',
    '|---|---|---|---|---|---|',
  ];
  for (const [workload, intervalMs] of pairs(results)) {
    for (const engine of ['sluice', 'spark'] as const) {
      const s = session(results, engine, workload, intervalMs);
      lines.push(
        `| ${WORKLOAD_TEXT[workload]} | ${interval(intervalMs)} | ${engine} | ${mib(s?.search.idleRssBytes)} | ${mib(s?.latencyRun?.peakBytes)} | ${mib(s && searchPeakBytes(s))} |`,
      );
    }
  }
  return lines;
}

/** The search's peak RSS: the highest of its processes' (see `searchProcesses`). */
function searchPeakBytes(s: SessionResult): number | undefined {
  const peaks = searchProcesses(s).flatMap((p) => (p.peakBytes === undefined ? [] : [p.peakBytes]));
  return peaks.length === 0 ? undefined : Math.max(...peaks);
}

/** The search's processes: the first, and any it went on in after one ended early. */
function searchProcesses(s: SessionResult): ProcessRecord[] {
  return [s.search, ...(s.searchRestarts ?? [])];
}

function startupTable(results: SparkBenchResults): string[] {
  const lines = [
    '| Engine | Processes | Spawn → context running, median | Spawn → first completed batch, median | First batch of input: processing (ms), median | Same rate once warm: processing (ms), median |',
    '|---|---|---|---|---|---|',
  ];
  for (const engine of ['sluice', 'spark'] as const) {
    const runs: ProcessRecord[] = results.sessions
      .filter((s) => s.engine === engine)
      .flatMap((s) => [...searchProcesses(s), ...(s.latencyRun ? [s.latencyRun] : [])]);
    const med = (values: Array<number | undefined>) => {
      const known = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
      return known.length === 0 ? undefined : known[Math.floor((known.length - 1) / 2)];
    };
    lines.push(
      `| ${engine} | ${runs.length} | ${seconds(med(runs.map((r) => r.startup.startedMs)))} | ${seconds(med(runs.map((r) => r.startup.firstBatchMs)))} | ${ms(med(runs.map((r) => r.startup.firstInputBatchProcessingMs)))} | ${ms(med(runs.map((r) => r.startup.warmProcessingMs)))} |`,
    );
  }
  return lines;
}

function correctnessSection(results: SparkBenchResults): string[] {
  const lines = [
    '| Workload | Lines per batch | Batches compared | Sluice = reference | Spark = reference | Sluice = Spark | Records per batch right (Sluice / Spark) | First difference | Harness flags a wrong answer |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const c of results.correctness) {
    const check = (engine: EngineName) => c.checks.find((x) => x.engine === engine);
    const sluice = check('sluice');
    const spark = check('spark');
    const same = (x: typeof sluice) =>
      x ? `${x.resultsMatched === c.batches ? 'yes' : '**no**'} (${x.resultsMatched}/${c.batches})` : 'n/a';
    const name =
      c.workload === 'hashtags' ? `Hashtags (${c.windowMs / 1000} s window)` : WORKLOAD_TEXT[c.workload];
    const diff = [
      sluice?.firstMismatch && `Sluice ${sluice.firstMismatch}`,
      spark?.firstMismatch && `Spark ${spark.firstMismatch}`,
      c.error,
    ]
      .filter(Boolean)
      .join('; ');
    lines.push(
      `| ${name} | ${formatRate(c.linesPerBatch)} | ${c.batches} | ${same(sluice)} | ${same(spark)} | ${c.enginesAgree ? 'yes' : '**no**'} | ${sluice?.recordsMatched ?? 'n/a'} / ${spark?.recordsMatched ?? 'n/a'} | ${diff || 'none'} | ${c.detectsWrongAnswer ? 'yes' : '**no**'} |`,
    );
  }
  const allGood = results.correctness.every(
    (c) =>
      c.enginesAgree &&
      c.checks.every((x) => x.resultsMatched === c.batches && x.recordsMatched === c.batches),
  );
  lines.push(
    '',
    allGood
      ? '**Result: identical.** Both engines gave the reference output for every batch.'
      : '**Result: differences found** (see the table).',
  );
  return lines;
}

function roleTables(role: RoleSummary): string[] {
  const busy = role.busyMs || 1;
  const lines = [
    `Busy ${Math.round(role.busyMs)} ms of ${Math.round(role.wallMs)} ms profiled over ${role.threads} thread(s); garbage collection ${Math.round(role.gcMs)} ms (${((100 * role.gcMs) / busy).toFixed(1)}% of busy). By whose code: engine (lib/) ${((100 * role.byCategory.engine) / busy).toFixed(1)}%, the job's record functions ${((100 * role.byCategory.job) / busy).toFixed(1)}%, GC ${((100 * role.byCategory.gc) / busy).toFixed(1)}%, other (Node internals, start-up) ${((100 * role.byCategory.other) / busy).toFixed(1)}%.`,
    '',
    '| Self time (ms) | Share of busy | Function |',
    '|---|---|---|',
    ...role.top
      .slice(0, 10)
      .map((f) => `| ${Math.round(f.ms)} | ${((100 * f.ms) / busy).toFixed(1)}% | \`${f.name}\` |`),
    '',
    '| Total time incl. callees (ms) | Share of busy | Function |',
    '|---|---|---|',
    ...role.topInclusive
      .slice(0, 8)
      .map((f) => `| ${Math.round(f.ms)} | ${((100 * f.ms) / busy).toFixed(1)}% | \`${f.name}\` |`),
  ];
  return lines;
}

function profileSection(results: SparkBenchResults): string[] {
  const p = results.profile;
  if (!p) return ['Not run.'];
  if ('error' in p) return [`The profile failed: ${p.error}`];
  const { result } = p;
  const profiled = result.run.stages.find((s) => s.purpose === 'profile');
  const lines = [
    `${WORKLOAD_TEXT[p.workload]} at ${formatRate(result.rate)} lines/s, ${interval(p.intervalMs)} batches, in Sluice's engine process under \`node --cpu-prof\` (driver thread and both worker threads profiled), ${profiled?.batches.length ?? 0} measured batches after a warm-up. ${p.why}`,
    '',
    `Processing time per batch under the profiler: ${profiled?.batches.map((b) => b.processingMs).join(', ') ?? 'n/a'} ms; total delay ${profiled?.batches.map((b) => b.totalDelayMs).join(', ') ?? 'n/a'} ms.`,
    '',
  ];
  for (const role of ['driver', 'worker', 'other'] as const) {
    const summary = result.roles.find((r) => r.role === role);
    if (!summary) continue;
    lines.push(
      `### ${role === 'driver' ? 'Driver thread (socket receiver, scheduler, input blocks)' : role === 'worker' ? 'Worker threads (tasks)' : "Other threads (tsx's module loader)"}`,
      '',
      ...(role === 'other' ? [`Busy ${Math.round(summary.busyMs)} ms in all.`] : roleTables(summary)),
      '',
    );
  }
  return lines;
}

function stageLog(results: SparkBenchResults): string[] {
  const lines = [
    '| Workload | Interval | Engine | Process | Stage | Rate (lines/s) | Window full | Verdict | Why | Total delay per batch (ms) | Processing per batch (ms) | Records per batch |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const processes = [
    ...results.sessions.flatMap((s) => [
      ...searchProcesses(s).map((run, i) => ({
        s,
        name: i === 0 ? 'search' : `search, fresh process ${i + 1}`,
        run,
        settleBatches: 0,
      })),
      { s, name: 'latency', run: s.latencyRun, settleBatches: 0 },
    ]),
    ...(results.sameRate ?? []).map((s) => ({
      s,
      name: 'same-rate latency',
      run: s.run,
      settleBatches: s.settleBatches,
    })),
  ];
  for (const { s, name, run, settleBatches } of processes) {
    if (!run) continue;
    for (const stage of run.stages) {
      const settled = stage.purpose === 'latency' && settleBatches > 0;
      const full =
        s.workload !== 'hashtags'
          ? ''
          : stage.inputSecondsBefore * 1000 >= results.windowMs
            ? 'yes'
            : settled
              ? `from batch ${settleBatches + 1} (measured)`
              : 'no';
      lines.push(
        `| ${s.workload} | ${interval(s.intervalMs)} | ${s.engine} | ${name} | ${stage.purpose} | ${formatRate(stage.rate)} | ${full} | ${stage.stable ? 'stable' : 'unstable'} | ${stage.why} | ${stage.batches.map((b) => b.totalDelayMs).join(', ')} | ${stage.batches.map((b) => b.processingMs).join(', ')} | ${stage.batches.map((b) => b.records).join(', ')} |`,
      );
    }
    if (run.error)
      lines.push(
        `| ${s.workload} | ${interval(s.intervalMs)} | ${s.engine} | ${name} | ended early | | | | ${run.error} | | | |`,
      );
  }
  return lines;
}

/** Both engines' rates in a recorded run, for one configuration, and Sluice's over Spark's when both are known. */
function historicRates(run: RunSummary, workload: Workload, intervalMs: number) {
  const sluice = runFor(run.sessions, 'sluice', workload, intervalMs)?.sustainableRate;
  const spark = runFor(run.sessions, 'spark', workload, intervalMs)?.sustainableRate;
  return { sluice, spark, ratio: sluice && spark ? sluice / spark : undefined };
}

/** Configurations where the recorded runs disagree on whether Sluice reaches Spark's rate. */
function flips(r: SparkBenchResults): string[] {
  return pairs(r)
    .filter(([workload, intervalMs]) => {
      const verdicts = new Set(
        r.history
          .map((run) => historicRates(run, workload, intervalMs).ratio)
          .filter((x): x is number => x !== undefined)
          .map((x) => x >= 1),
      );
      return verdicts.size > 1;
    })
    .map(([workload, intervalMs]) => `${WORKLOAD_TEXT[workload]} at ${interval(intervalMs)}`);
}

function historyTable(r: SparkBenchResults): string[] {
  const runs = r.history;
  const head = runs.map(
    (run, i) =>
      `${run.started.slice(0, 16).replace('T', ' ')}${i === runs.length - 1 ? ' (this run)' : ''}, load ${run.medianLoad === undefined ? 'n/a' : run.medianLoad.toFixed(1)}${run.rule === undefined ? ', stricter rule*' : ''}`,
  );
  const lines = [
    `Sluice / Spark rate (Sluice's rate / Spark's rate, lines/s) in the last ${runs.length} run(s) of this benchmark on this machine (\`bench/spark/target/spark-bench-history.jsonl\`), with each run's median 1-minute load. Where the verdict changes from run to run, the difference is within this machine's noise.`,
    '',
    `| Workload | Batch interval | ${head.join(' | ')} |`,
    `|---|---|${runs.map(() => '---|').join('')}`,
  ];
  for (const [workload, intervalMs] of pairs(r)) {
    const cells = runs.map((run) => {
      const { sluice, spark, ratio } = historicRates(run, workload, intervalMs);
      return ratio === undefined ? 'n/a' : `${ratio.toFixed(2)} (${rate(sluice)} / ${rate(spark)})`;
    });
    lines.push(`| ${WORKLOAD_TEXT[workload]} | ${interval(intervalMs)} | ${cells.join(' | ')} |`);
  }
  if (runs.some((run) => run.rule === undefined)) {
    lines.push(
      '',
      '\\* An earlier version of this benchmark: a stage was stable only if *every* processing time of its second half fitted the budget (one slow batch on a busy machine made it unstable), and the 0.5 s searches had 4 stages instead of 5. Its rates are lower bounds more often.',
    );
  }
  return lines;
}

/** The run's figures in sentences: where Sluice wins, where it loses and by how much. */
function findings(r: SparkBenchResults): string[] {
  const lines: string[] = [];
  const medianLoad = percentile(r.loadDuring, 50);
  if (medianLoad > r.cores) {
    lines.push(
      `- **Caveat: the machine was busy.** The median 1-minute load during the run was ${medianLoad.toFixed(2)} on ${r.cores} cores, while the benchmark alone keeps at most about ${r.engineCores} busy: other work took cores from the engines, at different times for different sessions. Rates are pessimistic and the Sluice/Spark ratios noisier than the search's resolution; the per-session load is in the throughput table.`,
    );
  }
  const wins: string[] = [];
  const losses: string[] = [];
  const latency: string[] = [];
  for (const [workload, intervalMs] of pairs(r)) {
    const sluice = session(r, 'sluice', workload, intervalMs);
    const spark = session(r, 'spark', workload, intervalMs);
    const x = ratio(sluice, spark);
    const name = `${WORKLOAD_TEXT[workload]} at ${interval(intervalMs)}`;
    if (x !== undefined) (x >= 1 ? wins : losses).push(`${name} (${x.toFixed(2)}×)`);
    const a = sluice?.latency;
    const b = spark?.latency;
    if (a && b) {
      latency.push(
        `${name}: Sluice p50 ${ms(a.p50Ms)} ms (scheduling ${ms(a.schedulingP50Ms)} + processing ${ms(a.processingP50Ms)}) at ${formatRate(a.rate)} lines/s, Spark p50 ${ms(b.p50Ms)} ms (scheduling ${ms(b.schedulingP50Ms)} + processing ${ms(b.processingP50Ms)}) at ${formatRate(b.rate)} lines/s`,
      );
    }
  }
  lines.push(
    ...(r.history.length > 1
      ? [
          `- **Run to run**: over the last ${r.history.length} runs, whether Sluice reaches Spark's rate changes in ${flips(r).length === 0 ? 'no configuration' : flips(r).join(', ')} (table under Throughput).`,
        ]
      : []),
    `- **Throughput**: Sluice sustains at least Spark's rate in ${wins.length ? wins.join(', ') : 'no configuration'}; less in ${losses.length ? losses.join(', ') : 'no configuration'}. Each search pins a rate down only to within its last stable and first unstable rate (the throughput table), and a stage is 8–14 batches: treat differences under about 20% as noise.`,
  );
  const same: string[] = [];
  for (const [workload, intervalMs] of pairs(r)) {
    const runA = sameRate(r, 'sluice', workload, intervalMs);
    const runB = sameRate(r, 'spark', workload, intervalMs);
    const a = runA?.latency;
    const b = runB?.latency;
    if (a && b) {
      // A latency stage that ended unstable (its batches stopped arriving, say) still gave the batches before,
      // and its figures are over the last of those: say how far into the stage it got, and whether a windowed
      // job's window had filled by then, since the other engine's figures are from a full window.
      const unstable = (who: string, x: Latency, run: SameRateLatency) => {
        const stage = run.run.stages.at(-1);
        if (x.stable || !stage?.batches.length) return '';
        const spanS = stageSpanMs(run) / 1000;
        const plannedS = (run.settleBatches * intervalMs) / 1000 + (x.batches * intervalMs) / 1000;
        const filling =
          run.settleBatches > 0 && spanS < r.windowMs / 1000
            ? `, so its ${r.windowMs / 1000} s window held at most ${Math.round(spanS)} s of input when they were taken`
            : '';
        return `; ${who}'s run ended unstable (${stage.why}) about ${Math.round(spanS)} s into a stage of ${Math.round(plannedS)} s, and its figures are over its last ${x.batches} batches before that${filling}`;
      };
      same.push(
        `${WORKLOAD_TEXT[workload]} at ${interval(intervalMs)}, ${formatRate(a.rate)} lines/s: Sluice p50 / p99 ${ms(a.p50Ms)} / ${ms(a.p99Ms)} ms (processing ${ms(a.processingP50Ms)}), Spark ${ms(b.p50Ms)} / ${ms(b.p99Ms)} ms (processing ${ms(b.processingP50Ms)})${unstable('Sluice', a, runA!)}${unstable('Spark', b, runB!)}`,
      );
    }
  }
  for (const x of r.sameRate ?? []) {
    if (x.latency || !x.run.error) continue;
    const own = session(r, x.engine, x.workload, x.intervalMs)?.sustainableRate;
    same.push(
      `${WORKLOAD_TEXT[x.workload]} at ${interval(x.intervalMs)}, ${formatRate(x.rate)} lines/s: ${x.engine === 'spark' ? 'Spark' : 'Sluice'}'s run did not finish (${failure(x)}), though its search had found ${rate(own)} lines/s sustainable${x.settleBatches > 0 ? ' with the window still filling; once the window is full it holds a whole window of input' : ''}`,
    );
  }
  if (same.length > 0) {
    lines.push(
      `- **Latency at the same rate** (the goal's measure; Hashtags measured once the window had filled and slid for ${((r.settleMs ?? r.windowMs) - r.windowMs) / 1000} s):`,
      ...same.map((l) => `  - ${l}`),
    );
  }
  if (latency.length > 0) {
    lines.push(
      "- **Latency at half of each engine's own rate** (medians; the two parts are medians of their own and need not add up exactly): both engines store the socket's lines as blocks every 200 ms during the interval, so at the tick a batch only names its blocks (Sluice first stores the last, partial one); a scheduling delay well above a few milliseconds is a batch waiting for the one before.",
      ...latency.map((l) => `  - ${l}`),
    );
  }
  const hashtagStages = r.sessions
    .filter((x) => x.workload === 'hashtags')
    .flatMap((x) => [...searchProcesses(x).flatMap((p) => p.stages), ...(x.latencyRun?.stages ?? [])]);
  const fullWindow = hashtagStages.filter((stage) => stage.inputSecondsBefore * 1000 >= r.windowMs);
  const settledRuns = (r.sameRate ?? []).filter((x) => x.workload === 'hashtags' && x.latency);
  // A run whose batches stopped arriving before its settling ended measured a window still filling.
  const reachedSettle = (x: SameRateLatency) =>
    x.latency?.stable !== false || stageSpanMs(x) > x.settleBatches * x.intervalMs;
  const shortRuns = settledRuns.filter((x) => !reachedSettle(x));
  if (hashtagStages.length > 0) {
    lines.push(
      `- **Window**: ${fullWindow.length === 0 ? 'no' : `${fullWindow.length} of ${hashtagStages.length}`} Hashtags search or own-rate latency stage${fullWindow.length === 1 ? '' : 's'} started with a full ${r.windowMs / 1000} s window (each of those processes runs about a minute), so those figures are for a window filling up, where no batch leaves it yet and the inverse reduce has nothing to take out. ${
        settledRuns.length > 0
          ? `The same-rate runs (${settledRuns.length}) measure the full window: their batches are counted only after ${(r.settleMs ?? 0) / 1000} s of input at the measured rate, without a break${shortRuns.length > 0 ? `, except ${shortRuns.map((x) => `${x.engine === 'spark' ? 'Spark' : 'Sluice'}'s at ${interval(x.intervalMs)}`).join(' and ')}, whose batches stopped arriving before that (see above)` : ''}.`
          : 'No run in this report measured the full window.'
      }`,
    );
  }
  const memory: string[] = [];
  for (const [workload, intervalMs] of pairs(r)) {
    const a = session(r, 'sluice', workload, intervalMs)?.latencyRun?.peakBytes;
    const b = session(r, 'spark', workload, intervalMs)?.latencyRun?.peakBytes;
    if (a && b) memory.push(`${WORKLOAD_TEXT[workload]} at ${interval(intervalMs)} ${mib(a)} vs ${mib(b)}`);
  }
  if (memory.length > 0)
    lines.push(`- **Peak memory** of the latency runs, Sluice vs Spark: ${memory.join('; ')}.`);
  const profile = r.profile && !('error' in r.profile) ? r.profile : undefined;
  if (profile) {
    const describe = (role: 'driver' | 'worker') => {
      const s = profile.result.roles.find((x) => x.role === role);
      if (!s) return `${role}: not profiled`;
      const busy = s.busyMs || 1;
      const top = s.top
        .slice(0, 3)
        .map((f) => `\`${f.name}\` ${((100 * f.ms) / busy).toFixed(0)}%`)
        .join(', ');
      return `${role === 'driver' ? 'the driver thread was' : 'the worker threads were'} busy ${Math.round((100 * s.busyMs) / (s.wallMs || 1))}% of the profiled time (GC ${((100 * s.gcMs) / busy).toFixed(0)}% of that); heaviest: ${top}`;
    };
    lines.push(
      `- **Where Sluice's time goes** (${WORKLOAD_TEXT[profile.workload]} at ${interval(profile.intervalMs)} batches, profiled at ${formatRate(profile.result.rate)} lines/s): ${describe('driver')}; ${describe('worker')}. Details below.`,
    );
  }
  return lines;
}

/**
 * Renders the generated part of `bench/SPARK.md`, which `npm run bench:spark` writes between the file's
 * `bench:spark` markers: this run's figures and the settings they were measured with. How the figures are
 * measured is written once, by hand, in the file's Method section above the markers.
 */
export function renderSparkResults(r: SparkBenchResults): string {
  const stageBatches = r.intervalsMs.map((i) => `${r.stageBatches[i]} at ${interval(i)}`).join(', ');
  const latencyBatches = r.intervalsMs.map((i) => `${r.latencyBatches[i]} at ${interval(i)}`).join(', ');
  return [
    '## This run',
    '',
    `- Date: ${r.started.toISOString()} (the run took ${Math.round(r.durationMs / 1000)} s)`,
    `- Machine: ${r.cpuModel}, ${r.cores} cores, ${Math.round(r.memoryBytes / 2 ** 30)} GiB RAM`,
    `- Node ${r.nodeVersion}; ${r.javaVersion}; Apache Spark ${r.sparkVersion} (Scala 2.13, DStream API), ${r.sparkBuild}`,
    `- Load average (1/5/15 min) before: ${r.loadBefore.map((x) => x.toFixed(2)).join(' / ')}, after: ${r.loadAfter.map((x) => x.toFixed(2)).join(' / ')}; 1-minute load during the run (every 10 s): median ${percentile(r.loadDuring, 50).toFixed(2)}, max ${Math.max(...r.loadDuring).toFixed(2)}; the benchmark itself keeps about ${r.engineCores} cores busy at the higher rates.`,
    '',
    ...table(
      [
        'Cores per engine',
        'Spark heap',
        'Window / slide (Hashtags)',
        'Records in the input pool',
        'Batches per search stage',
        'Batches per latency run',
      ],
      [
        [
          r.engineCores,
          // Runs before 2026-11-30 recorded one heap, without the flag.
          r.sparkHeap.startsWith('-Xmx') ? r.sparkHeap : `-Xmx${r.sparkHeap}`,
          `${r.windowMs / 1000} s / ${r.slideMs / 1000} s`,
          formatRate(r.poolLines),
          stageBatches,
          latencyBatches,
        ],
      ],
    ),
    '',
    '## Summary',
    '',
    ...summary(r),
    '',
    '### Findings',
    '',
    ...findings(r),
    '',
    '## Throughput: highest sustainable rate',
    '',
    ...throughputTable(r),
    '',
    '### Run to run',
    '',
    ...historyTable(r),
    '',
    '## Latency at the same rate',
    '',
    ...sameRateTable(r),
    '',
    "## Latency at half of each engine's sustainable rate",
    '',
    ...latencyTable(r),
    '',
    '## Peak memory',
    '',
    ...memoryTable(r),
    '',
    '## Start-up and warm-up',
    '',
    ...startupTable(r),
    '',
    '## Correctness',
    '',
    ...correctnessSection(r),
    '',
    "## Where Sluice's time goes",
    '',
    ...profileSection(r),
    '',
    '## Every stage',
    '',
    ...stageLog(r),
  ].join('\n');
}

/** A ratio with two decimals; for the driver's log. */
export function formatRatio(x: number | undefined): string {
  return x === undefined ? 'n/a' : x.toFixed(2);
}
