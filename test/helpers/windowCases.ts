import type { DStream } from '../../lib/dstream/DStream';
import { operatorCase } from './operatorCase';

const add = (a: number, b: number) => a + b;
const sub = (a: number, b: number) => a - b;
type Pair = [string, number];

const pairs: Pair[][] = [
  [
    ['a', 1],
    ['b', 1],
  ],
  [['a', 1]],
  [],
  [['b', 2]],
];
const comesBack: Pair[][] = [[['a', 1]], [], [], [['a', 1]]];

/** Cases whose expected table holds fewer batches than must run: outputs come only at multiples of the slide. */
export const windowBatches: Readonly<Record<string, number>> = {
  window: 6,
  windowSlideEqualsWindow: 6,
  windowSlideLongerThanWindow: 6,
  reduceByKeyAndWindowSlideTwo: 6,
  reduceByKeyAndWindowSlideEqualsWindowKeepsZeros: 6,
  countByWindowSlideEqualsWindow: 6,
  reduceByKeyAndWindowSlideLongerThanWindow: 4,
};

/**
 * Window operations as Spark-style tables, 1 s batches. Windows at the start of the stream are shorter; outputs
 * appear only at multiples of the slide.
 */
export const windowCases = {
  window: operatorCase({
    input: [[1], [2], [3], [4], [5], []],
    operation: (s: DStream<number>) => s.window(3000, 1000),
    expected: [[1], [1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5]],
  }),
  windowSlideEqualsWindow: operatorCase({
    input: [[1], [2], [3], [4], [5], [6]],
    operation: (s: DStream<number>) => s.window(2000, 2000),
    expected: [
      [1, 2],
      [3, 4],
      [5, 6],
    ],
  }),
  windowSlideLongerThanWindow: operatorCase({
    input: [[1], [2], [3], [4], [5], [6]],
    operation: (s: DStream<number>) => s.window(1000, 2000),
    expected: [[2], [4], [6]],
  }),
  countByWindow: operatorCase({
    input: [[1, 2], [3], [], [4, 5, 6], [], []],
    operation: (s: DStream<number>) => s.countByWindow(2000, 1000),
    expected: [[2], [3], [1], [3], [3], [0]],
  }),
  reduceByWindow: operatorCase({
    input: [[1, 2], [3], [], [4], [], []],
    operation: (s: DStream<number>) => s.reduceByWindow(add, 2000, 1000),
    expected: [[3], [6], [3], [4], [4], []],
  }),
  reduceByWindowIncremental: operatorCase({
    input: [[1, 2], [3], [], [4], [], []],
    operation: (s: DStream<number>) => s.reduceByWindow(add, sub, 2000, 1000),
    expected: [[3], [6], [3], [4], [4], [0]],
  }),
  reduceByKeyAndWindow: operatorCase({
    input: pairs,
    operation: (s: DStream<Pair>) => s.reduceByKeyAndWindow(add, 2000, 1000),
    expected: [
      [
        ['a', 1],
        ['b', 1],
      ],
      [
        ['a', 2],
        ['b', 1],
      ],
      [['a', 1]],
      [['b', 2]],
    ],
  }),
  reduceByKeyAndWindowIncrementalKeepsZeros: operatorCase({
    input: pairs,
    operation: (s: DStream<Pair>) => s.reduceByKeyAndWindow(add, sub, 2000, 1000),
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
        ['a', 1],
        ['b', 0],
      ],
      [
        ['a', 0],
        ['b', 2],
      ],
    ],
  }),
  reduceByKeyAndWindowIncrementalFilter: operatorCase({
    input: pairs,
    operation: (s: DStream<Pair>) => s.reduceByKeyAndWindow(add, sub, 2000, 1000, 2, ([, v]) => v !== 0),
    expected: [
      [
        ['a', 1],
        ['b', 1],
      ],
      [
        ['a', 2],
        ['b', 1],
      ],
      [['a', 1]],
      [['b', 2]],
    ],
  }),
  reduceByKeyAndWindowKeyComesBack: operatorCase({
    input: comesBack,
    operation: (s: DStream<Pair>) => s.reduceByKeyAndWindow(add, sub, 2000, 1000, 2, ([, v]) => v !== 0),
    expected: [[['a', 1]], [['a', 1]], [], [['a', 1]]],
  }),
  reduceByKeyAndWindowSlideTwo: operatorCase({
    input: [[['a', 1]], [['a', 2]], [['a', 4]], [['a', 8]], [], [['b', 1]]],
    operation: (s: DStream<Pair>) => s.reduceByKeyAndWindow(add, sub, 3000, 2000),
    expected: [
      [['a', 3]],
      [['a', 14]],
      [
        ['a', 8],
        ['b', 1],
      ],
    ],
  }),
  // Spark's ReducedWindowedDStream: previous window − the batches that left + those that entered, even when
  // the window is as long as its slide, so a key that stopped arriving stays at zero.
  reduceByKeyAndWindowSlideEqualsWindowKeepsZeros: operatorCase({
    input: [[['a', 1]], [['a', 2]], [], [], [['b', 1]], []],
    operation: (s: DStream<Pair>) => s.reduceByKeyAndWindow(add, sub, 2000, 2000),
    expected: [
      [['a', 3]],
      [['a', 0]],
      [
        ['a', 0],
        ['b', 1],
      ],
    ],
  }),
  countByWindowSlideEqualsWindow: operatorCase({
    input: [[1, 2], [3], [], [], [4], []],
    operation: (s: DStream<number>) => s.countByWindow(2000, 2000),
    expected: [[3], [0], [1]],
  }),
  // Not Spark's: with a slide longer than the window, Spark's formula adds the batches between two windows to a
  // key the previous window lacks, and subtracts them unevenly after (here 3 and 9: batch 1 counts). Each window
  // is reduced from its own batches instead.
  reduceByKeyAndWindowSlideLongerThanWindow: operatorCase({
    input: [[['a', 1]], [['a', 2]], [['a', 4]], [['a', 8]]],
    operation: (s: DStream<Pair>) => s.reduceByKeyAndWindow(add, sub, 1000, 2000),
    expected: [[['a', 2]], [['a', 8]]],
  }),
  countByValueAndWindow: operatorCase({
    input: [['a', 'b'], ['a'], [], ['b'], []],
    operation: (s: DStream<string>) => s.countByValueAndWindow(2000, 1000),
    expected: [
      [
        ['a', 1],
        ['b', 1],
      ],
      [
        ['a', 2],
        ['b', 1],
      ],
      [['a', 1]],
      [['b', 1]],
      [['b', 1]],
    ],
  }),
  groupByKeyAndWindow: operatorCase({
    input: [
      [['a', 1]],
      [
        ['a', 2],
        ['b', 3],
      ],
      [],
      [],
    ],
    operation: (s: DStream<Pair>) => s.groupByKeyAndWindow(2000, 1000),
    expected: [
      [['a', [1]]],
      [
        ['a', [1, 2]],
        ['b', [3]],
      ],
      [
        ['a', [2]],
        ['b', [3]],
      ],
      [],
    ],
  }),
  windowedHashtagCount: operatorCase({
    input: [['#a #b'], ['#a'], [], ['#c #a'], [], [], []],
    operation: (s: DStream<string>) => s.flatMap((t) => t.split(' ')).countByValueAndWindow(3000, 1000),
    expected: [
      [
        ['#a', 1],
        ['#b', 1],
      ],
      [
        ['#a', 2],
        ['#b', 1],
      ],
      [
        ['#a', 2],
        ['#b', 1],
      ],
      [
        ['#a', 2],
        ['#c', 1],
      ],
      [
        ['#a', 1],
        ['#c', 1],
      ],
      [
        ['#a', 1],
        ['#c', 1],
      ],
      [],
    ],
  }),
};
