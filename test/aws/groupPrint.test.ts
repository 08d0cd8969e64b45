import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BothModes, startBothModes } from '../helpers/bothModes';

/**
 * A job document's groups print as Spark's CompactBuffer in both modes: the coordinator builds the same streams
 * from the document and prints on the driver, as local mode does.
 */

const input = [['a,1', 'b,2', 'b,3', 'c,4', 'c,5', 'c,6']];

const document = (name: string, source: Record<string, unknown>) => ({
  name,
  batchIntervalMs: 1000,
  functions: 'shuffleFunctions.ts',
  sources: { lines: source },
  streams: {
    groups: {
      from: 'lines',
      ops: [
        { op: 'map', fn: 'toPair' },
        { op: 'groupByKey', partitions: 1 },
      ],
    },
  },
  outputs: [{ stream: 'groups', type: 'print' }],
});

let both: BothModes;

beforeAll(async () => {
  both = await startBothModes({
    file: new URL('fixtures/nonFiniteShuffle/shuffleFunctions.ts', import.meta.url).pathname,
    input,
    document,
  });
}, 180_000);

afterAll(async () => {
  await both?.stop();
});

describe("a job document's groups", () => {
  it("print as Spark's CompactBuffer, locally and on Lambda", async () => {
    // given local mode's run of a groupByKey printed
    const local = await both.runLocally();
    expect(local.result.error).toBeUndefined();
    // when the coordinator runs it
    await both.runServerless();

    // then each group printed as a CompactBuffer, values in the order of the batch's two partitions
    const lines = local.printed.split('\n').filter((line) => line.startsWith('('));
    expect(lines.sort()).toEqual([
      '(a,CompactBuffer(1))',
      '(b,CompactBuffer(2, 3))',
      '(c,CompactBuffer(4, 5, 6))',
    ]);
    // and the Lambda run printed the same batch
    expect(both.printedOnlyLocally(local.printed)).toEqual([]);
  }, 240_000);
});
