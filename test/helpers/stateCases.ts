import { HashPartitioner } from '../../lib/dataset/Partitioner';
import type { State } from '../../lib/dataset/State';
import type { DStream } from '../../lib/dstream/DStream';
import type { StateSpec } from '../../lib/dstream/StateSpec';
import { defineJob } from '../../lib/job/JobModule';
import { operatorCase } from './operatorCase';

type Pair = [string, number];

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const countUpdate = (values: number[], count: number | undefined) => (count ?? 0) + values.length;
/** mapWithState's running sum: the mapped value is `[key, sum so far]`. */
const runningSum = (key: string, value: number | undefined, state: State<number>): Pair => {
  const total = (state.exists() ? state.get() : 0) + (value ?? 0);
  state.update(total);
  return [key, total];
};
/** Where a key lives among 3 hash partitions, the expected placement of state partitioned by 3. */
const in3 = (key: string): [string, number] => [key, new HashPartitioner(3).partition(key)];
const placement = (records: [string, unknown][], partition: number) =>
  records.map(([key]) => [key, partition] as [string, number]);

/** The mapped values and, tagged `state`, the snapshots of a mapWithState, as one output. */
function withSnapshots<S, U>(s: DStream<Pair>, spec: StateSpec<string, number, S, U>): DStream<unknown> {
  const mapped = s.mapWithState(spec);
  return (mapped as DStream<unknown>).union(
    mapped.stateSnapshots().map(([k, v]): unknown => ['state', k, v]),
  );
}

/**
 * updateStateByKey removing each key in the batches without its values, by returning `removal`; the key comes
 * back fresh with new values.
 */
function disappearingKeys(removal: undefined | null) {
  return {
    input: [
      [
        ['a', 1],
        ['b', 2],
      ],
      [['a', 3]],
      [],
      [['b', 5]],
    ] as Pair[][],
    operation: (s: DStream<Pair>) =>
      s.updateStateByKey((values: number[], state: number | undefined) =>
        values.length === 0 ? removal : (state ?? 0) + sum(values),
      ),
    expected: [
      [
        ['a', 1],
        ['b', 2],
      ],
      [['a', 4]],
      [],
      [['b', 5]],
    ] as Pair[][],
  };
}

/**
 * The stateful operations as Spark-style tables, 1 s batches, run in-process and on worker threads. Every
 * case has an empty batch, at the start, in the middle or at the end.
 */
