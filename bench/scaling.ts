/**
 * `npm run bench:scaling`: how local mode's throughput grows with worker threads. For each thread count N (1, 2,
 * then doubling up to the machine's cores, or the counts given as `threads=1,2,4`), the logical-clock throughput
 * estimate of `npm run bench` (`estimateThroughput`: a calibration run sizes the batches so each lasts about one
 * interval at that N, then 3 runs × 5 batches) runs WordCount and Grep with N threads and N partitions. Parallel
 * efficiency is rate(N) / (N × rate(1)). Rewrites the `bench:scaling` section of `bench/RESULTS.md`; the method is
 * written there, once.
 *
 * Then, for 1 to 16 partitions whatever the cores (`bound=1,2,4,8,16`), the engine's own bound on the curve: see
 * `scalingBound.ts`.
 *
 * Usage: `node --import tsx bench/scaling.ts [threads=1,2,4,8,16] [bound=1,2,4,8,16] [workloads=wordCount,grep]`.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { table, writeSection } from './resultsFile';
import { type ScalingBound, scalingBound } from './scalingBound';
import { estimateThroughput, type ThroughputEstimate, type Workload } from './sustainableRate';

/**
 * The estimate's cap on a batch for each thread, far above `npm run bench`'s 1 000 000: with pre-made input Grep
 * takes tens of millions of lines a second on a thread, and a batch capped lower would last a fraction of the
 * interval, so that each batch's fixed costs, not the threads, would decide the curve. The cap grows with the
 * threads because their batches last as long as one thread's do.
 */
const MAX_BATCH_LINES_PER_THREAD = 20_000_000;

/**
 * Lines a partition in the imbalance runs of the engine's bound: a quarter of what one thread processes in an
 * interval, so a task lasts about 0.25 s and 16 partitions on one thread about 4 s a batch.
 */
const IMBALANCE_SHARE_OF_INTERVAL = 0.25;

const options = new Map(process.argv.slice(2).map((a) => a.split('=', 2) as [string, string]));
const cores = availableParallelism();
const defaultThreads = [1];
for (let n = 2; n <= cores; n *= 2) defaultThreads.push(n);
if (!defaultThreads.includes(cores)) defaultThreads.push(cores);
const threadCounts = (options.get('threads')?.split(',') ?? defaultThreads.map(String)).map(Number);
const workloads = (options.get('workloads')?.split(',') ?? ['wordCount', 'grep']) as Workload[];
const boundCounts = (options.get('bound')?.split(',') ?? ['1', '2', '4', '8', '16']).map(Number);
if (threadCounts[0] !== 1)
  throw new Error('the thread counts must start at 1: efficiency is against one thread');

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

const loadBefore = loadavg();
const started = new Date();
const results = new Map<Workload, Map<number, ThroughputEstimate>>();
for (const workload of workloads) {
  const byThreads = new Map<number, ThroughputEstimate>();
  results.set(workload, byThreads);
  for (const threads of threadCounts) {
    log(`${workload}, ${threads} worker thread(s)`);
    byThreads.set(
      threads,
      await estimateThroughput(
        workload,
        { workers: threads, partitions: threads },
        { maxRatePerSec: MAX_BATCH_LINES_PER_THREAD * threads },
        log,
      ),
    );
  }
}
const bounds = new Map<Workload, ScalingBound[]>();
for (const workload of workloads) {
  const linesPerPartition = Math.round(
    results.get(workload)!.get(1)!.processingRecordsPerSec * IMBALANCE_SHARE_OF_INTERVAL,
  );
  const rows: ScalingBound[] = [];
  bounds.set(workload, rows);
  for (const partitions of boundCounts) {
    log(`${workload}: the engine's bound at ${partitions} partitions`);
    rows.push(await scalingBound(workload, partitions, linesPerPartition));
  }
}
const loadAfter = loadavg();

const fmt = (n: number) => Math.round(n).toLocaleString('en-US').replace(/,/g, ' ');
const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
const lines = [
  `- Date: ${started.toISOString()}; CPU: ${cpus()[0]?.model.trim() ?? 'unknown'}, ${cores} cores; Node ${process.version}`,
  `- Load average (1/5/15 min) before: ${load(loadBefore)}, after: ${load(loadAfter)}`,
  '',
];
for (const [workload, byThreads] of results) {
  const one = byThreads.get(1)!;
  lines.push(
    `**${workload}**`,
    '',
    ...table(
      [
        'Worker threads',
        'Batch size (lines)',
        'Processing (lines/s)',
        'End to end (lines/s)',
        'Speed-up',
        'Parallel efficiency',
      ],
      [...byThreads].map(([threads, e]) => [
        threads,
        fmt(e.ratePerSec),
        fmt(e.processingRecordsPerSec),
        fmt(e.endToEndRecordsPerSec),
        `${(e.processingRecordsPerSec / one.processingRecordsPerSec).toFixed(2)}×`,
        `${((100 * e.processingRecordsPerSec) / (threads * one.processingRecordsPerSec)).toFixed(0)}%`,
      ]),
    ),
    '',
  );
}
lines.push(
  "**The engine's bound on parallel efficiency** (`bench/scalingBound.ts`: fixed cost of a near-empty batch at N",
  'partitions on N threads; imbalance of N partitions run on one thread; bound = 1 s / (imbalance × 1 s + fixed',
  'cost), before memory bandwidth and clock speeds)',
  '',
);
for (const [workload, rows] of bounds) {
  lines.push(
    `**${workload}** (imbalance runs: ${fmt(rows[0]!.linesPerPartition)} lines a partition)`,
    '',
    ...table(
      ['Partitions', 'Fixed cost per batch (ms)', 'Imbalance (slowest / even)', 'Efficiency bound'],
      rows.map((b) => [
        b.partitions,
        b.fixedMs.toFixed(1),
        b.imbalance.toFixed(3),
        `${(100 * b.efficiencyBound).toFixed(1)}%`,
      ]),
    ),
    '',
  );
}
await writeSection('scaling', lines.join('\n'));
log('wrote the bench:scaling section of bench/RESULTS.md');
