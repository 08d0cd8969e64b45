/**
 * The window and state benchmark (issue 3), run by `npm run bench` after the local-mode benchmark: it appends
 * its sections to bench/RESULTS.md.
 *  1. The sliding hashtag count (60 s window, 1 s slide), incremental against recomputed: time per batch.
 *  2. updateStateByKey against mapWithState, 1M keys in state, 1% touched per batch: time per batch.
 * Both run on the logical clock (batches back to back), with worker threads, side by side in one run.
 */
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRuntime } from '../lib/local/LocalRuntime';
import type { BatchInfo } from '../lib/scheduler/StreamingListener';
import { STATE_KEYS, TOUCHED_PER_BATCH, TWEETS_PER_SEC, WINDOW_MS } from './stateJobs';

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

async function main(): Promise<void> {
  const lines: string[] = [];
  const started = Date.now();
  lines.push('', '## Windows and state (issue 3)', '');
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
    `The state benchmark took ${Math.round((Date.now() - started) / 1000)} s.`,
  );
  const text = `${lines.join('\n')}\n`;
  await appendFile(new URL('./RESULTS.md', import.meta.url), text);
  process.stdout.write(text);
}

await main();
