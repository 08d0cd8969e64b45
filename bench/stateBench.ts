/**
 * The window and state benchmark (issue 3), run by `npm run bench` after the local-mode benchmark: it rewrites
 * its two sections of bench/RESULTS.md in place (between the `bench:state-windows` and `bench:state-bytes`
 * markers), so the file holds the latest run rather than a copy per run.
 *  1. The sliding hashtag count (60 s window, 1 s slide), incremental against recomputed: time per batch.
 *  2. updateStateByKey against mapWithState, 1M keys in state, 1% touched per batch: time per batch.
 *  3. State bytes written per batch with memory backed by the store (the serverless runtime's setting), 1M
 *     keys, 1% touched: a full snapshot every batch against incremental state (deltas between checkpoints).
 * 1 and 2 run on the logical clock (batches back to back), with worker threads, side by side in one run; 3 runs
 * its tasks in this thread over a counting folder store. `STATE_BENCH=bytes` runs section 3 alone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { contextFromModule, type JobModule } from '../lib/job/JobModule';
import { LocalRuntime } from '../lib/local/LocalRuntime';
import { LogicalClock } from '../lib/scheduler/Clock';
import { JobScheduler } from '../lib/scheduler/JobScheduler';
import type { BatchInfo } from '../lib/scheduler/StreamingListener';
import type { BlockStore } from '../lib/storage/BlockStore';
import { LocalFolderStore } from '../lib/storage/LocalFolderStore';
import { connectInProcess } from '../test/helpers/connectInProcess';
import { writeSection } from './resultsFile';
import { STATE_KEYS, stateBytesJobs, TOUCHED_PER_BATCH, TWEETS_PER_SEC, WINDOW_MS } from './stateJobs';

const jobsPath = new URL('./stateJobs.ts', import.meta.url).pathname;
const workers = availableParallelism();

async function run(exportName: string, batches: number): Promise<BatchInfo[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-statebench-'));
  const infos: BatchInfo[] = [];
  try {
    const runtime = await LocalRuntime.start(
      { kind: 'module', path: jobsPath, exportName },
      {
        clock: 'logical',
        batches,
        workers,
        storeDir: dir,
        write: () => {},
        listeners: [{ onBatchCompleted: (i) => infos.push(i) }],
      },
    );
    const summary = await runtime.run();
    if (summary.error) throw summary.error;
    return infos;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });

/** A folder store that adds up the bytes written under `persist/` (state), by the batch time in the key. */
class StateBytesStore implements BlockStore {
  readonly bytesByBatch = new Map<number, number>();
  constructor(private readonly inner: BlockStore) {}
  put(key: string, bytes: Uint8Array | string): Promise<void> {
    const time = /^persist\/[^@]+@(\d+)\//.exec(key);
    if (time) {
      const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
      this.bytesByBatch.set(Number(time[1]), (this.bytesByBatch.get(Number(time[1])) ?? 0) + size);
    }
    return this.inner.put(key, bytes);
  }
  get(key: string) {
    return this.inner.get(key);
  }
  getRange(key: string, start: number, end: number) {
    return this.inner.getRange(key, start, end);
  }
  list(prefix: string) {
    return this.inner.list(prefix);
  }
  deletePrefix(prefix: string) {
    return this.inner.deletePrefix(prefix);
  }
}

