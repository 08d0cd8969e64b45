import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BothModes, startBothModes } from '../helpers/bothModes';

/**
 * A shuffle keeps Infinity, -Infinity and NaN, as Spark's does, though its blocks are JSON, which writes them as
 * null: as values (a sum with an Infinity is Infinity) and as keys, which stay apart from each other and from null,
 * in a pair key too. Locally and on Lambda alike; the batch is split over two map tasks, so the values of a key
 * cross the shuffle from both, through stored blocks that the combining shuffle merges.
 */

const input = [
  [
    'a,Infinity',
    'a,1',
    'b,-Infinity',
    'b,2',
    'Infinity,1',
    '-Infinity,2',
    'NaN,3',
    'null,4',
    'x|Infinity,5',
    'x|null,6',
    'NaN,30',
    'Infinity,10',
  ],
];

const document = (name: string, source: Record<string, unknown>) => ({
  name,
  batchIntervalMs: 1000,
  // Every map output through the store and merged (ShuffleMerger splices its blocks), not inline in the statuses.
  shuffle: { inlineMaxBytes: 0, combine: 'always' },
  functions: 'shuffleFunctions.ts',
  sources: { lines: source },
  streams: {
    sums: {
      from: 'lines',
      ops: [
        { op: 'map', fn: 'toPair' },
        { op: 'reduceByKey', fn: 'add', partitions: 2 },
      ],
    },
  },
  outputs: [{ stream: 'sums', type: 'print', num: 20 }],
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

describe('a shuffle of numbers JSON cannot write', () => {
  it('keeps them as values and as distinct keys, locally and on Lambda', async () => {
    // given local mode's run of a reduceByKey over keys and values that hold Infinity and NaN
    const local = await both.runLocally();
    expect(local.result.error).toBeUndefined();
    // when the coordinator runs it, its tasks on the worker function
    await both.runServerless();

    // then each key kept its own sum, its Infinity or NaN by name
    const lines = local.printed.split('\n').filter((line) => line.startsWith('('));
    expect(lines.sort()).toEqual(
      [
        '(a,Infinity)',
        '(b,-Infinity)',
        '(Infinity,11)',
        '(-Infinity,2)',
        '(NaN,33)',
        '(null,4)',
        '((x,Infinity),5)',
        '((x,null),6)',
      ].sort(),
    );
    // and the Lambda run printed the same batch
    expect(both.printedOnlyLocally(local.printed)).toEqual([]);
  }, 240_000);
});
