/**
 * What a record function costs, side by side: the same Grep filter over the same generated lines, written three
 * ways a JSON job can write it: the built-in `contains`, an inline JSONata `expr` (`$contains($, "water")`), and
 * a function of the job's own `functions` module. Each runs on the logical clock in local mode with one worker
 * thread per core; the rounds alternate the order so that a burst of load from other processes does not land on
 * one side only. Reported: the median processing time of a batch (the first batch, which pays for JIT warm-up,
 * left out), records a second of processing, and each side's cost per record over the built-in's.
 *
 * Usage: `node --import tsx bench/expressionCost.ts [linesPerBatch=200000] [batches=6] [rounds=3]`; it rewrites
 * its section of `bench/RESULTS.md`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBatches } from '../lib/local/LocalRuntime';
import { alternatingRounds } from './alternatingRounds';
import { GREP_WORD } from './jobs';
import { table, writeSection } from './resultsFile';
import { median } from './stats';

const options = new Map(process.argv.slice(2).map((a) => a.split('=', 2) as [string, string]));
const linesPerBatch = Number(options.get('linesPerBatch') ?? 200_000);
const batches = Number(options.get('batches') ?? 6);
const rounds = Number(options.get('rounds') ?? 3);
const workers = availableParallelism();

/** The three ways of writing the filter, as the op of a JSON job. */
const SIDES = {
  'built-in `contains`': { op: 'filter', fn: 'contains', args: { word: GREP_WORD } },
  'JSONata `expr`': { op: 'filter', expr: `$contains($, "${GREP_WORD}")` },
  '`functions` module': { op: 'filter', fn: 'hasWord' },
} as const;
type Side = keyof typeof SIDES;

interface Run {
  readonly processingMs: number;
  readonly matches: number;
}

async function runOnce(side: Side): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-expr-bench-'));
  try {
    await writeFile(
      join(dir, 'functions.mjs'),
      `export const hasWord = (line) => line.includes(${JSON.stringify(GREP_WORD)});\n`,
    );
    const document = {
      name: 'expression-bench',
      batchIntervalMs: 1000,
      functions: 'functions.mjs',
      sources: {
        lines: { type: 'generator', kind: 'lines', ratePerSec: linesPerBatch, partitions: workers },
      },
      streams: { matches: { from: 'lines', ops: [SIDES[side], { op: 'count' }] } },
      outputs: [{ stream: 'matches', type: 'collectBatches' }],
    };
    const result = await runBatches({ kind: 'document', document, baseDir: dir }, batches, {
      workers,
      storeDir: join(dir, 'store'),
      outputDir: join(dir, 'out'),
    });
    if (result.error) throw result.error;
    const measured = result.batches.slice(1);
    return {
      processingMs: median(measured.map((b) => b.processingTimeMs)),
      matches: result
        .recordsOf('matches')
        .flat()
        .reduce((a: number, b) => a + (b as number), 0),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const sides = Object.keys(SIDES) as Side[];
const { runs, loadBefore, loadAfter } = await alternatingRounds(sides, rounds, runOnce);

const matchCounts = new Set(sides.flatMap((side) => runs.get(side)!.map((run) => run.matches)));
if (matchCounts.size !== 1)
  throw new Error(`the sides counted different matches: ${[...matchCounts].join(', ')}`);
const medianMs = (side: Side) => median(runs.get(side)!.map((run) => run.processingMs));
const builtInMs = medianMs(sides[0]!);
const rows = sides.map((side) => {
  const ms = medianMs(side);
  const perRecordUs = (ms * 1000 * workers) / linesPerBatch;
  return [
    side,
    runs
      .get(side)!
      .map((run) => run.processingMs)
      .join(' / '),
    ms,
    Math.round((linesPerBatch / ms) * 1000).toLocaleString('en-US'),
    perRecordUs.toFixed(2),
    (ms / builtInMs).toFixed(1),
  ];
});
const body = [
  '### What a record function costs (`bench/expressionCost.ts`)',
  '',
  `- Date: ${new Date().toISOString()}; CPU: ${cpus()[0]?.model ?? 'unknown'}, ${workers} cores, ${workers} worker threads; Node ${process.version}`,
  `- Load average (1/5/15 min) before: ${loadBefore}; after: ${loadAfter}`,
  `- ${linesPerBatch.toLocaleString('en-US')} generated 100-byte lines a batch, ${batches} batches a run (the first left out), ${rounds} rounds; every side counted the same ${[...matchCounts][0]} matches`,
  '',
  ...table(
    [
      'Filter written as',
      'Processing per batch, each round (ms)',
      'Median (ms)',
      'Lines/s of processing',
      'Thread time per line (µs)',
      '× the built-in',
    ],
    rows,
  ),
  '',
].join('\n');
console.log(body);
await writeSection('expression-cost', body);
