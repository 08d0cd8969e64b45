/**
 * What a `foreachRDD` output costs the driver beside a built-in output, side by side: the same Grep over the same
 * generated lines, its filter a JSONata `expr` (which makes promises per record, so it shows what a promise hook
 * costs), all tasks in the driver's thread (`workers: 0`), the batch's matches counted either by a built-in output
 * (`count`, `collectBatches`) or by a `foreachRDD` function that runs `count()` on the dataset it is handed. Until
 * 2026-11-30 a foreachRDD ran its function in an `AsyncLocalStorage`, which turns on Node 20's promise hook for
 * every promise of the thread, for good. Rounds alternate the order; reported: the median processing time of a
 * batch (the first, JIT warm-up, left out) and the foreachRDD's over the built-in's.
 *
 * Usage: `node --import tsx bench/foreachRddCost.ts [linesPerBatch=40000] [batches=6] [rounds=3]`; it rewrites its
 * section of `bench/RESULTS.md`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBatches } from '../lib/local/LocalRuntime';
import { alternatingRounds } from './alternatingRounds';
import { GREP_WORD } from './jobs';
import { table, writeSection } from './resultsFile';
import { median } from './stats';

const options = new Map(process.argv.slice(2).map((a) => a.split('=', 2) as [string, string]));
const linesPerBatch = Number(options.get('linesPerBatch') ?? 40_000);
const batches = Number(options.get('batches') ?? 6);
const rounds = Number(options.get('rounds') ?? 3);

/** Where the foreachRDD function leaves its counts: it runs in this process, and a JSON job has no other sink. */
const COUNTS_KEY = '__sluiceForeachRddBenchCounts';
const globals = globalThis as unknown as Record<string, number[]>;

const SIDES = ['built-in output', 'foreachRDD'] as const;
type Side = (typeof SIDES)[number];

interface Run {
  readonly processingMs: number;
  readonly matches: number;
}

async function runOnce(side: Side): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-foreach-bench-'));
  try {
    await writeFile(
      join(dir, 'functions.mjs'),
      `export const countMatches = async (ds) => { globalThis.${COUNTS_KEY}.push(await ds.count()); };\n`,
    );
    globals[COUNTS_KEY] = [];
    const filter = { op: 'filter', expr: `$contains($, "${GREP_WORD}")` };
    const document = {
      name: 'foreach-bench',
      batchIntervalMs: 1000,
      functions: 'functions.mjs',
      sources: { lines: { type: 'generator', kind: 'lines', ratePerSec: linesPerBatch, partitions: 1 } },
      streams:
        side === 'foreachRDD'
          ? { matches: { from: 'lines', ops: [filter] } }
          : { matches: { from: 'lines', ops: [filter, { op: 'count' }] } },
      outputs: [
        side === 'foreachRDD'
          ? { stream: 'matches', type: 'foreachRDD', fn: 'countMatches' }
          : { stream: 'matches', type: 'collectBatches' },
      ],
    };
    const result = await runBatches({ kind: 'document', document, baseDir: dir }, batches, {
      workers: 0,
      storeDir: join(dir, 'store'),
      outputDir: join(dir, 'out'),
    });
    if (result.error) throw result.error;
    const counts =
      side === 'foreachRDD' ? globals[COUNTS_KEY] : result.recordsOf('matches').map((b) => b[0] as number);
    return {
      processingMs: median(result.batches.slice(1).map((b) => b.processingTimeMs)),
      matches: counts.reduce((a, b) => a + b, 0),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const { runs, loadBefore, loadAfter } = await alternatingRounds(SIDES, rounds, runOnce);

const matchCounts = new Set(SIDES.flatMap((side) => runs.get(side)!.map((run) => run.matches)));
if (matchCounts.size !== 1)
  throw new Error(`the sides counted different matches: ${[...matchCounts].join(', ')}`);
const medianMs = (side: Side) => median(runs.get(side)!.map((run) => run.processingMs));
const builtInMs = medianMs('built-in output');
const rows = SIDES.map((side) => [
  side,
  runs
    .get(side)!
    .map((run) => run.processingMs)
    .join(' / '),
  medianMs(side),
  Math.round((linesPerBatch / medianMs(side)) * 1000).toLocaleString('en-US'),
  (medianMs(side) / builtInMs).toFixed(2),
]);
const body = [
  '### What a foreachRDD output costs the driver (`bench/foreachRddCost.ts`)',
  '',
  `- Date: ${new Date().toISOString()}; CPU: ${cpus()[0]?.model ?? 'unknown'}; Node ${process.version}; every task in the driver's thread (workers: 0)`,
  `- Load average (1/5/15 min) before: ${loadBefore}; after: ${loadAfter}`,
  `- ${linesPerBatch.toLocaleString('en-US')} generated 100-byte lines a batch through a JSONata \`expr\` filter, ${batches} batches a run (the first left out), ${rounds} rounds; both sides counted the same ${[...matchCounts][0]} matches`,
  '',
  ...table(
    [
      'Output',
      'Processing per batch, each round (ms)',
      'Median (ms)',
      'Lines/s of processing',
      '× the built-in',
    ],
    rows,
  ),
  '',
].join('\n');
console.log(body);
await writeSection('foreach-rdd-cost', body);