/** Runs `batches` batches with memory backed by a counting store; the state bytes written per batch. */
async function stateBytes(job: JobModule, batches: number): Promise<{ bytes: number[]; ms: number[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-statebytes-'));
  try {
    const ssc = contextFromModule(job);
    const store = new StateBytesStore(new LocalFolderStore(dir));
    connectInProcess(ssc, store, dir, { memoryBackedByStore: true });
    const ms: number[] = [];
    ssc.addListener({ onBatchCompleted: (i) => ms.push(i.processingTimeMs) });
    const summary = await new JobScheduler(ssc, new LogicalClock(), { name: 'state-bytes' }).run({ batches });
    if (summary.error) throw summary.error;
    const bytes = Array.from({ length: batches }, (_, i) => store.bytesByBatch.get((i + 1) * 1000) ?? 0);
    return { bytes, ms };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What the touched keys of one batch weigh as JSON `[key, state]` pairs, the least any write can carry. */
function touchedKeysBytes(): number {
  // Keys are numbers below 1M and states small counts; each batch after the first touches 10,000 keys once.
  let bytes = 0;
  for (let i = 0; i < TOUCHED_PER_BATCH; i++)
    bytes += JSON.stringify([(i * 100 + 5) % STATE_KEYS, 2]).length + 1;
  return bytes;
}

async function stateBytesSection(lines: string[]): Promise<void> {
  const batches = 5;
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
  lines.push(
    '',
    `## State bytes written per batch: ${fmt(STATE_KEYS)} keys, ${fmt(TOUCHED_PER_BATCH)} touched per batch (1%) (issue 11)`,
    '',
    `Run by \`STATE_BENCH=bytes node --import tsx bench/stateBench.ts\` (also part of \`npm run bench\`) on ${new Date().toISOString()}: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}, load average before ${load} (the machine is shared with other work). Memory backed by the block store, as the serverless runtime runs (every batch's state goes to the store); tasks in this thread, a local folder store wrapped to count the bytes written under \`persist/\`. ${batches} batches: batch 1 brings every key, batches 2–${batches} touch 1% each. "Full" checkpoints every batch, which writes what every batch wrote before incremental state (a full snapshot); "incremental" checkpoints past the run, so batches 2–${batches} write deltas.`,
    '',
    '| Operation | Variant | Batch 1 (bytes) | Median bytes per batch, batches 2–5 | Median processing per batch, 2–5 (ms) |',
    '|---|---|---|---|---|',
  );
  const touched = touchedKeysBytes();
  const ratios: string[] = [];
  for (const operation of ['mapWithState', 'updateStateByKey'] as const) {
    const full = await stateBytes(stateBytesJobs(1000)[operation], batches);
    const incremental = await stateBytes(stateBytesJobs(1_000_000)[operation], batches);
    const fullMedian = median(full.bytes.slice(1));
    const incMedian = median(incremental.bytes.slice(1));
    for (const [variant, run, m] of [
      ['full', full, fullMedian],
      ['incremental', incremental, incMedian],
    ] as const) {
      lines.push(
        `| ${operation} | ${variant} | ${fmt(run.bytes[0]!)} | ${fmt(m)} | ${fmt(median(run.ms.slice(1)))} |`,
      );
    }
    ratios.push(
      `${operation}: full / incremental **${fmt(fullMedian / incMedian)}×**; incremental / touched keys' size (${fmt(touched)} bytes as \`[key, state]\` JSON) **${fmt(incMedian / touched)}×** (target: within 2×, ${incMedian <= 2 * touched ? '**met**' : '**not met**'}).`,
    );
  }
  lines.push('', ...ratios.map((r) => `- ${r}`), '');
}

async function main(): Promise<void> {
  const started = Date.now();
  if (process.env.STATE_BENCH !== 'bytes') await windowsAndStateSection();
  const lines: string[] = [];
  await stateBytesSection(lines);
  lines.push(`The state benchmark took ${Math.round((Date.now() - started) / 1000)} s.`);
  await writeSection('state-bytes', lines.join('\n').trim());
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Sections 1 and 2, on the logical clock with worker threads. */
async function windowsAndStateSection(): Promise<void> {
  const lines: string[] = [];
  lines.push('## Windows and state (issue 3)', '');
  lines.push(
    `Run by \`npm run bench\` (\`bench/stateBench.ts\`) on ${new Date().toISOString()}: ${cpus()[0]?.model ?? 'unknown CPU'}, ${workers} cores, Node ${process.version}, load average before ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')}. Logical clock (batches back to back), ${workers} worker threads.`,
    '',
  );

  // 1. Sliding window: incremental against recomputed, measured once the window is full.
  const windowBatches = WINDOW_MS / 1000 + 10;
  const incremental = await run('slidingIncremental', windowBatches);
  const recomputed = await run('slidingRecomputed', windowBatches);
  const full = (infos: BatchInfo[]) => infos.slice(WINDOW_MS / 1000).map((i) => i.processingTimeMs);
  const inc = median(full(incremental));
  const rec = median(full(recomputed));
  lines.push(
    `### Sliding hashtag count: ${WINDOW_MS / 1000} s window, 1 s slide, ${fmt(TWEETS_PER_SEC)} tweets/s`,
    '',
    `Processing time per batch once the window is full (median of batches ${WINDOW_MS / 1000 + 1}–${windowBatches}):`,
    '',
    '| Variant | Median processing per batch (ms) | Batches measured (ms) |',
    '|---|---|---|',
    `| incremental (\`reduceByKeyAndWindow(add, subtract, …)\`) | ${fmt(inc)} | ${full(incremental).join(', ')} |`,
    `| recomputed (\`reduceByKeyAndWindow(add, …)\`) | ${fmt(rec)} | ${full(recomputed).join(', ')} |`,
    '',
    `Recomputed / incremental: **${fmt(rec / inc)}×**. The incremental form reads the previous window, the batch that left and the batch that entered; the recomputed form reads all ${WINDOW_MS / 1000} batches of the window every second.`,
    '',
  );

  // 2. updateStateByKey against mapWithState.
  const stateBatches = 12;
  const update = await run('stateUpdateStateByKey', stateBatches);
  const mapped = await run('stateMapWithState', stateBatches);
  const steady = (infos: BatchInfo[]) => infos.slice(2).map((i) => i.processingTimeMs);
  const u = median(steady(update));
  const m = median(steady(mapped));
  lines.push(
    `### updateStateByKey against mapWithState: ${fmt(STATE_KEYS)} keys, ${fmt(TOUCHED_PER_BATCH)} touched per batch (1%)`,
    '',
    `Batch 1 brings every key; batches 3–${stateBatches} each touch 1% of them. Checkpoints are off for this measurement (interval longer than the run), so both keep state in worker memory.`,
    '',
    '| Operation | Batch 1 (ms) | Median processing per batch, batches 3–12 (ms) | Batches measured (ms) |',
    '|---|---|---|---|',
    `| updateStateByKey | ${update[0]!.processingTimeMs} | ${fmt(u)} | ${steady(update).join(', ')} |`,
    `| mapWithState | ${mapped[0]!.processingTimeMs} | ${fmt(m)} | ${steady(mapped).join(', ')} |`,
    '',
    `updateStateByKey / mapWithState: **${fmt(u / m)}×** (target: at least 5×, ${u / m >= 5 ? '**met**' : '**not met**'}).`,
    '',
  );
  await writeSection('state-windows', lines.join('\n').trim());
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
