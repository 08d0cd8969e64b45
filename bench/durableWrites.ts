/**
 * What syncing the local store costs (`LocalRunOptions.fsync`): the same jobs with fsync on and off, side by
 * side in one run, the two settings alternating round by round so that a burst of load from other processes
 * falls on both. `node --import tsx bench/durableWrites.ts` rewrites its section of bench/RESULTS.md (between the
 * `bench:durable-writes` markers); how it measures is written there, above the markers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalFolderStore } from '../lib/storage/LocalFolderStore';
import { table, writeSection } from './resultsFile';
import { runTrial } from './runTrial';
import { median } from './stats';

/** The workloads: an existing benchmark job each, at a rate that keeps a batch well inside its interval. */
const WORKLOADS = [
  { name: 'WordCount, 100,000 lines/s', exportName: 'wordCount.100000.2', batches: 8 },
  {
    name: 'Word counts in state, 32 partitions, checkpointed every batch',
    exportName: 'stateBlocks.50000.2',
    batches: 8,
  },
  { name: 'Empty batches', exportName: 'empty', batches: 40 },
] as const;
const ROUNDS = Number(process.env.DURABLE_ROUNDS ?? 5);
const workers = Math.min(2, availableParallelism());

/** State blocks of one checkpoint written at once into their dataset's folder, as a batch's tasks write them. */
const BLOCKS_AT_ONCE = 32;
const BLOCK_BYTES = 4096;
const BLOCK_ROUNDS = 20;

/** Milliseconds per block to write `BLOCK_ROUNDS` checkpoints of `BLOCKS_AT_ONCE` 4 KiB state blocks each. */
async function timeBlockWrites(fsync: boolean): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-durable-bench-'));
  try {
    const store = new LocalFolderStore(dir, { fsync });
    const bytes = Buffer.alloc(BLOCK_BYTES, 'x');
    const started = performance.now();
    for (let round = 0; round < BLOCK_ROUNDS; round++) {
      const folder = `persist/n3@${(round + 1) * 1000}`;
      await Promise.all(Array.from({ length: BLOCKS_AT_ONCE }, (_, p) => store.put(`${folder}/${p}`, bytes)));
    }
    return (performance.now() - started) / (BLOCK_ROUNDS * BLOCKS_AT_ONCE);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Figures {
  readonly processingMs: number[];
  readonly totalMs: number[];
}

async function main(): Promise<void> {
  const started = new Date();
  const loadBefore = loadavg();
  const results = new Map<string, { on: Figures; off: Figures }>();
  for (const workload of WORKLOADS) {
    const figures = { on: { processingMs: [], totalMs: [] }, off: { processingMs: [], totalMs: [] } } as {
      on: Figures;
      off: Figures;
    };
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which setting goes first, so neither always runs on a warmer disk cache.
      const order = round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
      for (const setting of order) {
        const trial = await runTrial({
          exportName: workload.exportName,
          clock: 'logical',
          batches: workload.batches,
          workers,
          fsync: setting === 'on',
        });
        if (trial.error) throw new Error(`${workload.name} failed with fsync ${setting}: ${trial.error}`);
        // The first batch loads the job in every thread: left out, as in the other benchmarks.
        const batches = trial.batches.slice(1);
        figures[setting].processingMs.push(median(batches.map((b) => b.processingTimeMs)));
        figures[setting].totalMs.push(median(batches.map((b) => b.totalDelayMs)));
      }
      process.stderr.write(`${workload.name}: round ${round + 1} of ${ROUNDS}\n`);
    }
    results.set(workload.name, figures);
  }
  const blocks = { on: [] as number[], off: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const setting of round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const))
      blocks[setting].push(await timeBlockWrites(setting === 'on'));
  }
  const loadAfter = loadavg();
  const ms = (xs: number[]) => median(xs).toFixed(1);
  const ratio = (on: number[], off: number[]) => `×${(median(on) / Math.max(median(off), 0.5)).toFixed(2)}`;
  const rows = [...results].map(([name, { on, off }]) => [
    name,
    ms(off.processingMs),
    ms(on.processingMs),
    ratio(on.processingMs, off.processingMs),
    ms(off.totalMs),
    ms(on.totalMs),
    ratio(on.totalMs, off.totalMs),
    `${on.totalMs.join(', ')} / ${off.totalMs.join(', ')}`,
  ]);
  const perBlock = (xs: number[]) => median(xs).toFixed(3);
  rows.push([
    `LocalFolderStore.put alone: ${BLOCKS_AT_ONCE} state blocks of 4 KiB at once, per block`,
    perBlock(blocks.off),
    perBlock(blocks.on),
    `×${(median(blocks.on) / median(blocks.off)).toFixed(2)}`,
    '',
    '',
    '',
    `${blocks.on.map((x) => x.toFixed(3)).join(', ')} / ${blocks.off.map((x) => x.toFixed(3)).join(', ')}`,
  ]);
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  await writeSection(
    'durable-writes',
    [
      `Run ${started.toISOString()}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ` +
        `Node ${process.version}, ${workers} worker threads, ${ROUNDS} rounds; load average (1/5/15 min) ` +
        `${load(loadBefore)} before, ${load(loadAfter)} after.`,
      '',
      ...table(
        [
          'Workload',
          'Processing, fsync off (ms)',
          'fsync on (ms)',
          'on / off',
          'Total delay, fsync off (ms)',
          'fsync on (ms)',
          'on / off',
          'Total delay per round, on / off (ms)',
        ],
        rows,
      ),
    ].join('\n'),
  );
}

await main();
