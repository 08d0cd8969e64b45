/**
 * Socket input at a fixed rate: Sluice's engine process (`bench/spark/sluiceEngine.ts`, the same process
 * `npm run bench:spark` measures) and the hand-written socket loop (`bench/socketLoop.ts`, the ceiling) each
 * read the benchmark's line server (`LineFeeder`: pre-made lines, so no generation is timed) at the same rate,
 * one after the other. Not part of `npm test`; a side-by-side measurement, written to stdout.
 *
 * Usage: `node --import tsx bench/socketInput.ts [workload=grep|wordCount] [rate=200000] [seconds=12] [runs=3]
 * [intervalMs=1000] [profile=0]`. With `profile=1` the engine runs under `--cpu-prof` (every thread) and each run
 * also prints where its threads spent their time (`bench/cpuProfile.ts`); profiling slows it, so its delays and
 * CPU figures are not comparable with an unprofiled run's.
 *
 * Per run: lines sent and received; for the engine the medians, over the batches after the first two, of its
 * scheduling delay, processing time and total delay; for both the process's CPU time per million lines (user +
 * system, all threads), and for the loop the lines per CPU-second (what one core can take from a socket).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { summarizeProfileDir } from './cpuProfile';
import { EngineProcess } from './spark/EngineProcess';
import { launchEngine } from './spark/engineLaunch';
import { LineFeeder, LinePool } from './spark/LineFeeder';
import { median } from './stats';

const options = new Map(process.argv.slice(2).map((a) => a.split('=', 2) as [string, string]));
const workload = (options.get('workload') ?? 'grep') as 'grep' | 'wordCount';
const rate = Number(options.get('rate') ?? 200_000);
const seconds = Number(options.get('seconds') ?? 12);
const runs = Number(options.get('runs') ?? 3);
const intervalMs = Number(options.get('intervalMs') ?? 1000);
const LOOP = fileURLToPath(new URL('./socketLoop.ts', import.meta.url));
const profile = options.get('profile') === '1';
const POOL_LINES = 262_000;

/** User + system CPU time of a process so far, in ms (all its threads), from `/proc/<pid>/stat`. */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

interface EngineRun {
  readonly sent: number;
  readonly received: number;
  readonly schedulingMs: number;
  readonly processingMs: number;
  readonly totalMs: number;
  readonly cpuMsPerMillion: number;
}

async function runEngine(feeder: LineFeeder): Promise<EngineRun> {
  const profileDir = profile ? await mkdtemp(join(tmpdir(), 'sluice-socket-prof-')) : undefined;
  const launch = await launchEngine(
    'sluice',
    { workload, port: feeder.port, intervalMs, windowMs: 0, slideMs: 0 },
    { nodeFlags: profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [] },
  );
  const engine = new EngineProcess('sluice', launch);
  try {
    await engine.waitUntil(() => engine.startedAtMs, 60_000);
    await feeder.waitForClients(1, 30_000);
    // Start on the engine's second batch boundary, so every fed batch is whole.
    const fromMs = (Math.floor(Date.now() / intervalMs) + 2) * intervalMs;
    const untilMs = fromMs + seconds * 1000;
    const sentBefore = feeder.sentLines;
    const cpuBefore = cpuMsOf(engine.pid!);
    feeder.feed(rate, fromMs, untilMs);
    // Two batches past the feed's end: a line cut into a block after its interval's last one is in the next batch.
    const endMs = untilMs + 2 * intervalMs;
    await engine.waitUntil(
      () => (engine.reports.some((r) => r.timeMs >= endMs) ? true : undefined),
      seconds * 1000 + 60_000,
    );
    const cpuMs = cpuMsOf(engine.pid!) - cpuBefore;
    const received = engine.reports
      .filter((r) => r.timeMs > fromMs && r.timeMs <= endMs)
      .reduce((sum, r) => sum + r.records, 0);
    // The delays of the batches that were fed throughout, after two of warm-up.
    const measured = engine.reports.filter((r) => r.timeMs > fromMs && r.timeMs <= untilMs).slice(2);
    return {
      sent: feeder.sentLines - sentBefore,
      received,
      schedulingMs: median(measured.map((r) => r.schedulingDelayMs)),
      processingMs: median(measured.map((r) => r.processingMs)),
      totalMs: median(measured.map((r) => r.totalDelayMs)),
      cpuMsPerMillion: (cpuMs / Math.max(1, received)) * 1e6,
    };
  } finally {
    await engine.stop();
    await launch.cleanup();
    if (profileDir) {
      for (const role of await summarizeProfileDir(profileDir, 15)) {
        process.stderr.write(`profile ${JSON.stringify(role)}\n`);
      }
      await rm(profileDir, { recursive: true, force: true });
    }
  }
}

