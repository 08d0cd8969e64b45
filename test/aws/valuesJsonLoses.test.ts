import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';
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

const functionsFile = new URL('fixtures/jsonLosesValues/valueFunctions.ts', import.meta.url).pathname;
let both: BothModes;
/** A job whose record holds a function, which neither a worker thread nor a Lambda worker can send. */
let unsendable: BothModes;

beforeAll(async () => {
  both = await startBothModes({ file: functionsFile, input, document });
  unsendable = await startBothModes({ file: functionsFile, input: [['function']], document });
}, 180_000);

afterAll(async () => {
  await both?.stop();
  await unsendable?.stop();
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

describe('a record holding a function', () => {
  it('fails its task with the same sentence on local worker threads and on Lambda', async () => {
    // given the job run locally on worker threads, which copy a result by structured clone
    const local = await runBatches(
      {
        kind: 'document',
        document: document('threads', { type: 'queue', partitions: 2, batches: [['function']] }),
        baseDir: dirname(functionsFile),
      },
      1,
      { workers: 2 },
    );
    // when the coordinator runs it on the worker function
    const lambda = await unsendable.runServerless().then(
      () => 'ran',
      (error: Error) => error.message,
    );

    // then both fail the batch, naming why the record cannot be sent and what to do
    const sentence = (where: string) =>
      new RegExp(
        `a record of its result cannot leave the ${where} \\(.*could not be cloned\\.\\); records must be data`,
      );
    expect(local.error?.message).toMatch(sentence('worker thread'));
    expect(lambda).toMatch(sentence('Lambda worker'));
  }, 240_000);
});
