/**
 * What writing and reading a shuffle block costs, side by side, for the ways of keeping Infinity and NaN across it:
 * plain JSON (which writes them as null: the engine before 2026-12-01), `recordsToJson` (a search of the text for
 * `null`, then a walk only of blocks that hold one), and a `JSON.stringify` replacer that tags every non-finite
 * number (the usual answer, which calls a function for every value). Each side encodes the same reduce buckets of
 * `[key, value]` pairs to a string and parses them back; the rounds alternate the order of the sides
 * (`alternatingRounds`). Three kinds of block: WordCount's combined counts (no null), pairs a quarter of whose values
 * are null (the walk runs and finds nothing), and pairs with one Infinity in a thousand.
 *
 * Usage: `node --import tsx bench/shuffleEncoding.ts [records=200000] [rounds=9]`; it adds its section to
 * `bench/RESULTS.md`.
 */
import { cpus } from 'node:os';
import { recordsFromJson, recordsToJson } from '../lib/dataset/jsonNumber';
import { alternatingRounds } from './alternatingRounds';
import { appendSection, table } from './resultsFile';
import { median } from './stats';

const options = new Map(process.argv.slice(2).map((a) => a.split('=', 2) as [string, string]));
const recordCount = Number(options.get('records') ?? 200_000);
const rounds = Number(options.get('rounds') ?? 9);
/** Reduce partitions: a map task's records are split into this many blocks, as `writeShuffle` splits them. */
const BUCKETS = 8;
/** Passes over the blocks in one timing (its time is per pass), so that one timing is not a single burst of load. */
const PASSES = 4;

/** The tag of the replacer side: a non-finite number written as `{"$nf": "Infinity"}`. */
const replacer = (_key: string, value: unknown) =>
  typeof value === 'number' && !Number.isFinite(value) ? { $nf: String(value) } : value;
const reviver = (_key: string, value: unknown) =>
  typeof value === 'object' && value !== null && '$nf' in value
    ? Number((value as { $nf: string }).$nf)
    : value;

const SIDES = {
  'plain JSON (before)': {
    encode: (records: unknown[]) => JSON.stringify(records),
    decode: (text: string) => JSON.parse(text) as unknown[],
  },
  'recordsToJson (after)': { encode: recordsToJson, decode: recordsFromJson },
  'replacer + reviver': {
    encode: (records: unknown[]) => JSON.stringify(records, replacer),
    decode: (text: string) => JSON.parse(text, reviver) as unknown[],
  },
} as const;
type Side = keyof typeof SIDES;

const word = (i: number) => `w${(i * 2654435761) % 50_000}`;
const BLOCKS = {
  'WordCount counts (no null)': (i: number) => [word(i), (i % 97) + 1],
  'a quarter of the values null': (i: number) => [word(i), i % 4 === 0 ? null : i % 97],
  'one Infinity in 1,000': (i: number) => [word(i), i % 1000 === 0 ? Number.POSITIVE_INFINITY : i % 97],
} as const;
type Block = keyof typeof BLOCKS;

function bucketsOf(block: Block): unknown[][] {
  const buckets: unknown[][] = Array.from({ length: BUCKETS }, () => []);
  for (let i = 0; i < recordCount; i++) buckets[i % BUCKETS]!.push(BLOCKS[block](i));
  return buckets;
}

/** Milliseconds to encode every bucket and read it back (the result checked, so nothing is optimised away). */
function timeOnce(side: Side, buckets: unknown[][]): number {
  const { encode, decode } = SIDES[side];
  const start = performance.now();
  let read = 0;
  for (let pass = 0; pass < PASSES; pass++)
    for (const bucket of buckets) read += decode(encode(bucket)).length;
  const ms = (performance.now() - start) / PASSES;
  if (read !== recordCount * PASSES) throw new Error(`${side} read back ${read} records of ${recordCount}`);
  return ms;
}

const sides = Object.keys(SIDES) as Side[];
const rows: unknown[][] = [];
let load = '';
for (const block of Object.keys(BLOCKS) as Block[]) {
  const buckets = bucketsOf(block);
  for (const side of sides) timeOnce(side, buckets); // warm-up: JIT
  const { runs, loadBefore, loadAfter } = await alternatingRounds(sides, rounds, async (side) =>
    timeOnce(side, buckets),
  );
  load += `${block}: ${loadBefore} → ${loadAfter}; `;
  const base = median(runs.get(sides[0]!)!);
  for (const side of sides) {
    const ms = median(runs.get(side)!);
    rows.push([
      block,
      side,
      runs
        .get(side)!
        .map((t) => t.toFixed(0))
        .join(', '),
      `**${ms.toFixed(1)}**`,
      (ms / base).toFixed(2),
    ]);
  }
}

const report = [
  '',
  `## Shuffle block encoding with Infinity and NaN kept (${new Date().toISOString().slice(0, 10)})`,
  '',
  `\`node --import tsx bench/shuffleEncoding.ts records=${recordCount} rounds=${rounds}\`: ${recordCount.toLocaleString('en-US')} pairs in ${BUCKETS} blocks, encoded and read back, per side and round (the mean of ${PASSES} passes).`,
  `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}; load (1/5/15 min) ${load.trim()}`,
  '',
  ...table(['Block', 'Side', 'Rounds (ms)', 'Median (ms)', '× plain JSON'], rows),
  '',
].join('\n');
console.log(report);
if (!options.has('dry')) await appendSection(`${report}\n`);
