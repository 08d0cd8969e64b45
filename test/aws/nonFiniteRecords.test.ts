import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BothModes, startBothModes } from '../helpers/bothModes';
import { INPUT as MODULE_INPUT } from './fixtures/nonFiniteJob/nonFiniteJob';

/**
 * Records holding Infinity, -Infinity and NaN (as a division or an overflow in a function of the user's makes
 * them) give the driver the same on Lambda as locally, though a Lambda worker's task result travels as JSON, which
 * writes them as null: `print` shows `(a,Infinity)` in both modes, the actions of a `foreachRDD` (`take`, `first`,
 * `collect`, `top`) see the same records, and `jsonl`, which JSON writes, has null in both.
 *
 * Every action takes the whole batch, whose order both modes' splits into partitions keep.
 */

const input = [
  ['a,Infinity', 'b,-Infinity', 'c,NaN', 'd,1'],
  ['Infinity', 'e,2', 'NaN', 'f,Infinity'],
];
const BATCHES = input.length;
const functionsFile = new URL('fixtures/nonFiniteJob/nonFiniteFunctions.ts', import.meta.url).pathname;
const moduleFile = new URL('fixtures/nonFiniteJob/nonFiniteJob.ts', import.meta.url).pathname;

const document = (name: string, source: Record<string, unknown>) => ({
  name,
  batchIntervalMs: 1000,
  functions: 'nonFiniteFunctions.ts',
  sources: { lines: source },
  streams: { records: { from: 'lines', ops: [{ op: 'map', fn: 'toRecord' }] } },
  outputs: [
    { stream: 'records', type: 'print' },
    { stream: 'records', type: 'foreachRDD', fn: 'reportActions' },
    { stream: 'records', type: 'jsonl', path: 'records' },
  ],
});

let both: BothModes;
/** The TypeScript job, whose parallelize records travel in the plan. */
let typescript: BothModes;

beforeAll(async () => {
  both = await startBothModes({ file: functionsFile, input, document });
  typescript = await startBothModes({ file: moduleFile, input: MODULE_INPUT });
}, 180_000);

afterAll(async () => {
  await both?.stop();
  await typescript?.stop();
});

describe('records with numbers JSON cannot write', () => {
  it('reach the driver as they do locally: print, take, first, collect and top agree, and jsonl writes null in both', async () => {
    // given local mode's run of the job
    const local = await both.runLocally();
    expect(local.result.error).toBeUndefined();
    // when the coordinator runs it, its tasks on the worker function
    const lambda = await both.runServerless();

    // then print showed the same batches, Infinity and NaN by name
    expect(local.printed).toContain('(a,Infinity)\n(b,-Infinity)\n(c,NaN)\n(d,1)');
    expect(both.printedOnlyLocally(local.printed)).toEqual([]);
    // and the foreachRDD's actions saw the same records in both modes
    for (let k = 1; k <= BATCHES; k++) {
      const seen = await readFile(join(local.seen, `${k * 1000}.txt`), 'utf8');
      expect(seen).toContain('Infinity');
      expect(await readFile(join(lambda.seen, `${k * 1000}.txt`), 'utf8')).toBe(seen);
    }
    // and jsonl wrote null for each, as JSON does, in both modes
    const localLines = (await readFile(join(local.outputDir, 'records'), 'utf8')).split('\n').filter(Boolean);
    expect(localLines).toHaveLength(BATCHES);
    for (const line of localLines) {
      const { batchTime, records } = JSON.parse(line);
      const written = JSON.parse(await both.serverless.text(`outputs/records/${batchTime}.json`));
      expect(written.records).toEqual(records);
    }
    expect(JSON.parse(localLines[0]!).records).toEqual([
      ['a', null],
      ['b', null],
      ['c', null],
      ['d', 1],
    ]);
  }, 240_000);

  it('made by parallelize travel in the plan as they are: a static table, and datasets a transform and a foreachRDD make', async () => {
    // given the TypeScript job run locally
    const local = await typescript.runLocally();
    expect(local.result.error).toBeUndefined();
    // when the coordinator runs it
    const lambda = await typescript.runServerless();

    // then print showed the unions' Infinity and NaN in both modes
    expect(local.printed).toContain('(w,-Infinity)');
    expect(local.printed).toContain('(z,Infinity)\n(y,NaN)');
    expect(typescript.printedOnlyLocally(local.printed)).toEqual([]);
    // and the foreachRDD's dataset held them too
    for (let k = 1; k <= MODULE_INPUT.length; k++) {
      const seen = await readFile(join(local.seen, `${k * 1000}.txt`), 'utf8');
      expect(seen).toBe('parallelize: 1 Infinity NaN\n');
      expect(await readFile(join(lambda.seen, `${k * 1000}.txt`), 'utf8')).toBe(seen);
    }
  }, 240_000);
});