interface LoopRun {
  readonly sent: number;
  readonly received: number;
  readonly cpuMsPerMillion: number;
  readonly linesPerCpuSec: number;
}

async function runLoop(feeder: LineFeeder): Promise<LoopRun> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', LOOP, `workload=${workload}`, `port=${feeder.port}`],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout! });
  const events: Record<string, number>[] = [];
  let wake: () => void = () => {};
  lines.on('line', (line) => {
    events.push(JSON.parse(line) as Record<string, number>);
    wake();
  });
  while (events.length === 0) await new Promise<void>((resolve) => (wake = resolve));
  await feeder.waitForClients(1, 30_000);
  const fromMs = Date.now() + 100;
  const sentBefore = feeder.sentLines;
  feeder.feed(rate, fromMs, fromMs + seconds * 1000);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000 + 1500));
  child.stdin!.end();
  while (events.length < 2) await new Promise<void>((resolve) => (wake = resolve));
  const result = events[1]!;
  return {
    sent: feeder.sentLines - sentBefore,
    received: result.lines!,
    cpuMsPerMillion: (result.cpuMs! / Math.max(1, result.lines!)) * 1e6,
    linesPerCpuSec: result.lines! / (result.cpuMs! / 1000),
  };
}

const pool = LinePool.generate('lines', POOL_LINES);
const feeder = await LineFeeder.start(pool);
const loadBefore = loadavg().map((l) => l.toFixed(2));
const engineRuns: EngineRun[] = [];
const loopRuns: LoopRun[] = [];
try {
  for (let run = 0; run < runs; run++) {
    loopRuns.push(await runLoop(feeder));
    engineRuns.push(await runEngine(feeder));
    process.stderr.write(`run ${run + 1}: loop ${JSON.stringify(loopRuns.at(-1))}\n`);
    process.stderr.write(`run ${run + 1}: engine ${JSON.stringify(engineRuns.at(-1))}\n`);
  }
} finally {
  await feeder.close();
}
const loadAfter = loadavg().map((l) => l.toFixed(2));
const m = (values: number[]) => Math.round(median(values));
process.stdout.write(
  `${JSON.stringify({
    workload,
    rate,
    seconds,
    intervalMs,
    runs,
    loadBefore,
    loadAfter,
    engine: {
      received: engineRuns.map((r) => `${r.received}/${r.sent}`),
      schedulingMs: m(engineRuns.map((r) => r.schedulingMs)),
      processingMs: m(engineRuns.map((r) => r.processingMs)),
      totalMs: m(engineRuns.map((r) => r.totalMs)),
      cpuMsPerMillion: m(engineRuns.map((r) => r.cpuMsPerMillion)),
      perRun: engineRuns,
    },
    loop: {
      received: loopRuns.map((r) => `${r.received}/${r.sent}`),
      cpuMsPerMillion: m(loopRuns.map((r) => r.cpuMsPerMillion)),
      linesPerCpuSec: m(loopRuns.map((r) => r.linesPerCpuSec)),
      perRun: loopRuns,
    },
  })}\n`,
);
process.exit(0);
