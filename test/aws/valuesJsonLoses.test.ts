import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BothModes, startBothModes } from '../helpers/bothModes';

/**
 * Records that hold values JSON loses (undefined, a Date, a Map, a Set, a BigInt) reach the driver's `take`, `first`
 * and `collect` as they were made, on Lambda as locally, as Spark's `collect` gives back the objects a function
 * made: a Lambda worker's answer is JSON, so it names them beside the records and the coordinator puts them back.
 */

const input = [['date', 'undefined', 'object', 'map', 'set', 'bigint', 'alone', 'plain']];

const document = (name: string, source: Record<string, unknown>) => ({
  name,
  batchIntervalMs: 1000,
  functions: 'valueFunctions.ts',
  sources: { lines: source },
  streams: { records: { from: 'lines', ops: [{ op: 'map', fn: 'toValue' }] } },
  outputs: [{ stream: 'records', type: 'foreachRDD', fn: 'reportActions' }],
});

let both: BothModes;

beforeAll(async () => {
  both = await startBothModes({
    file: new URL('fixtures/jsonLosesValues/valueFunctions.ts', import.meta.url).pathname,
    input,
    document,
  });
}, 180_000);

afterAll(async () => {
  await both?.stop();
});

describe('records with values JSON loses', () => {
  it('reach take, first and collect as they were made, on Lambda as locally', async () => {
    // given local mode's run of the job
    const local = await both.runLocally();
    expect(local.result.error).toBeUndefined();
    // when the coordinator runs it, its tasks on the worker function
    const lambda = await both.runServerless();

    // then local mode's actions saw the values themselves
    const seen = await readFile(join(local.seen, '1000.txt'), 'utf8');
    const expected =
      "[ [ 'd', 1970-01-01T00:00:00.000Z ], [ 'u', undefined ], { a: 1, gone: undefined, when: 1970-01-02T00:00:00.000Z }, " +
      "[ 'm', Map(3) { 'x' => 1970-01-01T00:00:00.001Z, 'y' => 2n, 'z' => [ NaN ] } ], Set(2) { 1, Infinity }, " +
      "[ 'b', 12345678901234567890n ], undefined, [ 'plain', 1 ] ]";
    expect(seen).toBe(`take: ${expected}\nfirst: [ 'd', 1970-01-01T00:00:00.000Z ]\ncollect: ${expected}\n`);
    // and the Lambda run's saw the same
    expect(await readFile(join(lambda.seen, '1000.txt'), 'utf8')).toBe(seen);
  }, 240_000);
});
