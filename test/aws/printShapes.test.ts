import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BothModes, startBothModes } from '../helpers/bothModes';

/**
 * A job document's groups and outer joins print as Spark's toString writes them, `CompactBuffer(…)`, `Some(…)` and
 * `None`, in both modes: the coordinator builds the same streams from the document and prints on the driver, as
 * local mode does, and the worker Lambda writes each part file of saveAsTextFiles with the stream's shape, which
 * its task's action carries.
 */

/** Lines `key,value` to group, then lines `side,key,value` of a join's left (`L`) or right (`R`) side. */
const input = [['a,1', 'b,2', 'b,3', 'c,4', 'c,5', 'c,6', 'L,a,1', 'L,b,3', 'R,a,2', 'R,a,5', 'R,c,4']];

/** The lines of `side` as the pairs `[key, value]`. */
const sideOps = (side: string) => [
  { op: 'filter', expr: `$substringBefore($, ",") = "${side}"` },
  { op: 'map', expr: '[$split($, ",")[1], $number($split($, ",")[2])]' },
];

const document = (name: string, source: Record<string, unknown>) => ({
  name,
  batchIntervalMs: 1000,
  functions: 'shuffleFunctions.ts',
  sources: { lines: source },
  streams: {
    groups: {
      from: 'lines',
      ops: [
        { op: 'filter', expr: '$count($split($, ",")) = 2' },
        { op: 'map', fn: 'toPair' },
        { op: 'groupByKey', partitions: 1 },
      ],
    },
    left: { from: 'lines', ops: sideOps('L') },
    right: { from: 'lines', ops: sideOps('R') },
    rightGroups: { from: 'right', ops: [{ op: 'groupByKey', partitions: 1 }] },
    full: { from: 'left', ops: [{ op: 'fullOuterJoin', with: 'right', partitions: 1 }] },
    leftOfGroups: {
      from: 'left',
      ops: [
        { op: 'groupByKey', partitions: 1 },
        { op: 'leftOuterJoin', with: 'rightGroups', partitions: 1 },
      ],
    },
  },
  outputs: [
    { stream: 'groups', type: 'print' },
    { stream: 'full', type: 'print' },
    { stream: 'leftOfGroups', type: 'print' },
    { stream: 'full', type: 'saveAsTextFiles', prefix: 'joins/full' },
    { stream: 'leftOfGroups', type: 'saveAsTextFiles', prefix: 'joins/leftOfGroups' },
  ],
});

const expectedFull = [
  '(a,(Some(1),Some(2)))',
  '(a,(Some(1),Some(5)))',
  '(b,(Some(3),None))',
  '(c,(None,Some(4)))',
];
const expectedLeftOfGroups = [
  '(a,(CompactBuffer(1),Some(CompactBuffer(2, 5))))',
  '(b,(CompactBuffer(3),None))',
];

let both: BothModes;
let local: Awaited<ReturnType<BothModes['runLocally']>>;

beforeAll(async () => {
  both = await startBothModes({
    file: new URL('fixtures/nonFiniteShuffle/shuffleFunctions.ts', import.meta.url).pathname,
    input,
    document,
  });
  // given local mode's run of a groupByKey, a full outer join and a left outer join of groups, printed and saved
  local = await both.runLocally();
  // when the coordinator runs it
  await both.runServerless();
}, 300_000);

afterAll(async () => {
  await both?.stop();
});

describe("a job document's groups and outer joins", () => {
  it("print as Spark's CompactBuffer, Some and None, locally and on Lambda", () => {
    expect(local.result.error).toBeUndefined();
    // then each group printed as a CompactBuffer, values in the order of the batch's two partitions, and each join
    // as Spark's toString of its tuple of Options (of CompactBuffers)
    const blocks = local.printed.split('\n\n').map((block) => block.split('\n').slice(3).sort());
    expect(blocks.slice(0, 3)).toEqual([
      ['(a,CompactBuffer(1))', '(b,CompactBuffer(2, 3))', '(c,CompactBuffer(4, 5, 6))'],
      expectedFull,
      expectedLeftOfGroups,
    ]);
    // and the Lambda run printed the same batch
    expect(both.printedOnlyLocally(local.printed)).toEqual([]);
  });

  it('save the same lines with saveAsTextFiles, locally and from the worker Lambda', async () => {
    // then each part file holds the records as print shows them, in both modes
    const lines = (text: string) => text.split('\n').filter(Boolean).sort();
    for (const [folder, expected] of [
      ['joins/full-1000', expectedFull],
      ['joins/leftOfGroups-1000', expectedLeftOfGroups],
    ] as const) {
      expect(lines(await readFile(join(local.outputDir, folder, 'part-00000'), 'utf8'))).toEqual(expected);
      expect(lines(await both.serverless.text(`outputs/${folder}/part-00000`))).toEqual(expected);
    }
  });
});
