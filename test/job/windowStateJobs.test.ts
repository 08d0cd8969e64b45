import { describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';
import { assertBatches } from '../helpers/operatorCase';
import { pairBatches } from './fixtures/equivalentJobs';
import { fixturesDir } from './fixtures/jobs';

const tsJobsModule = new URL('./fixtures/equivalentJobs.ts', import.meta.url).pathname;

/** The JSON twin of `tsJobs.window`: every window op on a queue of pairs, one collected stream per op. */
const windowJob = {
  name: 'json-windows',
  batchIntervalMs: 1000,
  functions: './equivalentJobs.ts',
  sources: { pairs: { type: 'queue', batches: pairBatches, partitions: 2 } },
  streams: {
    win: { from: 'pairs', ops: [{ op: 'window', windowMs: 2000, slideMs: 1000 }] },
    winSlide2: { from: 'pairs', ops: [{ op: 'window', windowMs: 3000, slideMs: 2000 }] },
    countW: {
      from: 'pairs',
      ops: [{ op: 'countByWindow', windowMs: 2000, slideMs: 1000 }],
      checkpointIntervalMs: 2000,
    },
    values: { from: 'pairs', ops: [{ op: 'map', expr: '$[1]' }], persist: 'memorySer' },
    sumW: {
      from: 'values',
      ops: [{ op: 'reduceByWindow', fn: 'sum', invFn: 'subtract', windowMs: 3000, slideMs: 1000 }],
    },
    maxW: { from: 'values', ops: [{ op: 'reduceByWindow', fn: 'max', windowMs: 2000, slideMs: 1000 }] },
    keySum: {
      from: 'pairs',
      ops: [
        {
          op: 'reduceByKeyAndWindow',
          fn: 'sum',
          invFn: 'subtract',
          windowMs: 3000,
          slideMs: 1000,
          filter: 'nonZero',
        },
      ],
      checkpointIntervalMs: 3000,
    },
    keySumExpr: {
      from: 'pairs',
      ops: [
        {
          op: 'reduceByKeyAndWindow',
          fn: 'sum',
          invFn: 'subtract',
          windowMs: 3000,
          slideMs: 1000,
          partitions: 3,
          filterExpr: '$[1] != 0',
        },
      ],
    },
    keySumPlain: { from: 'pairs', ops: [{ op: 'reduceByKeyAndWindow', fn: 'sum', windowMs: 2000 }] },
    valueCounts: {
      from: 'pairs',
      ops: [
        { op: 'map', expr: '$[0]' },
        { op: 'countByValueAndWindow', windowMs: 3000, slideMs: 1000 },
      ],
    },
    groups: { from: 'pairs', ops: [{ op: 'groupByKeyAndWindow', windowMs: 2000, slideMs: 1000 }] },
  },
  outputs: [
    'win',
    'winSlide2',
    'countW',
    'sumW',
    'maxW',
    'keySum',
    'keySumExpr',
    'keySumPlain',
    'valueCounts',
    'groups',
  ].map((stream) => ({ stream, type: 'collectBatches' })),
};

/** The JSON twin of `tsJobs.state`: updateStateByKey and mapWithState with the built-in state functions. */
const stateJob = {
  name: 'json-state',
  batchIntervalMs: 1000,
  checkpointIntervalMs: 2000,
  sources: { pairs: { type: 'queue', batches: pairBatches, partitions: 2 } },
  datasets: { start: { type: 'parallelize', records: [['a', 100]] } },
  streams: {
    counts: { from: 'pairs', ops: [{ op: 'updateStateByKey', fn: 'countState', timeAware: true }] },
    sums: { from: 'pairs', ops: [{ op: 'updateStateByKey', fn: 'sumState', initialState: 'start' }] },
    running: { from: 'pairs', ops: [{ op: 'mapWithState', fn: 'runningCount', initialState: 'start' }] },
    // stateSnapshots first in a stream whose input ends with mapWithState
    snapshots: { from: 'running', ops: [{ op: 'stateSnapshots' }] },
    sessions: { from: 'pairs', ops: [{ op: 'mapWithState', fn: 'sessionCount', timeoutMs: 1000 }] },
    sessionSnapshots: {
      from: 'pairs',
      ops: [{ op: 'mapWithState', fn: 'sessionCount', timeoutMs: 1000 }, { op: 'stateSnapshots' }],
    },
  },
  outputs: ['counts', 'sums', 'running', 'snapshots', 'sessions', 'sessionSnapshots'].map((stream) => ({
    stream,
    type: 'collectBatches',
  })),
};

const session = (count: number, startMs: number, endMs: number) => ({ count, startMs, endMs });

/** The expected output batches of every output, by name (`[]` is an empty batch). */
const expectedWindows: Record<string, unknown[][]> = {
  win: [
    [
      ['a', 1],
      ['b', 2],
      ['a', 3],
    ],
    [
      ['a', 1],
      ['b', 2],
      ['a', 3],
      ['b', 1],
    ],
    [['b', 1]],
    [
      ['a', 5],
      ['c', 1],
    ],
    [
      ['a', 5],
      ['c', 1],
      ['b', 2],
    ],
    [['b', 2]],
  ],
  // outputs only every 2 s: (0, 2000], (1000, 4000], (3000, 6000]
  winSlide2: [
    [
      ['a', 1],
      ['b', 2],
      ['a', 3],
      ['b', 1],
    ],
    [
      ['b', 1],
      ['a', 5],
      ['c', 1],
    ],
    [
      ['a', 5],
      ['c', 1],
      ['b', 2],
    ],
  ],
  countW: [[3], [4], [1], [2], [3], [1]],
  sumW: [[6], [7], [7], [7], [8], [8]],
  maxW: [[3], [3], [1], [5], [5], [2]],
  keySum: [
    [
      ['a', 4],
      ['b', 2],
    ],
    [
      ['a', 4],
      ['b', 3],
    ],
    [
      ['a', 4],
      ['b', 3],
    ],
    [
      ['a', 5],
      ['b', 1],
      ['c', 1],
    ],
    [
      ['a', 5],
      ['b', 2],
      ['c', 1],
    ],
    [
      ['a', 5],
      ['b', 2],
      ['c', 1],
    ],
  ],
  keySumPlain: [
    [
      ['a', 4],
      ['b', 2],
    ],
    [
      ['a', 4],
      ['b', 3],
    ],
    [['b', 1]],
    [
      ['a', 5],
      ['c', 1],
    ],
    [
      ['a', 5],
      ['b', 2],
      ['c', 1],
    ],
    [['b', 2]],
  ],
  valueCounts: [
    [
      ['a', 2],
      ['b', 1],
    ],
    [
      ['a', 2],
      ['b', 2],
    ],
    [
      ['a', 2],
      ['b', 2],
    ],
    [
      ['a', 1],
      ['b', 1],
      ['c', 1],
    ],
    [
      ['a', 1],
      ['b', 1],
      ['c', 1],
    ],
    [
      ['a', 1],
      ['b', 1],
      ['c', 1],
    ],
  ],
  groups: [
    [
      ['a', [1, 3]],
      ['b', [2]],
    ],
    [
      ['a', [1, 3]],
      ['b', [1, 2]],
    ],
    [['b', [1]]],
    [
      ['a', [5]],
      ['c', [1]],
    ],
    [
      ['a', [5]],
      ['b', [2]],
      ['c', [1]],
    ],
    [['b', [2]]],
  ],
};
expectedWindows.keySumExpr = expectedWindows.keySum!;

const expectedState: Record<string, unknown[][]> = {
  counts: [
    [
      ['a', 2],
      ['b', 1],
    ],
    [
      ['a', 2],
      ['b', 2],
    ],
    [
      ['a', 2],
      ['b', 2],
    ],
    [
      ['a', 3],
      ['b', 2],
      ['c', 1],
    ],
    [
      ['a', 3],
      ['b', 3],
      ['c', 1],
    ],
    [
      ['a', 3],
      ['b', 3],
      ['c', 1],
    ],
  ],
  sums: [
    [
      ['a', 104],
      ['b', 2],
    ],
    [
      ['a', 104],
      ['b', 3],
    ],
    [
      ['a', 104],
      ['b', 3],
    ],
    [
      ['a', 109],
      ['b', 3],
      ['c', 1],
    ],
    [
      ['a', 109],
      ['b', 5],
      ['c', 1],
    ],
    [
      ['a', 109],
      ['b', 5],
      ['c', 1],
    ],
  ],
  // one record per input record: the key's count so far, a starting at 100
  running: [
    [
      ['a', 101],
      ['a', 102],
      ['b', 1],
    ],
    [['b', 2]],
    [],
    [
      ['a', 103],
      ['c', 1],
    ],
    [['b', 3]],
    [],
  ],
  snapshots: [
    [
      ['a', 102],
      ['b', 1],
    ],
    [
      ['a', 102],
      ['b', 2],
    ],
    [
      ['a', 102],
      ['b', 2],
    ],
    [
      ['a', 103],
      ['b', 2],
      ['c', 1],
    ],
    [
      ['a', 103],
      ['b', 3],
      ['c', 1],
    ],
    [
      ['a', 103],
      ['b', 3],
      ['c', 1],
    ],
  ],
  // a session is output once its key has had no record for more than 1 s (a batch without one, then another)
  sessions: [
    [],
    [],
    [['a', session(2, 1000, 1000)]],
    [['b', session(2, 1000, 2000)]],
    [],
    [
      ['a', session(1, 4000, 4000)],
      ['c', session(1, 4000, 4000)],
    ],
  ],
  sessionSnapshots: [
    [
      ['a', session(2, 1000, 1000)],
      ['b', session(1, 1000, 1000)],
    ],
    [
      ['a', session(2, 1000, 1000)],
      ['b', session(2, 1000, 2000)],
    ],
    [['b', session(2, 1000, 2000)]],
    [
      ['a', session(1, 4000, 4000)],
      ['c', session(1, 4000, 4000)],
    ],
    [
      ['a', session(1, 4000, 4000)],
      ['b', session(1, 5000, 5000)],
      ['c', session(1, 4000, 4000)],
    ],
    [['b', session(1, 5000, 5000)]],
  ],
};

/** groupByKeyAndWindow's values in a stable order, so groups compare whatever the partition order. */
function withSortedGroups(batches: unknown[][]): unknown[][] {
  return batches.map((batch) =>
    batch.map((record) => {
      const [key, values] = record as [unknown, number[]];
      return [key, [...values].sort((a, b) => a - b)];
    }),
  );
}

const cases = [
  { name: 'windowed', document: windowJob, exportName: 'tsJobs.window', expected: expectedWindows },
  { name: 'stateful', document: stateJob, exportName: 'tsJobs.state', expected: expectedState },
] as const;

describe.each(cases)('a JSON $name job', ({ document, exportName, expected }) => {
  it.each([0, 2])(
    'gives the expected batches, as its TypeScript twin does (workers: %i)',
    async (workers) => {
      // given the JSON job and the same operators written in TypeScript
      const json = { kind: 'document', document, baseDir: fixturesDir } as const;
      const ts = { kind: 'module', path: tsJobsModule, exportName } as const;
      // when both run for six batches
      const [fromJson, fromTs] = await Promise.all([
        runBatches(json, 6, { workers }),
        runBatches(ts, 6, { workers: 0 }),
      ]);
      // then both give the expected table of every output, with no error and no dead letter
      expect(fromJson.error).toBeUndefined();
      expect(fromTs.error).toBeUndefined();
      expect(fromJson.deadLetters).toEqual([]);
      for (const [output, table] of Object.entries(expected)) {
        const normalise = output === 'groups' ? withSortedGroups : (batches: unknown[][]) => batches;
        const ordered = output === 'running'; // within a key, in record order
        try {
          assertBatches(normalise(fromJson.recordsOf(output)), table, false);
          assertBatches(normalise(fromTs.recordsOf(output)), table, false);
          if (ordered) {
            const ofKey = (batches: unknown[][], key: string) =>
              batches.map((b) => b.filter((r) => (r as [string])[0] === key));
            assertBatches(ofKey(fromJson.recordsOf(output), 'a'), ofKey(table, 'a'), true);
          }
        } catch (error) {
          throw new Error(`output ${output}: ${(error as Error).message}`);
        }
      }
    },
    30_000,
  );
});
