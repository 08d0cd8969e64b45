import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BothModes, startBothModes } from '../helpers/bothModes';

/**
 * A `foreachRDD` body's own functions (a `map` made in the body) exist only in the driver, so the stages that run
 * them run there, in both modes: on AWS in the coordinator. When such a stage reads the batch's input (the stream
 * is read by no other output, and not persisted), the coordinator reads the input itself, as local mode's driver
 * does, and hands the read's report (how many lines the batch's objects held) to the next plan, as a worker's
 * answer does.
 */

const input = [
  ['apple', 'avocado', 'banana'],
  ['cherry', 'apricot', 'blueberry', 'cranberry'],
];
const BATCHES = input.length;
const functionsFile = new URL('fixtures/bodyJob/bodyFunctions.ts', import.meta.url).pathname;

const document = (name: string, source: Record<string, unknown>) => ({
  name,
  batchIntervalMs: 1000,
  functions: 'bodyFunctions.ts',
  sources: { lines: source },
  outputs: [{ stream: 'lines', type: 'foreachRDD', fn: 'shoutInBody' }],
});

let both: BothModes;

beforeAll(async () => {
  both = await startBothModes({ file: functionsFile, input, document });
}, 180_000);

afterAll(async () => {
  await both?.stop();
});

describe("a foreachRDD body's own functions over the batch's input", () => {
  it('run on AWS as locally, the coordinator reading the input and counting its records', async () => {
    // given the job run locally
    const local = await both.runLocally();
    expect(local.result.error).toBeUndefined();
    // when the coordinator runs it
    const lambda = await both.runServerless();

    // then the body's actions saw the same records in both modes
    for (let k = 1; k <= BATCHES; k++) {
      const seen = await readFile(join(local.seen, `${k * 1000}.txt`), 'utf8');
      if (k === 1) expect(seen).toBe('collect: APPLE! AVOCADO! BANANA!\nbyLetter: [["A",2],["B",1]]\n');
      expect(await readFile(join(lambda.seen, `${k * 1000}.txt`), 'utf8')).toBe(seen);
    }
    // and each batch counted the records its input held, from the report of the read in the coordinator
    const status = await both.serverless.invoke('coordinator', {
      action: 'status',
      job: both.job,
      last: BATCHES,
    });
    expect(status.batches.map((b: { records: number }) => b.records)).toEqual(input.map((l) => l.length));
  }, 240_000);
});
