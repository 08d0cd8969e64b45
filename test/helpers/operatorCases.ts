import type { Dataset } from '../../lib/dataset/Dataset';
import { HashPartitioner } from '../../lib/dataset/Partitioner';
import type { DStream } from '../../lib/dstream/DStream';
import { actionCase, operatorCase, twoInputCase } from './operatorCase';

const add = (a: number, b: number) => a + b;
const later = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 1));
const spamFile = new URL('../fixtures/spam.txt', import.meta.url).pathname;

/**
 * Every stateless operation as a Spark-style table: input batches, the operation, the expected batches.
 * Each case ends with an empty batch or has one in the middle, so empty batches are covered everywhere.
 * The suite runs every case in-process and on the worker-thread pool.
 */
export const cases = {
  map: operatorCase({
    input: [[1, 2], [3], []],
    operation: (s: DStream<number>) => s.map((x) => x * 2),
    expected: [[2, 4], [6], []],
  }),
  flatMap: operatorCase({
    input: [['a b', 'c'], [], ['d']],
    operation: (s: DStream<string>) => s.flatMap((line) => line.split(' ')),
    expected: [['a', 'b', 'c'], [], ['d']],
  }),
  syncAndAsyncInOnePass: operatorCase({
    // Some records' functions return promises (settled on a later timer), others do not: the pass awaits those
    // alone and keeps the records in order.
    input: [['a bb', 'ccc', 'dd', 'e f'], [], ['gggg h', 'ii']],
    operation: (s: DStream<string>) =>
      s
        .flatMap((line) => line.split(' '))
        .map((word) => (word.length % 2 === 0 ? later(word.toUpperCase()) : word))
        .flatMap((word) => (word.length > 2 ? later([word, `${word}!`]) : [word]))
        .filter((word) => word !== 'e'),
    expected: [['a', 'BB', 'ccc', 'ccc!', 'DD', 'f'], [], ['GGGG', 'GGGG!', 'h', 'II']],
    ordered: true,
  }),
  filter: operatorCase({
    input: [[1, 2, 3, 4], [5], []],
    operation: (s: DStream<number>) => s.filter((x) => x % 2 === 0),
    expected: [[2, 4], [], []],
  }),
  // The function may be async and dead-letter a record itself; both are in mapPartitions' type, so this compiles.
  mapPartitionsAsyncWithFail: operatorCase({
    input: [[1, -2, 3], []],
    operation: (s: DStream<number>) =>
      s.mapPartitions(async (records, _partition, fail) => {
        const kept = records.filter((x) => x >= 0 || fail(x, new RangeError('negative')));
        return [await later(kept.length)];
      }),
    expected: [
      [1, 1],
      [0, 0],
    ],
  }),
  mapPartitions: operatorCase({
    input: [[1, 2, 3, 4], [5], []],
    operation: (s: DStream<number>) => s.mapPartitions((records) => [records.reduce(add, 0)]),
    expected: [
      [3, 7],
      [0, 5],
      [0, 0],
    ],
    ordered: true,
  }),
  glomTwoPartitions: operatorCase({
    input: [[1, 2, 3, 4, 5], [], [6]],
    operation: (s: DStream<number>) => s.glom(),
    expected: [
      [
        [1, 2],
        [3, 4, 5],
      ],
      [[], []],
      [[], [6]],
    ],
    ordered: true,
  }),
  glomThreePartitions: operatorCase({
    input: [[1, 2, 3, 4, 5]],
    partitions: 3,
    operation: (s: DStream<number>) => s.glom(),
    expected: [[[1], [2, 3], [4, 5]]],
    ordered: true,
  }),
  // Past the queue, Spark's queueStream hands out its default RDD, sc.makeRDD(Seq.empty, 1): one empty partition,
  // so glom gives one empty array and saveAsTextFiles one part file; a queued empty batch keeps the partitions.
  glomPastTheQueue: operatorCase({
    input: [[1, 2, 3], []],
    operation: (s: DStream<number>) => s.glom(),
    expected: [[[1], [2, 3]], [[], []], [[]], [[]]],
    ordered: true,
  }),
  repartition: operatorCase({
    input: [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], []],
    operation: (s: DStream<number>) =>
      s
        .repartition(3)
        .glom()
        .map((p) => p.length),
    expected: [
      [3, 4, 3],
      [0, 0, 0],
    ],
  }),
  repartitionKeepsRecords: operatorCase({
    input: [[1, 2, 3, 4, 5], []],
    operation: (s: DStream<number>) => s.repartition(3),
    expected: [[1, 2, 3, 4, 5], []],
  }),
  // Spark's CoalescedRDD without locality: partition i of 2 holds parent partitions [⌊i·5/2⌋, ⌊(i+1)·5/2⌋), in order.
  coalesce: operatorCase({
    input: [[1, 2, 3, 4, 5], []],
    partitions: 5,
    operation: (s: DStream<number>) => s.transform((ds) => ds.coalesce(2)).glom(),
    expected: [
      [
        [1, 2],
        [3, 4, 5],
      ],
      [[], []],
    ],
    ordered: true,
  }),
  // Asked for more partitions than it has, a coalesce keeps the count, as Spark's.
  coalesceToMore: operatorCase({
    input: [[1, 2, 3], []],
    partitions: 3,
    operation: (s: DStream<number>) => s.transform((ds) => ds.coalesce(10)).glom(),
    expected: [
      [[1], [2], [3]],
      [[], [], []],
    ],
    ordered: true,
  }),
  // With a shuffle it is repartition: as many partitions as asked, more than the parent has.
  coalesceWithShuffle: operatorCase({
    input: [[1, 2, 3, 4, 5, 6], []],
    partitions: 1,
    operation: (s: DStream<number>) =>
      s
        .transform((ds) => ds.coalesce(3, true))
        .glom()
        .map((p) => p.length),
    expected: [
      [2, 2, 2],
      [0, 0, 0],
    ],
  }),
  // A coalesce after a shuffle: its task reads several reduce partitions (inline map outputs cut to those).
  coalesceAfterShuffle: operatorCase({
    input: [
      [
        ['a', 1],
        ['b', 2],
        ['c', 3],
        ['a', 4],
      ],
      [],
    ] as [string, number][][],
    operation: (s: DStream<[string, number]>) =>
      s
        .transform((ds) => ds.reduceByKey(add, 4).coalesce(1))
        .glom()
        .map((p) => [...p].sort()),
    expected: [
      [
        [
          ['a', 5],
          ['b', 2],
          ['c', 3],
        ],
      ],
      [[]],
    ],
  }),
  // Spark's CartesianRDD: partition i·n + j of 3 × 2 pairs partition i of the first with partition j of the
  // second, each record of the first with every record of the second in turn.
  cartesian: operatorCase({
    input: [[1, 2, 3], [], [4]],
    partitions: 3,
    operation: (s: DStream<number>) =>
      s.transform((ds) => ds.cartesian(ds.map((x) => x * 10).coalesce(2))).glom(),
    expected: [
      [
        [[1, 10]],
        [
          [1, 20],
          [1, 30],
        ],
        [[2, 10]],
        [
          [2, 20],
          [2, 30],
        ],
        [[3, 10]],
        [
          [3, 20],
          [3, 30],
        ],
      ],
      [[], [], [], [], [], []],
      [[], [], [], [], [], [[4, 40]]],
    ],
    ordered: true,
  }),
  // After shuffles: each task reads one reduce partition of each side (inline map outputs cut to those).
  cartesianAfterShuffles: operatorCase({
    input: [[1, 2, 2, 3], []],
    operation: (s: DStream<number>) =>
      s.transform((ds) => ds.distinct(2).cartesian(ds.map((x) => x * 10).distinct(3))),
    expected: [
      [
        [1, 10],
        [1, 20],
        [1, 30],
        [2, 10],
        [2, 20],
        [2, 30],
        [3, 10],
        [3, 20],
        [3, 30],
      ],
      [],
    ],
  }),
  // A dataset with itself: both sides read one dataset, at two partitions of it in most tasks.
  cartesianWithItself: operatorCase({
    input: [[1, 2, 3], []],
    operation: (s: DStream<number>) => s.transform((ds) => ds.cartesian(ds)).glom(),
    expected: [
      [
        [[1, 1]],
        [
          [1, 2],
          [1, 3],
        ],
        [
          [2, 1],
          [3, 1],
        ],
        [
          [2, 2],
          [2, 3],
          [3, 2],
          [3, 3],
        ],
      ],
      [[], [], [], []],
    ],
    ordered: true,
  }),
  count: operatorCase({
    input: [[1, 2, 3], [], [4]],
    operation: (s: DStream<number>) => s.count(),
    expected: [[3], [0], [1]],
  }),
  reduce: operatorCase({
    input: [[1, 2, 3], [], [4]],
    operation: (s: DStream<number>) => s.reduce(add),
    expected: [[6], [], [4]],
  }),
  countByValue: operatorCase({
    input: [['a', 'b', 'a'], [], ['c']],
    operation: (s: DStream<string>) => s.countByValue(),
    expected: [
      [
        ['a', 2],
        ['b', 1],
      ],
      [],
      [['c', 1]],
    ],
  }),
  transform: operatorCase({
    input: [[1, 2], [], [3]],
    operation: (s: DStream<number>) => s.transform((ds) => ds.map((x) => x + 10).filter((x) => x !== 12)),
    expected: [[11], [], [13]],
  }),
  transformJoinsStaticFile: operatorCase({
    input: [[{ user: 'ann' }, { user: 'spammer1' }, { user: 'bob' }], [{ user: 'spammer2' }], []],
    operation: (s: DStream<{ user: string }>) => {
      const spam = s.ssc.textFile(spamFile).map((u) => [u, true] as [string, boolean]);
      return s.transform((ds) =>
        ds
          .map((t) => [t.user, t] as [string, { user: string }])
          .leftOuterJoin(spam)
          .filter(([, [, isSpam]]) => isSpam === null)
          .map(([user]) => user),
      );
    },
    expected: [['ann', 'bob'], [], []],
  }),
  mapValues: operatorCase({
    input: [
      [
        ['a', 1],
        ['b', 2],
      ],
      [],
    ],
    operation: (s: DStream<[string, number]>) => s.mapValues((v) => v * 10),
    expected: [
      [
        ['a', 10],
        ['b', 20],
      ],
      [],
    ],
  }),
  flatMapValues: operatorCase({
    input: [
      [
        ['a', 2],
        ['b', 0],
      ],
      [],
    ],
    operation: (s: DStream<[string, number]>) =>
      s.flatMapValues((v) => Array.from({ length: v }, (_, i) => i)),
    expected: [
      [
        ['a', 0],
        ['a', 1],
      ],
      [],
    ],
  }),
  groupByKey: operatorCase({
    input: [
      [
        ['a', 1],
        ['b', 2],
        ['a', 3],
      ],
      [],
      [['b', 4]],
    ],
    operation: (s: DStream<[string, number]>) => s.groupByKey(),
    expected: [
      [
        ['a', [1, 3]],
        ['b', [2]],
      ],
      [],
      [['b', [4]]],
    ],
  }),
  reduceByKey: operatorCase({
    input: [
      [
        ['a', 1],
        ['b', 2],
        ['a', 3],
      ],
      [],
      [
        ['b', 4],
        ['b', 5],
      ],
    ],
    operation: (s: DStream<[string, number]>) => s.reduceByKey(add),
    expected: [
      [
        ['a', 4],
        ['b', 2],
      ],
      [],
      [['b', 9]],
    ],
  }),
  reduceByKeyWithPartitioner: operatorCase({
    input: [
      [
        ['a', 1],
        ['b', 2],
        ['c', 3],
        ['a', 4],
      ],
    ],
    operation: (s: DStream<[string, number]>) =>
      s
        .reduceByKey(add, new HashPartitioner(3))
        .glom()
        .map(() => 'partition'),
    expected: [['partition', 'partition', 'partition']],
  }),
  reduceByKeyWithPartitionCount: operatorCase({
    input: [
      [
        ['a', 1],
        ['b', 2],
        ['a', 4],
      ],
    ],
    operation: (s: DStream<[string, number]>) => s.reduceByKey(add, 5).glom().count(),
    expected: [[5]],
  }),
  combineByKey: operatorCase({
    input: [
      [
        ['a', 1],
        ['a', 3],
        ['b', 5],
      ],
      [],
    ],
    operation: (s: DStream<[string, number]>) =>
      s
        .combineByKey(
          (v) => [v, 1] as [number, number],
          (c, v) => [c[0] + v, c[1] + 1] as [number, number],
          (x, y) => [x[0] + y[0], x[1] + y[1]] as [number, number],
        )
        .mapValues(([sum, n]) => sum / n),
    expected: [
      [
        ['a', 2],
        ['b', 5],
      ],
      [],
    ],
  }),
  sortByDescending: operatorCase({
    input: [
      [
        ['a', 2],
        ['b', 5],
        ['c', 1],
      ],
      [],
      [['x', 1]],
    ],
    operation: (s: DStream<[string, number]>) => s.sortBy(([, n]) => n, false),
    expected: [
      [
        ['b', 5],
        ['a', 2],
        ['c', 1],
      ],
      [],
      [['x', 1]],
    ],
    ordered: true,
  }),
  sortByAscendingStrings: operatorCase({
    input: [['pear', 'apple', 'fig']],
    operation: (s: DStream<string>) => s.sortBy((w) => w),
    expected: [['apple', 'fig', 'pear']],
    ordered: true,
  }),
  // Keys of mixed kinds: null, booleans, numbers, strings, arrays, objects (see compareValues).
  sortByMixedKeys: operatorCase({
    input: [[3, 'b', null, [1, 2], 'a', 1, { z: 1 }, true, [1], { a: 2 }] as unknown[]],
    operation: (s: DStream<unknown>) => s.sortBy((k) => k),
    expected: [[null, true, 1, 3, 'a', 'b', [1], [1, 2], { a: 2 }, { z: 1 }]],
    ordered: true,
  }),
  // Spark's sortByKey(false), inside transform, as TwitterPopularTags ranks its hashtags: [count, tag] pairs, the
  // highest count first; a record that is not a pair is a dead letter.
  sortByKeyDescending: operatorCase({
    input: [[[2, '#a'], [5, '#b'], 'not a pair', [1, '#c']], []] as unknown[][],
    partitions: 2,
    operation: (s: DStream<unknown>) =>
      s.transform((ds) => (ds as Dataset<[number, string]>).sortByKey(false)),
    expected: [
      [
        [5, '#b'],
        [2, '#a'],
        [1, '#c'],
      ],
      [],
    ],
    ordered: true,
  }),
  // Spark's keyBy, inside transform: [f(record), record].
  keyBy: operatorCase({
    input: [['apple', 'fig'], []],
    operation: (s: DStream<string>) => s.transform((ds) => ds.keyBy((w) => w.length)),
    expected: [
      [
        [5, 'apple'],
        [3, 'fig'],
      ],
      [],
    ],
  }),
  // Spark's RDD distinct, inside transform: records compare by value, as keys do.
  distinct: operatorCase({
    input: [
      ['a', 'b', 'a', 'c', 'b'],
      [],
      [
        [1, 'x'],
        [1, 'x'],
        [1, 'y'],
      ],
    ] as unknown[][],
    operation: (s: DStream<unknown>) => s.transform((ds) => ds.distinct(3)),
    expected: [
      ['a', 'b', 'c'],
      [],
      [
        [1, 'x'],
        [1, 'y'],
      ],
    ],
  }),
  // keys and values, inside transform; a record that is not a pair is a dead letter, not a first character.
  keys: operatorCase({
    input: [[['a', 1], 'bc', ['b', 2], ['a', 3]], [], [[['x', 1], 4]]] as unknown[][],
    operation: (s: DStream<unknown>) => s.transform((ds) => (ds as Dataset<[unknown, unknown]>).keys()),
    expected: [['a', 'b', 'a'], [], [['x', 1]]],
  }),
  values: operatorCase({
    input: [[['a', 1], 7, ['b', 2]], []] as unknown[][],
    operation: (s: DStream<unknown>) => s.transform((ds) => (ds as Dataset<[unknown, unknown]>).values()),
    expected: [[1, 2], []],
  }),
  // A mutable zero: each key folds into its own copy, on both sides of the shuffle (a shared [] would give
  // every key every value). A value f throws on (a negative) is a dead letter; the key's fold goes on.
  foldByKey: operatorCase({
    input: [
      [
        ['a', [1]],
        ['b', [2]],
        ['a', [-1]],
        ['a', [3]],
        ['b', [4]],
        ['c', [5]],
      ],
      [],
      [['a', [6]]],
    ] as [string, number[]][][],
    partitions: 2,
    operation: (s: DStream<[string, number[]]>) =>
      s.transform((ds) =>
        ds
          .foldByKey([] as number[], (acc, vs) => {
            if (vs.some((v) => v < 0)) throw new RangeError(`negative: ${vs}`);
            acc.push(...vs);
            return acc;
          })
          .mapValues((vs) => vs.sort((x, y) => x - y)),
      ),
    expected: [
      [
        ['a', [1, 3]],
        ['b', [2, 4]],
        ['c', [5]],
      ],
      [],
      [['a', [6]]],
    ],
  }),
  // Sum and count per key into a mutable object per key; seqOp refuses a value that is not a number.
  aggregateByKey: operatorCase({
    input: [
      [
        ['a', 1],
        ['b', 2],
        ['a', 'x'],
        ['a', 3],
        ['b', 4],
      ],
      [],
    ] as [string, unknown][][],
    partitions: 2,
    operation: (s: DStream<[string, unknown]>) =>
      s.transform((ds) =>
        ds.aggregateByKey(
          { sum: 0, n: 0 },
          (acc, v) => {
            if (typeof v !== 'number') throw new TypeError(`not a number: ${String(v)}`);
            acc.sum += v;
            acc.n += 1;
            return acc;
          },
          (x, y) => ({ sum: x.sum + y.sum, n: x.n + y.n }),
          3,
        ),
      ),
    expected: [
      [
        ['a', { sum: 4, n: 2 }],
        ['b', { sum: 6, n: 2 }],
      ],
      [],
    ],
  }),
  // A seeded sample is the same in the driver's thread and on worker threads, which derive the sampler from its
  // id (the table runs both); fraction 0 keeps none and 1 keeps all. The error case: refused arguments, in
  // datasetActions.test.ts.
  sample: operatorCase({
    input: [Array.from({ length: 20 }, (_, i) => i), [], [1, 2, 3]],
    partitions: 2,
    operation: (s: DStream<number>) =>
      s.transform((ds) => ds.sample(false, 0.5, 42).union(ds.sample(false, 0, 1), ds.sample(false, 1, 1))),
    expected: [
      [0, 1, 5, 6, 7, 8, 9, 11, 14, 16, 17, 19, ...Array.from({ length: 20 }, (_, i) => i)],
      [],
      [1, 3, 1, 2, 3],
    ],
  }),
  sampleWithReplacement: operatorCase({
    input: [Array.from({ length: 12 }, (_, i) => i), []],
    partitions: 3,
    operation: (s: DStream<number>) => s.transform((ds) => ds.sample(true, 1.5, 7)),
    expected: [[0, 1, 2, 3, 4, 5, 6, 6, 7, 7, 8, 8, 9, 9, 11, 11], []],
  }),
  // Indexes follow partition order across partitions (the count job gives the offsets); a record the map
  // before throws on is a dead letter in both jobs, so the indexes stay consecutive.
  zipWithIndex: actionCase({
    input: [['a', 'b', '!', 'c', 'd', 'e', 'f'], [], ['g']],
    partitions: 3,
    action: async (ds) => {
      const checked = ds.map((x) => {
        if (x === '!') throw new Error('a bad record');
        return x.toUpperCase();
      });
      return (await checked.zipWithIndex()).collect();
    },
    expected: [
      [
        ['A', 0],
        ['B', 1],
        ['C', 2],
        ['D', 3],
        ['E', 4],
        ['F', 5],
      ],
      [],
      [['G', 0]],
    ],
    ordered: true,
  }),
  // top and takeOrdered: each partition keeps its n before the driver merges, so the answer spans partitions.
  topByKey: actionCase({
    input: [
      [
        ['a', 2],
        ['b', 5],
        ['c', 1],
        ['d', 4],
        ['e', 3],
      ],
      [],
      [['x', 1]],
    ] as [string, number][][],
    partitions: 3,
    action: (ds) => ds.top(2, ([, n]) => n),
    expected: [
      [
        ['b', 5],
        ['d', 4],
      ],
      [],
      [['x', 1]],
    ],
    ordered: true,
  }),
  topOfRecords: actionCase({
    input: [[3, 9, 1, 7, 5]],
    partitions: 2,
    action: (ds) => ds.top(3),
    expected: [[9, 7, 5]],
    ordered: true,
  }),
  takeOrdered: actionCase({
    input: [['pear', 'fig', 'apple', 'kiwi'], []],
    partitions: 2,
    action: (ds) => ds.takeOrdered(3),
    expected: [['apple', 'fig', 'kiwi'], []],
    ordered: true,
  }),
  takeOrderedNone: actionCase({
    input: [[1, 2]],
    action: (ds) => ds.takeOrdered(0),
    expected: [[]],
  }),
  // max and min order as top does, over every partition; with a key they give the record, not the key.
  maxAndMin: actionCase({
    input: [
      [
        ['a', 2],
        ['b', 5],
        ['c', 1],
        ['d', 4],
      ],
      [['x', 9]],
    ] as [string, number][][],
    partitions: 3,
    action: async (ds) => [
      await ds.max(([, n]) => n),
      await ds.min(([, n]) => n),
      await ds.keys().max(),
      await ds.keys().min(),
    ],
    expected: [
      [['b', 5], ['c', 1], 'd', 'a'],
      [['x', 9], ['x', 9], 'x', 'x'],
    ],
    ordered: true,
  }),
  // Spark's DoubleRDDFunctions: each partition's counter merged in the driver, as one pass over all would give;
  // an empty batch has sum and mean 0, variance NaN (written as null by JSON), as Spark's StatCounter.
  numericActions: actionCase({
    input: [[2, 4, 4, 4, 5, 5, 7, 9], [], [1.5]],
    partitions: 3,
    action: async (ds) => {
      const stats = await ds.stats();
      return [
        await ds.sum(),
        stats.count,
        stats.mean,
        stats.max,
        stats.min,
        stats.variance,
        await ds.stdev(),
        await ds.sampleVariance(),
        await ds.mean(),
      ];
    },
    expected: [
      [40, 8, 5, 9, 2, 4, 2, 32 / 7, 5],
      [0, 0, 0, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, Number.NaN, Number.NaN, Number.NaN, 0],
      [1.5, 1, 1.5, 1.5, 1.5, 0, 0, Number.NaN, 1.5],
    ],
    ordered: true,
  }),
  // As Spark's take: the first n in partition order, across partitions; 0 or a negative count takes none.
  take: actionCase({
    input: [[5, 3, 1, 4, 2], []],
    partitions: 2,
    action: async (ds) => [await ds.take(3), await ds.take(0), await ds.take(-1)],
    expected: [
      [[5, 3, 1], [], []],
      [[], [], []],
    ],
    ordered: true,
  }),
  first: actionCase({
    input: [[7, 8, 9], [10]],
    partitions: 2,
    action: (ds) => ds.first(),
    expected: [[7], [10]],
  }),
  // reduce, fold and aggregate: each partition folds its own records, the driver the partitions' results; a
  // record the function throws on is a dead letter. reduce of an empty batch fails it (datasetActions.test.ts).
  reduceAction: actionCase({
    input: [[1, 2, 'x', 3, 4, 5], [6]] as unknown[][],
    partitions: 2,
    action: (ds) =>
      ds.reduce((a, b) => {
        if (typeof b !== 'number') throw new TypeError(`not a number: ${String(b)}`);
        return (a as number) + b;
      }),
    expected: [[15], [6]],
  }),
  // A mutable zero: each partition and the driver fold into their own copies (one shared [] would collect
  // every record twice). The driver folds the partitions in order, so the result is in partition order.
  foldAction: actionCase({
    input: [[[1], [2], 'x', [3], [4]], []] as unknown[][],
    partitions: 2,
    action: async (ds) => [
      await (ds as Dataset<number[]>).fold([], (acc, xs) => {
        if (!Array.isArray(xs)) throw new TypeError('not an array');
        acc.push(...xs);
        return acc;
      }),
    ],
    expected: [[[1, 2, 3, 4]], [[]]],
  }),
  aggregateAction: actionCase({
    input: [[1, 2, 'x', 3, 4], []] as unknown[][],
    partitions: 2,
    action: async (ds) => [
      await ds.aggregate(
        { sum: 0, n: 0 },
        (acc, x) => {
          if (typeof x !== 'number') throw new TypeError('not a number');
          acc.sum += x;
          acc.n += 1;
          return acc;
        },
        (a, b) => ({ sum: a.sum + b.sum, n: a.n + b.n }),
      ),
    ],
    expected: [[{ sum: 10, n: 4 }], [{ sum: 0, n: 0 }]],
  }),
  // The map-shaped actions give a ValueMap: iterated as a Map, looked up by value (a composite key included).
  countByKeyAction: actionCase({
    input: [[['a', 1], ['eu', 7], 'not a pair', ['a', 2], [['eu', 7], 1], [['eu', 7], 2]], []] as unknown[][],
    partitions: 2,
    action: async (ds) => {
      const counts = await (ds as Dataset<[unknown, unknown]>).countByKey();
      return [...counts, ['get', counts.get(['eu', 7]) ?? null, counts.has(['eu', 7]), counts.size]];
    },
    expected: [
      [
        ['a', 2],
        ['eu', 1],
        [['eu', 7], 2],
        ['get', 2, true, 3],
      ],
      [['get', null, false, 0]],
    ],
  }),
  countByValueAction: actionCase({
    input: [['a', 'b', 'a', ['x', 1], ['x', 1]], []] as unknown[][],
    partitions: 2,
    action: async (ds) => {
      const counts = await ds.countByValue();
      return [...counts, ['get', counts.get(['x', 1]) ?? 0]];
    },
    expected: [
      [
        ['a', 2],
        ['b', 1],
        [['x', 1], 2],
        ['get', 2],
      ],
      [['get', 0]],
    ],
  }),
  // A key seen twice keeps its last value in partition order; JSON.stringify writes the pairs.
  collectAsMapAction: actionCase({
    input: [[['a', 1], ['b', 2], [['k', 1], 3], ['a', 4], 'not a pair'], []] as unknown[][],
    partitions: 2,
    action: async (ds) => {
      const map = await (ds as Dataset<[unknown, unknown]>).collectAsMap();
      return JSON.parse(JSON.stringify(map));
    },
    expected: [
      [
        ['a', 4],
        ['b', 2],
        [['k', 1], 3],
      ],
      [],
    ],
  }),
  lookupAction: actionCase({
    input: [[['a', 1], [['k', 1], 2], 'not a pair', ['a', 3], ['b', 4]], []] as unknown[][],
    partitions: 2,
    action: async (ds) => {
      const pairs = ds as Dataset<[unknown, unknown]>;
      return [await pairs.lookup('a'), await pairs.lookup(['k', 1]), await pairs.lookup('z')];
    },
    expected: [
      [[1, 3], [2], []],
      [[], [], []],
    ],
    ordered: true,
  }),
  // A by-key op with a function made in the foreachRDD: its map side combines with that function, which only the
  // driver has, so with worker threads that stage runs in the driver too.
  reduceByKeyInBody: actionCase({
    input: [
      [
        ['a', 1],
        ['b', 2],
        ['a', 3],
        ['b', 4],
        ['c', 5],
      ],
      [],
    ] as unknown[][],
    partitions: 2,
    action: async (ds) =>
      (await (ds as Dataset<[string, number]>).reduceByKey((a, b) => a + b, 3).collect()).sort(),
    expected: [
      [
        ['a', 4],
        ['b', 6],
        ['c', 5],
      ],
      [],
    ],
  }),
  // partitionBy places each pair by its key's hash (an integer key hashes to itself: key mod 3), and a dataset
  // placed so already is returned as it is.
  partitionByAction: actionCase({
    input: [
      [
        [0, 'a'],
        [4, 'b'],
        [2, 'c'],
        [3, 'd'],
        [1, 'e'],
      ],
    ] as unknown[][],
    partitions: 2,
    action: async (ds) => {
      const placed = (ds as Dataset<[number, string]>).partitionBy(3);
      const partitions = (await placed.glom().collect()).map((records) => records.sort());
      return [partitions, placed.partitionBy(3) === placed, placed.partitionBy(2) === placed];
    },
    expected: [
      [
        [
          [
            [0, 'a'],
            [3, 'd'],
          ],
          [
            [1, 'e'],
            [4, 'b'],
          ],
          [[2, 'c']],
        ],
        true,
        false,
      ],
    ],
    ordered: true,
  }),
  // foreachPartition sees each partition once, with its index; foreach sees every record.
  foreachPartition: actionCase({
    input: [['a', 'b', 'c', 'd'], []],
    partitions: 2,
    action: async (ds) => {
      const seen: Array<[number, unknown[]]> = [];
      await ds.foreachPartition(async (records, partition) => {
        await later(undefined);
        seen.push([partition, records]);
      });
      // The partitions' tasks run side by side and may end in any order, as Spark's do.
      return seen.sort(([a], [b]) => a - b);
    },
    expected: [
      [
        [0, ['a', 'b']],
        [1, ['c', 'd']],
      ],
      [
        [0, []],
        [1, []],
      ],
    ],
  }),
  foreach: actionCase({
    input: [[1, 2, 3], []],
    action: async (ds) => {
      const seen: number[] = [];
      await ds.foreach((x) => seen.push(x * 10));
      // The partitions' tasks may end in any order.
      return seen.sort((a, b) => a - b);
    },
    expected: [[10, 20, 30], []],
  }),
  compositeKeys: operatorCase({
    input: [
      [
        [['x', 1], 1],
        [['x', 1], 2],
        [['x', 2], 3],
      ],
    ],
    operation: (s: DStream<[[string, number], number]>) => s.reduceByKey(add),
    expected: [
      [
        [['x', 1], 3],
        [['x', 2], 3],
      ],
    ],
  }),
  union: twoInputCase({
    input1: [[1, 2], [], [3]],
    input2: [[10], [20], []],
    operation: (a: DStream<number>, b: DStream<number>) => a.union(b),
    expected: [[1, 2, 10], [20], [3]],
  }),
  transformWith: twoInputCase({
    input1: [[1, 2], []],
    input2: [[2, 3], [4]],
    operation: (a: DStream<number>, b: DStream<number>) =>
      a.transformWith(b, (x, y) =>
        x.map((v) => [v, 'left'] as [number, string]).join(y.map((v) => [v, 'right'])),
      ),
    expected: [[[2, ['left', 'right']]], []],
  }),
  // Every pair; an empty side gives none.
  cartesianOfTwoStreams: twoInputCase({
    input1: [[1, 2], [3], []],
    input2: [['a', 'b'], [], ['c']],
    operation: (a: DStream<number>, b: DStream<string>) => a.transformWith(b, (x, y) => x.cartesian(y)),
    expected: [
      [
        [1, 'a'],
        [1, 'b'],
        [2, 'a'],
        [2, 'b'],
      ],
      [],
      [],
    ],
  }),
  join: twoInputCase({
    input1: [
      [
        ['a', 1],
        ['b', 2],
        ['a', 3],
      ],
      [['c', 1]],
      [],
    ],
    input2: [
      [
        ['a', 'x'],
        ['c', 'y'],
      ],
      [['d', 'z']],
      [],
    ],
    operation: (a: DStream<[string, number]>, b: DStream<[string, string]>) => a.join(b),
    expected: [
      [
        ['a', [1, 'x']],
        ['a', [3, 'x']],
      ],
      [],
      [],
    ],
  }),
  leftOuterJoin: twoInputCase({
    input1: [
      [
        ['a', 1],
        ['b', 2],
      ],
      [],
    ],
    input2: [[['a', 'x']], [['a', 'y']]],
    operation: (a: DStream<[string, number]>, b: DStream<[string, string]>) => a.leftOuterJoin(b),
    expected: [
      [
        ['a', [1, 'x']],
        ['b', [2, null]],
      ],
      [],
    ],
  }),
  rightOuterJoin: twoInputCase({
    input1: [
      [
        ['a', 1],
        ['b', 2],
      ],
      [],
    ],
    input2: [
      [
        ['a', 'x'],
        ['c', 'y'],
      ],
      [['d', 'z']],
    ],
    operation: (a: DStream<[string, number]>, b: DStream<[string, string]>) => a.rightOuterJoin(b),
    expected: [
      [
        ['a', [1, 'x']],
        ['c', [null, 'y']],
      ],
      [['d', [null, 'z']]],
    ],
  }),
  fullOuterJoin: twoInputCase({
    input1: [
      [
        ['a', 1],
        ['b', 2],
      ],
      [],
      [['e', 5]],
    ],
    input2: [
      [
        ['a', 'x'],
        ['c', 'y'],
      ],
      [],
      [],
    ],
    operation: (a: DStream<[string, number]>, b: DStream<[string, string]>) => a.fullOuterJoin(b),
    expected: [
      [
        ['a', [1, 'x']],
        ['b', [2, null]],
        ['c', [null, 'y']],
      ],
      [],
      [['e', [5, null]]],
    ],
  }),
  subtractByKey: twoInputCase({
    input1: [
      [
        ['a', 1],
        ['b', 2],
        ['b', 3],
        ['c', 4],
      ],
      [['a', 5]],
      [],
    ],
    input2: [
      [
        ['a', 'x'],
        ['a', 'y'],
        ['d', 'z'],
      ],
      [],
      [['e', 'w']],
    ],
    // Every value of a key the other side lacks, once, however many values either side has for it.
    operation: (a: DStream<[string, number]>, b: DStream<[string, string]>) => a.subtractByKey(b),
    expected: [
      [
        ['b', 2],
        ['b', 3],
        ['c', 4],
      ],
      [['a', 5]],
      [],
    ],
  }),
  // Records compared by value; every copy of a record the other side lacks is kept, as Spark's subtract keeps
  // them. A record is a key here, so no record can be malformed: the error case is an empty side.
  subtract: twoInputCase({
    input1: [[1, 2, 2, 3, [4, 'x'], [4, 'y']], [5], [], [6]] as unknown[][],
    input2: [[2, [4, 'x'], 9], [], [7], []] as unknown[][],
    operation: (a: DStream<unknown>, b: DStream<unknown>) => a.transformWith(b, (x, y) => x.subtract(y, 3)),
    expected: [[1, 3, [4, 'y']], [5], [], [6]],
  }),
  // The distinct records on both sides, by value.
  intersection: twoInputCase({
    input1: [[1, 2, 2, 3, [4, 'x'], [4, 'y']], [5], [], [6]] as unknown[][],
    input2: [[2, 2, [4, 'x'], 3, 9], [], [7], []] as unknown[][],
    operation: (a: DStream<unknown>, b: DStream<unknown>) => a.transformWith(b, (x, y) => x.intersection(y)),
    expected: [[2, 3, [4, 'x']], [], [], []],
  }),
  cogroup: twoInputCase({
    input1: [
      [
        ['a', 1],
        ['a', 2],
        ['b', 3],
      ],
      [],
    ],
    input2: [
      [
        ['a', 'x'],
        ['c', 'y'],
      ],
      [],
    ],
    operation: (a: DStream<[string, number]>, b: DStream<[string, string]>) => a.cogroup(b),
    expected: [
      [
        ['a', [[1, 2], ['x']]],
        ['b', [[3], []]],
        ['c', [[], ['y']]],
      ],
      [],
    ],
  }),
  // A Dataset's cogroup takes one dataset, as Spark's `rdd.cogroup(other)`, or an array of them.
  datasetCogroup: twoInputCase({
    input1: [
      [
        ['a', 1],
        ['b', 2],
      ],
      [],
    ],
    input2: [[['a', 'x']], []],
    operation: (a: DStream<[string, number]>, b: DStream<[string, string]>) =>
      a.transformWith(b, (x, y) =>
        x
          .cogroup(y)
          .mapValues(([vs, ws]) => [vs.length, ws.length])
          .union(x.cogroup([y, y]).mapValues((groups) => groups.map((g) => g.length))),
      ),
    expected: [
      [
        ['a', [1, 1]],
        ['b', [1, 0]],
        ['a', [1, 1, 1]],
        ['b', [1, 0, 0]],
      ],
      [],
    ],
  }),
};