export const stateCases = {
  // ---- updateStateByKey ----------------------------------------------------------------------------------
  updateCounts: operatorCase({
    input: [
      [
        ['a', 1],
        ['b', 1],
        ['a', 1],
      ],
      [],
      [['b', 1]],
      [],
    ],
    operation: (s: DStream<Pair>) => s.updateStateByKey(countUpdate),
    expected: [
      [
        ['a', 2],
        ['b', 1],
      ],
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
    ],
  }),
  // A key without new values is removed (the function returns undefined); new values bring it back fresh.
  updateKeysDisappearAndComeBack: operatorCase(disappearingKeys(undefined)),
  // As Spark's None: null removes the key too, rather than keeping [key, null] every batch.
  updateRemovesOnNull: operatorCase(disappearingKeys(null)),
  updateCalledWithEmptyList: operatorCase({
    // The state logs every call's values: a batch without values for the key still calls it, with [].
    input: [
      [['a', 1]],
      [],
      [
        ['a', 2],
        ['a', 3],
      ],
    ],
    operation: (s: DStream<Pair>) =>
      s.updateStateByKey((values: number[], log: number[][] | undefined) => [...(log ?? []), values]),
    expected: [[['a', [[1]]]], [['a', [[1], []]]], [['a', [[1], [], [2, 3]]]]],
  }),
  updateInitialState: operatorCase({
    input: [[['a', 1]], []],
    operation: (s: DStream<Pair>) =>
      s.updateStateByKey((values: number[], state: number | undefined) => (state ?? 0) + sum(values), {
        initialState: s.ssc.parallelize<Pair>([
          ['a', 10],
          ['z', 5],
        ]),
      }),
    expected: [
      [
        ['a', 11],
        ['z', 5],
      ],
      [
        ['a', 11],
        ['z', 5],
      ],
    ],
  }),
  updateTimeAware: operatorCase({
    input: [
      [['a', 1]],
      [
        ['a', 1],
        ['a', 1],
        ['b', 1],
      ],
      [],
    ],
    operation: (s: DStream<Pair>) =>
      s.updateStateByKey(
        (
          values: number[],
          log: string[] | undefined,
          { key, batchTime }: { key: string; batchTime: number },
        ) => [...(log ?? []), `${key}@${batchTime}:${values.length}`],
        { timeAware: true },
      ),
    expected: [
      [['a', ['a@1000:1']]],
      [
        ['a', ['a@1000:1', 'a@2000:2']],
        ['b', ['b@2000:1']],
      ],
      [
        ['a', ['a@1000:1', 'a@2000:2', 'a@3000:0']],
        ['b', ['b@2000:1', 'b@3000:0']],
      ],
    ],
  }),
  updatePartitions: operatorCase({
    // With 3 partitions, every key's state lives in its hash partition, batch after batch.
    input: [
      [
        ['a', 1],
        ['b', 1],
        ['c', 1],
        ['d', 1],
      ],
      [],
    ],
    operation: (s: DStream<Pair>) =>
      s.updateStateByKey(countUpdate, { partitions: 3 }).mapPartitions(placement),
    expected: [
      [in3('a'), in3('b'), in3('c'), in3('d')],
      [in3('a'), in3('b'), in3('c'), in3('d')],
    ],
  }),
  updatePartitioner: operatorCase({
    input: [[['a', 1]], []],
    operation: (s: DStream<Pair>) =>
      s
        .updateStateByKey(countUpdate, { partitions: new HashPartitioner(4) })
        .glom()
        .count(),
    expected: [[4], [4]],
  }),
  updateEmptyBatches: operatorCase({
    input: [[], [['a', 1]], []],
    operation: (s: DStream<Pair>) => s.updateStateByKey(countUpdate),
    expected: [[], [['a', 1]], [['a', 1]]],
  }),

  // ---- mapWithState --------------------------------------------------------------------------------------
  mapWithStateCallOrder: operatorCase({
    // Each call reports the state it saw: a's second record sees the first one's update, within the batch.
    input: [
      [
        ['a', 1],
        ['b', 2],
        ['a', 3],
      ],
      [],
      [
        ['a', 4],
        ['b', 5],
      ],
    ],
    operation: (s: DStream<Pair>) =>
      s.mapWithState({
        fn: (key: string, value: number | undefined, state: State<number>) => {
          const before = state.exists() ? state.get() : null;
          state.update((before ?? 0) + value!);
          return [key, value, before];
        },
      }),
    expected: [
      [
        ['a', 1, null],
        ['b', 2, null],
        ['a', 3, 1],
      ],
      [],
      [
        ['a', 4, 4],
        ['b', 5, 2],
      ],
    ],
  }),
  mapWithStateRemoveAndExists: operatorCase({
    input: [
      [
        ['a', 1],
        ['b', 2],
      ],
      [['a', -1]],
      [],
      [['a', 3]],
    ],
    operation: (s: DStream<Pair>) =>
      withSnapshots(s, {
        // -1 removes the key; the mapped value is [key, value, existed before, exists after].
        fn: (key: string, value: number | undefined, state: State<number>) => {
          const existed = state.exists();
          if (value === -1) state.remove();
          else state.update(value!);
          return [key, value, existed, state.exists()];
        },
      }),
    expected: [
      [
        ['a', 1, false, true],
        ['b', 2, false, true],
        ['state', 'a', 1],
        ['state', 'b', 2],
      ],
      [
        ['a', -1, true, false],
        ['state', 'b', 2],
      ],
      [['state', 'b', 2]],
      [
        ['a', 3, false, true],
        ['state', 'a', 3],
        ['state', 'b', 2],
      ],
    ],
  }),
  mapWithStateDropsUndefined: operatorCase({
    input: [
      [
        ['a', 1],
        ['a', 2],
        ['b', 4],
      ],
      [],
    ],
    operation: (s: DStream<Pair>) =>
      s.mapWithState({
        fn: (key: string, value: number | undefined, state: State<number>) => {
          state.update(value!);
          return value! % 2 === 0 ? [key, value] : undefined;
        },
      }),
    expected: [
      [
        ['a', 2],
        ['b', 4],
      ],
      [],
    ],
  }),
  mapWithStateInitialState: operatorCase({
    input: [[['a', 1]], []],
    operation: (s: DStream<Pair>) =>
      withSnapshots(s, {
        fn: runningSum,
        initialState: s.ssc.parallelize<Pair>([
          ['a', 10],
          ['z', 5],
        ]),
      }),
    expected: [
      [
        ['a', 11],
        ['state', 'a', 11],
        ['state', 'z', 5],
      ],
      [
        ['state', 'a', 11],
        ['state', 'z', 5],
      ],
    ],
  }),
  mapWithStateTimeout: operatorCase({
    // Timeout 2 s: a is idle after 1000 and times out at 4000 (idle since before 4000 − 2000); b's records
    // keep it alive although it only sets its state once, so it times out at 7000. Each gets one last call.
    input: [
      [
        ['a', 1],
        ['b', 1],
      ],
      [['b', 1]],
      [['b', 1]],
      [['b', 1]],
      [],
      [],
      [],
      [],
    ],
    operation: (s: DStream<Pair>) =>
      withSnapshots(s, {
        timeoutMs: 2000,
        fn: (key: string, value: number | undefined, state: State<number>, batchTime: number) => {
          if (state.isTimingOut()) return ['timeout', key, state.get(), value ?? null, batchTime];
          if (!state.exists()) state.update(value!);
          return undefined;
        },
      }),
    expected: [
      [
        ['state', 'a', 1],
        ['state', 'b', 1],
      ],
      [
        ['state', 'a', 1],
        ['state', 'b', 1],
      ],
      [
        ['state', 'a', 1],
        ['state', 'b', 1],
      ],
      [
        ['timeout', 'a', 1, null, 4000],
        ['state', 'b', 1],
      ],
      [['state', 'b', 1]],
      [['state', 'b', 1]],
      [['timeout', 'b', 1, null, 7000]],
      [],
    ],
  }),
  mapWithStatePartitions: operatorCase({
    input: [
      [
        ['a', 1],
        ['b', 1],
        ['c', 1],
        ['d', 1],
      ],
      [],
    ],
    operation: (s: DStream<Pair>) =>
      s
        .mapWithState({ fn: runningSum, partitions: new HashPartitioner(3) })
        .stateSnapshots()
        .mapPartitions(placement),
    expected: [
      [in3('a'), in3('b'), in3('c'), in3('d')],
      [in3('a'), in3('b'), in3('c'), in3('d')],
    ],
  }),
  mapWithStateEmptyBatches: operatorCase({
    input: [[], [['a', 1]], [], [['a', 2]]],
    operation: (s: DStream<Pair>) => withSnapshots(s, { fn: runningSum }),
    expected: [
      [],
      [
        ['a', 1],
        ['state', 'a', 1],
      ],
      [['state', 'a', 1]],
      [
        ['a', 3],
        ['state', 'a', 3],
      ],
    ],
  }),
  mapWithStateSnapshots: operatorCase({
    input: [
      [
        ['a', 1],
        ['b', 1],
      ],
      [['a', 1]],
      [],
    ],
    operation: (s: DStream<Pair>) => s.mapWithState({ fn: runningSum, partitions: 3 }).stateSnapshots(),
    expected: [
      [
        ['a', 1],
        ['b', 1],
      ],
      [
        ['a', 2],
        ['b', 1],
      ],
      [
        ['a', 2],
        ['b', 1],
      ],
    ],
  }),
};

