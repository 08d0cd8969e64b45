/**
 * The windowed hashtag count once its 60 s window is full, both engines at the same input rate: the part of
 * issue 15's latency target that `npm run bench:spark` cannot show, since each of its stages runs about a minute
 * and each engine's latency run carries half of *its own* highest rate. Here each engine (the same processes
 * `bench:spark` runs) takes `rate` tweets a second for `seconds` (default 100) of 1 s or 0.5 s batches, and the
 * total delays of the batches after the window first filled (the first `windowMs` + 10 s of the feed left out)
 * are its latency; one engine after the other, the same line server.
 *
 * Usage: `node --import tsx bench/spark/fullWindow.ts rate=400000 [seconds=100] [intervals=1000,500]`. Prints one
 * JSON line per run and a Markdown table at the end; results and method are kept in `bench/RESULTS.md`.
 */
import { loadavg } from 'node:os';
import { median, percentile } from '../stats';
import { EngineProcess } from './EngineProcess';
import { ensureSparkBuild, launchEngine } from './engineLaunch';
import { LineFeeder, LinePool } from './LineFeeder';

const options = new Map(process.argv.slice(2).map((a) => a.split('=', 2) as [string, string]));
const rate = Number(options.get('rate') ?? 400_000);
const seconds = Number(options.get('seconds') ?? 100);
const intervals = (options.get('intervals') ?? '1000,500').split(',').map(Number);
const WINDOW_MS = 60_000;
const SLIDE_MS = 1000;
/** Batches of the first window plus this much are left out: the window is full and has been sliding. */
const SETTLE_MS = WINDOW_MS + 10_000;

interface FullWindowRun {
  readonly engine: 'sluice' | 'spark';
  readonly intervalMs: number;
  readonly batches: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly processingP50Ms: number;
  readonly peakMiB: number;
  readonly receivedShare: number;
  readonly load: string;
}

async function runOne(
  engine: 'sluice' | 'spark',
  intervalMs: number,
  feeder: LineFeeder,
): Promise<FullWindowRun> {
  const launch = await launchEngine(engine, {
    workload: 'hashtags',
    port: feeder.port,
    intervalMs,
    windowMs: WINDOW_MS,
    slideMs: SLIDE_MS,
  });
  const process_ = new EngineProcess(engine, launch);
  try {
    await process_.waitUntil(() => process_.startedAtMs, 120_000);
    await feeder.waitForClients(1, 60_000);
    const fromMs = (Math.floor(Date.now() / SLIDE_MS) + 2) * SLIDE_MS;
    const untilMs = fromMs + seconds * 1000;
    const sentBefore = feeder.sentLines;
    process_.resetPeak();
    feeder.feed(rate, fromMs, untilMs);
    await process_.waitUntil(
      () => (process_.reports.some((r) => r.timeMs >= untilMs) ? true : undefined),
      seconds * 1000 + 120_000,
    );
    const fed = process_.reports.filter((r) => r.timeMs > fromMs && r.timeMs <= untilMs);
    const measured = fed.filter((r) => r.timeMs > fromMs + SETTLE_MS);
    const totals = measured.map((r) => r.totalDelayMs);
    const sent = feeder.sentLines - sentBefore;
    return {
      engine,
      intervalMs,
      batches: measured.length,
      p50Ms: percentile(totals, 50),
      p99Ms: percentile(totals, 99),
      maxMs: Math.max(...totals),
      processingP50Ms: median(measured.map((r) => r.processingMs)),
      peakMiB: Math.round((process_.memory()?.peakBytes ?? process_.sampledPeakBytes) / 2 ** 20),
      // The window's counts cover every tweet fed; what the engine took in is the records of its batches.
      receivedShare: fed.reduce((sum, r) => sum + r.records, 0) / Math.max(1, sent),
      load: loadavg()[0]!.toFixed(2),
    };
  } finally {
    await process_.stop();
  }
}

await ensureSparkBuild((line) => process.stderr.write(`${line}\n`));
const feeder = await LineFeeder.start(LinePool.generate('tweets', 262_000));
const runs: FullWindowRun[] = [];
try {
  for (const intervalMs of intervals) {
    for (const engine of ['sluice', 'spark'] as const) {
      const run = await runOne(engine, intervalMs, feeder);
      runs.push(run);
      process.stdout.write(`${JSON.stringify(run)}\n`);
    }
  }
} finally {
  await feeder.close();
  EngineProcess.killAll();
}
process.stdout.write(
  [
    '',
    `| Batch interval | Engine | Rate (tweets/s) | Batches measured | Total delay p50 / p99 / max (ms) | Processing p50 (ms) | Lines in batches (of sent) | Peak RSS (MiB) | Load |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...runs.map(
      (r) =>
        `| ${r.intervalMs / 1000} s | ${r.engine} | ${rate.toLocaleString('en-US')} | ${r.batches} | ${Math.round(r.p50Ms)} / ${Math.round(r.p99Ms)} / ${r.maxMs} | ${r.processingP50Ms} | ${(100 * r.receivedShare).toFixed(1)}% | ${r.peakMiB} | ${r.load} |`,
    ),
    '',
  ].join('\n'),
);
process.exit(0);