// ---- error cases ---------------------------------------------------------------------------------------------

const throwsInput: Pair[][] = [
  [
    ['a', 1],
    ['bad', 1],
    ['a', 2],
  ],
  [['bad', 3]],
];

/** Jobs whose functions fail: updateStateByKey fails the batch, mapWithState dead-letters the record. */
export const failingCases = {
  updateThrows: operatorCase({
    input: [
      [
        ['a', 1],
        ['a', -1],
        ['b', 2],
      ],
      [['a', 3]],
    ],
    operation: (s: DStream<Pair>) =>
      s.updateStateByKey((values: number[], state: number | undefined): number => {
        if (values.some((v) => v < 0)) throw new Error('update failed on purpose');
        return values.reduce((a, b) => a + b, state ?? 0);
      }),
    expected: [
      [
        ['a', 1],
        ['b', 2],
      ],
      [
        ['a', 4],
        ['b', 2],
      ],
    ],
  }),
  mapWithStateThrows: {
    ...defineJob({ batchIntervalMs: 1000, defaultPartitions: 2 }, (ssc) => {
      const mapped = ssc.queueStream<Pair>(throwsInput).mapWithState({
        fn: (key: string, value: number | undefined, state: State<number>) => {
          state.update(value!);
          if (key === 'bad') throw new Error(`cannot map ${key}`);
          return [key, value];
        },
      });
      // Two outputs, so each batch's state is computed by one job and read from memory by the next.
      mapped.collectBatches('out');
      mapped.stateSnapshots().collectBatches('snapshots');
    }),
    expected: [
      [
        ['a', 1],
        ['a', 2],
      ],
      [],
    ],
    // The failing record leaves the key's state as it was: `bad` never gets one.
    expectedSnapshots: [[['a', 2]], [['a', 2]]],
  },
};

// ---- cost and long runs -------------------------------------------------------------------------------------

/** 1,000 keys in the first batch, then 10 keys per batch: the mapped values are the keys the function saw. */
export const touchedKeysInput: Pair[][] = [
  Array.from({ length: 1000 }, (_, i) => [`k${i}`, 1] as Pair),
  ...Array.from({ length: 29 }, (_, b) =>
    Array.from({ length: 10 }, (_, i) => [`k${(b * 37 + i) % 1000}`, 1] as Pair),
  ),
];

/** The touched-keys job; the checkpoint interval is long so that no checkpoint writes the whole state. */
export const touchedKeys = defineJob(
  { batchIntervalMs: 1000, defaultPartitions: 2, checkpointIntervalMs: 1_000_000 },
  (ssc) => {
    ssc
      .queueStream(touchedKeysInput)
      .mapWithState({
        fn: (key: string, value: number | undefined, state: State<number>) => {
          state.update((state.exists() ? state.get() : 0) + value!);
          return key;
        },
      })
      .collectBatches('calls');
  },
);

/**
 * 35 batches over 17 keys, with 7 empty batches in the middle so that every key times out. Keys come and go
 * (updateStateByKey drops a key without values once its sum passes 100), so the state changes every batch.
 */
export const longInput: Pair[][] = Array.from({ length: 35 }, (_, i) =>
  i >= 20 && i < 27 ? [] : Array.from({ length: 4 }, (_, j) => [`k${(i * 3 + j) % 17}`, i] as Pair),
);
const longTimeoutMs = 5000;
const sumUnlessBig = (values: number[], state: number | undefined) =>
  values.length === 0 && state !== undefined && state > 100 ? undefined : (state ?? 0) + sum(values);
const countWithTimeout = (key: string, _value: number | undefined, state: State<number>) => {
  if (state.isTimingOut()) return ['timeout', key, state.get()];
  const count = (state.exists() ? state.get() : 0) + 1;
  state.update(count);
  return [key, count];
};

/** The long-run job: updateStateByKey, mapWithState and its snapshots, as three outputs. */
function longRun(checkpointIntervalMs: number) {
  return defineJob({ batchIntervalMs: 1000, defaultPartitions: 2, checkpointIntervalMs }, (ssc) => {
    const pairs = ssc.queueStream(longInput);
    pairs.updateStateByKey(sumUnlessBig).collectBatches('update');
    const mapped = pairs.mapWithState({ fn: countWithTimeout, timeoutMs: longTimeoutMs, partitions: 3 });
    mapped.collectBatches('mapped');
    mapped.stateSnapshots().collectBatches('snapshots');
  });
}

/** The long run checkpointing every 3 batches, and one that never checkpoints within its 35 batches. */
export const longRunJobs = {
  checkpointEvery3s: longRun(3000),
  neverCheckpointing: longRun(1_000_000),
};

/** The long run's expected outputs, from a plain reference implementation of both operations. */
export function longRunExpected(): { update: unknown[][]; mapped: unknown[][]; snapshots: unknown[][] } {
  const update: unknown[][] = [];
  const mapped: unknown[][] = [];
  const snapshots: unknown[][] = [];
  let sums = new Map<string, number>();
  const counts = new Map<string, { count: number; updatedMs: number }>();
  longInput.forEach((batch, i) => {
    const batchTime = (i + 1) * 1000;
    const values = new Map<string, number[]>();
    for (const [k, v] of batch) values.set(k, [...(values.get(k) ?? []), v]);
    const next = new Map<string, number>();
    for (const key of new Set([...sums.keys(), ...values.keys()])) {
      const s = sumUnlessBig(values.get(key) ?? [], sums.get(key));
      if (s !== undefined) next.set(key, s);
    }
    sums = next;
    update.push([...sums]);
    const out: unknown[] = [];
    for (const [k] of batch) {
      const count = (counts.get(k)?.count ?? 0) + 1;
      counts.set(k, { count, updatedMs: batchTime });
      out.push([k, count]);
    }
    for (const [k, { count, updatedMs }] of [...counts]) {
      if (updatedMs < batchTime - longTimeoutMs) {
        out.push(['timeout', k, count]);
        counts.delete(k);
      }
    }
    mapped.push(out);
    snapshots.push([...counts].map(([k, { count }]) => [k, count]));
  });
  return { update, mapped, snapshots };
}
