import { threadId } from 'node:worker_threads';
import type { Dataset } from '../../lib/dataset/Dataset';
import { defineJob, type JobModule } from '../../lib/job/JobModule';

/** Jobs of the runtime tests; module-level exports so that worker threads can rebuild them. */

const add = (a: number, b: number) => a + b;

export const printJob = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc.queueStream<unknown>([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [['k', 1]], []]).print(10);
});

export const countUntilQueueRunsOut = defineJob({ batchIntervalMs: 500 }, (ssc) => {
  ssc
    .queueStream([['a'], ['b', 'c']])
    .count()
    .collectBatches('counts');
});

export const saveText = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream([['b', 'a', 'b'], []], { partitions: 2 })
    .countByValue(2)
    .saveAsTextFiles('out/counts', 'txt');
});

export const jsonlFile = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc.queueStream([[1, 2], [], [3]]).jsonl({ path: 'out/numbers.jsonl', name: 'numbers' });
});

export const foreachWithTransformations = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc.queueStream([[1, 2, 3], [4]]).foreachRDD(async (ds, batchTime) => {
    // A function created inside foreachRDD exists only in the driver: its stage must run there.
    const doubled = await ds.map((x) => x * 2).collect();
    ssc.emitOutput({
      output: 'doubled',
      type: 'foreachRDD',
      batchTime,
      records: doubled,
      count: doubled.length,
    });
  });
});

export const malformedRecords = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream([['{"user":"a","n":1}', 'not json', '{"user":"a","n":2}'], ['{"user":"b","n":"x"}']])
    .map((line: string) => JSON.parse(line) as { user: string; n: unknown })
    .map((r) => [r.user, r.n] as [string, unknown])
    .reduceByKey((a, b) => {
      if (typeof a !== 'number' || typeof b !== 'number') throw new TypeError(`cannot sum ${a} and ${b}`);
      return a + b;
    })
    .collectBatches('sums');
});

export const transformReturnsNothing = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream([[1], [2]])
    .transform((ds, t) => (t === 2000 ? (undefined as never) : ds))
    .collectBatches('out');
});

/** Its task's first attempt fails. The count is per run of the job, not per module, because test files that run
 * in one process without isolation share this module, and a second run must fail once too. */
export const flakyOnce = defineJob({ batchIntervalMs: 1000, maxTaskAttempts: 3 }, (ssc) => {
  let flakyCalls = 0;
  ssc
    .queueStream([[1, 2, 3]], { partitions: 1 })
    .mapPartitions((records) => {
      flakyCalls++;
      if (flakyCalls === 1) throw new Error('transient failure');
      return records;
    })
    .collectBatches('out');
});

export const alwaysFails = defineJob({ batchIntervalMs: 1000, maxTaskAttempts: 2 }, (ssc) => {
  const s = ssc.queueStream([[1], [2]], { partitions: 1 });
  s.mapPartitions(() => {
    throw new Error('broken partition');
  }).saveAsTextFiles('out/never');
});

/** A foreachRDD whose function parses its lines (one is no number) and hands them to a sink, failing or not. */
function sinkJob(sinkFails: boolean) {
  return defineJob({ batchIntervalMs: 1000, maxTaskAttempts: 2 }, (ssc) => {
    ssc.queueStream([['1', 'x']], { partitions: 1 }).foreachRDD(async (rdd) => {
      const numbers = rdd.map((line: string) => {
        if (!/^\d+$/.test(line)) throw new Error(`not a number: ${line}`);
        return Number(line);
      });
      await numbers.foreachPartition(() => {
        if (sinkFails) throw new Error('the sink is down');
      });
    });
  });
}

export const failingSink = sinkJob(true);
export const sinkWithBadLine = sinkJob(false);

export const threadIds = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream([[1, 2, 3, 4]], { partitions: 2 })
    .map(() => threadId)
    .collectBatches('threads');
});

export const unionOfMany = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  const streams = [[[1]], [[2]], [[3], [4]]].map((batches) => ssc.queueStream(batches));
  ssc.union(streams).collectBatches('all');
});

export const sliceInsideOutput = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  const s = ssc.queueStream([[1], [2], [3], [4]]);
  ssc.remember(3000);
  s.foreachRDD(async (_ds, t) => {
    const datasets = await s.slice(t - 2000, t);
    const records = (await Promise.all(datasets.map((d) => d.collect()))).flat();
    ssc.emitOutput({ output: 'slice', type: 'foreachRDD', batchTime: t, records, count: records.length });
  });
});

/** slice with ends between batch times: Spark floors both to the stream's batch times. */
export const sliceUnaligned = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  const s = ssc.queueStream([[1], [2], [3], [4]]);
  ssc.remember(3000);
  s.foreachRDD(async (_ds, t) => {
    const datasets = await s.slice(t - 1500, t - 500);
    const records = (await Promise.all(datasets.map((d) => d.collect()))).flat();
    ssc.emitOutput({ output: 'slice', type: 'foreachRDD', batchTime: t, records, count: records.length });
  });
});

/**
 * A block list the driver changes between batches, as in Spark's guide for `transform`. A value the body
 * captures would be each worker's own copy, since workers re-run the body; a dataset made in the body carries
 * the driver's value in the plan.
 */
let blocked: string[] = [];
export const blockListInTransform = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  blocked = []; // each run starts with none, also when a test process runs the job twice
  const words = ssc.queueStream(
    [
      ['x', 'y'],
      ['x', 'y'],
      ['x', 'y'],
    ],
    { partitions: 2 },
  );
  words
    .transform((ds) => {
      const blockedNow = ssc.parallelize(blocked.map((w) => [w, true] as [string, boolean]));
      return ds
        .map((w) => [w, 1] as [string, number])
        .subtractByKey(blockedNow)
        .map(([w]) => w);
    })
    .collectBatches('kept');
  words.foreachRDD(() => {
    blocked = ['x'];
  });
});

/** A function of the job that puts a function in its records, which no worker thread can send. */
export const functionInRecord = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream([['a']])
    .map((w) => ({ w, f: () => w }))
    .collectBatches('out');
});

/** sortBy whose key function throws on one record: that record is a dead letter, the rest sorted. */
export const sortByThrowingKey = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream([[{ a: 3 }, { a: 1 }, { a: 'x' }, { a: 2 }]], { partitions: 2 })
    .sortBy((r: { a: unknown }) => {
      if (typeof r.a !== 'number') throw new TypeError(`a is not a number: ${JSON.stringify(r.a)}`);
      return r.a;
    })
    .collectBatches('sorted');
});

export const manyBatches = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream(Array.from({ length: 60 }, (_, i) => [`w${i % 3}`, 'x']))
    .countByValue()
    .transform((ds) => ds.filter(([w]) => w !== 'x'))
    .reduceByKey(add)
    .collectBatches('counts');
});

let concurrentStarted: () => void = () => {};
const secondStarted = new Promise<void>((resolve) => {
  concurrentStarted = resolve;
});
export const twoConcurrentOutputs = defineJob({ batchIntervalMs: 1000, concurrentJobs: 2 }, (ssc) => {
  const s = ssc.queueStream([[1]]);
  s.foreachRDD(async () => {
    // Only finishes if the second output's job starts while this one is running.
    await Promise.race([
      secondStarted,
      new Promise((_, reject) => setTimeout(() => reject(new Error('jobs did not run concurrently')), 5000)),
    ]);
  });
  s.foreachRDD(async () => {
    concurrentStarted();
  });
});

export const thousandBatches = defineJob({ batchIntervalMs: 1000, checkpointIntervalMs: 5000 }, (ssc) => {
  ssc
    .generatorStream({ kind: 'tweets', ratePerSec: 50, seed: 3 })
    .flatMap((t: { text: string }) => t.text.split(' ').filter((w) => w.startsWith('#')))
    .countByValueAndWindow(10_000, 1000)
    .count()
    .collectBatches('keys');
});

/** The same stream persisted at each storage level, read by two outputs. */
export const persistedLevels = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  const s = ssc.queueStream([[1, 2, 3], [4]], { partitions: 2 });
  for (const level of ['memory', 'memorySer', 'blockStore', 'memoryAndBlockStore'] as const) {
    const kept = s.map((x) => x * 10).persist(level);
    kept.collectBatches(`${level}-a`);
    kept.count().collectBatches(`${level}-b`);
  }
});

/** A window sliding every other batch: inputs must still take their batch at every tick. */
export const slowSlide = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream([[1], [2, 3], [4], [5, 6]])
    .window(2000, 2000)
    .collectBatches('pairs');
});

/** How many partitions `failsOnceAfterDeadLetters` computed in this thread; its first one fails. */
let computedOnce = 0;

/**
 * Two malformed lines of three, dead-lettered by a map; then the partition's first computation in each
 * thread fails as a whole (a task failure, not a record's), after the map already rejected its lines.
 */
export const failsOnceAfterDeadLetters = defineJob({ batchIntervalMs: 1000, defaultPartitions: 1 }, (ssc) => {
  ssc
    .queueStream([['1', 'x', 'y']], { partitions: 1 })
    .map((line: string) => {
      if (!/^\d+$/.test(line)) throw new Error(`${JSON.stringify(line)} is not a number`);
      return Number(line);
    })
    .mapPartitions((values: number[]) => {
      if (computedOnce++ === 0) throw new Error('a task failure after its dead letters');
      return values;
    })
    .collectBatches('numbers');
});

/** How many partitions `cachedThenFailsOnce` computed in this thread; its first one fails. */
let cachedComputedOnce = 0;

/**
 * `failsOnceAfterDeadLetters` with the parsed lines cached: the first attempt keeps the parsed partition in the
 * process's memory before its task fails, and a retry in the same process may find it there.
 */
export const cachedThenFailsOnce = defineJob({ batchIntervalMs: 1000, defaultPartitions: 1 }, (ssc) => {
  ssc
    .queueStream([['1', 'x', 'y']], { partitions: 1 })
    .map((line: string) => {
      if (!/^\d+$/.test(line)) throw new Error(`${JSON.stringify(line)} is not a number`);
      return Number(line);
    })
    .cache()
    .mapPartitions((values: number[]) => {
      if (cachedComputedOnce++ === 0) throw new Error('a task failure after its dead letters');
      return values;
    })
    .collectBatches('numbers');
});

/**
 * Parsed lines read twice in each batch: by an output of their own, and through a union placing them after
 * another stream's partition, so the union's task computes their partition 0 as its partition 1.
 */
export const parsedTwiceThroughUnion = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  const parsed = ssc
    .queueStream(
      [
        ['1', 'x'],
        ['y', '2'],
      ],
      { partitions: 1 },
    )
    .map((line: string) => {
      if (!/^\d+$/.test(line)) throw new Error(`${JSON.stringify(line)} is not a number`);
      return Number(line);
    });
  parsed.collectBatches('parsed');
  ssc
    .queueStream([[10], [20]], { partitions: 1 })
    .union(parsed)
    .collectBatches('both');
});

/** Parses numbers; `x` and `y`, one in each of the queue's two partitions, are dead letters of the map. */
const parsedNumbers = (ssc: Parameters<Parameters<typeof defineJob>[1]>[0]) =>
  ssc.queueStream([['1', 'x', 'y', '2']], { partitions: 2 }).map((line: string) => {
    if (!/^\d+$/.test(line)) throw new Error(`${JSON.stringify(line)} is not a number`);
    return Number(line);
  });

/** How many partitions `coalescedAfterDeadLetters` computed in this thread; its first one fails. */
let coalescedComputedOnce = 0;

/**
 * Parsed lines coalesced into one partition, whose task fails once as a whole after its map rejected a line of each
 * parent partition; then the lines read directly by an output of their own, whose tasks compute the parent's
 * partitions one each.
 */
export const coalescedAfterDeadLetters = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  const parsed = parsedNumbers(ssc);
  parsed
    .transform((ds) =>
      ds.coalesce(1).mapPartitions((values: number[]) => {
        if (coalescedComputedOnce++ === 0) throw new Error('a task failure after its dead letters');
        return values;
      }),
    )
    .collectBatches('coalesced');
  parsed.collectBatches('parsed');
});

/**
 * Parsed lines crossed with themselves: each task of the product computes one or two partitions of them, and every
 * partition is computed by three of the four tasks; then read directly by an output of their own.
 */
export const cartesianOfDeadLetters = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  const parsed = parsedNumbers(ssc);
  parsed.transform((ds) => ds.cartesian(ds)).collectBatches('pairs');
  parsed.collectBatches('parsed');
});

/** A coalesce into no partition: refused when the body calls it, so the batch fails saying why. */
export const coalesceRefused = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream([[1, 2]])
    .transform((ds) => ds.coalesce(0))
    .collectBatches('coalesced');
});

/** A cartesian product with what is not a dataset: refused when the body calls it. */
export const cartesianRefused = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream([[1, 2]])
    .transform((ds) => ds.cartesian([3, 4] as unknown as Dataset<number>))
    .collectBatches('pairs');
});

/** Transform functions that run an action, left floating as a sync body must: each batch is refused. */
export const actionInTransform = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream([[1, 2], [3]])
    .transform((ds) => {
      void (ds as Dataset<number>).sum();
      return ds;
    })
    .collectBatches('summed');
});

export const saveInTransform = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream([[1, 2]])
    .transform((ds, t) => {
      void ds.saveAsTextFile(`from-transform-${t}`);
      return ds;
    })
    .collectBatches('saved');
});

/** A cogroup with what is not a dataset (Spark's takes a dataset; an array is Sluice's form of several). */
export const cogroupRefused = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream([[['a', 1]]] as [string, number][][])
    .transform((ds) => ds.cogroup('other' as unknown as Dataset<[string, number]>))
    .collectBatches('groups');
});

/** Spark's `cogroup(other1, other2)`, whose second dataset lands where Sluice takes the partitioning. */
export const cogroupOfTwoArguments = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  const other = ssc.parallelize([['a', 'x']] as [string, string][]);
  ssc
    .queueStream([[['a', 1]]] as [string, number][][])
    .transform((ds) => ds.cogroup(other, other as unknown as number))
    .collectBatches('groups');
});

/**
 * Two built-in outputs with concurrent jobs (each must land under its own output without the batch's
 * `AsyncLocalStorage`), then a foreachRDD whose action is on a dataset it was not handed: a static dataset joined
 * with its batch, which knows no job, so only the running job's storage places it.
 */
export const outputsOwnTheirJobs = defineJob({ batchIntervalMs: 1000, concurrentJobs: 2 }, (ssc) => {
  const names = ssc.parallelize([
    ['a', 'Ann'],
    ['b', 'Bob'],
  ] as [string, string][]);
  const parsed = ssc
    .queueStream([['{"k":"a"}', 'not json', '{"k":"b"}'], ['{"k":"a"}']])
    .map((line: string) => JSON.parse(line) as { k: string });
  parsed.count().collectBatches('counts');
  parsed
    .map((r) => [r.k, 1] as [string, number])
    .reduceByKey(add)
    .collectBatches('sums');
  parsed.foreachRDD(async (ds, batchTime) => {
    const joined = await names.join(ds.map((r) => [r.k, 1] as [string, number])).count();
    ssc.emitOutput({ output: 'joined', type: 'foreachRDD', batchTime, records: [joined], count: 1 });
  });
});

/**
 * Two foreachRDDs whose jobs run at once (`concurrentJobs: 2`), each counting a static dataset it was not handed,
 * which knows no job: each waits until both have started, so the second starts while the first runs, and only the
 * running output job places each count under its own output and batch.
 */
export const overlappingForeachRdds = defineJob({ batchIntervalMs: 1000, concurrentJobs: 2 }, (ssc) => {
  const small = ssc.parallelize([1, 2]);
  const large = ssc.parallelize([1, 2, 3, 4, 5]);
  const started = new Map<number, { count: number; both: Promise<void>; release: () => void }>();
  const bothStarted = (batchTime: number): Promise<void> => {
    let entry = started.get(batchTime);
    if (!entry) {
      let release = () => {};
      const both = new Promise<void>((resolve) => {
        release = resolve;
      });
      entry = { count: 0, both, release };
      started.set(batchTime, entry);
    }
    entry.count++;
    if (entry.count === 2) entry.release();
    return entry.both;
  };
  const lines = ssc.queueStream([['a'], ['b']]);
  for (const [name, dataset] of [
    ['small', small],
    ['large', large],
  ] as const) {
    lines.foreachRDD(async (_ds, batchTime) => {
      await bothStarted(batchTime);
      const count = await dataset.count();
      ssc.emitOutput({ output: name, type: 'foreachRDD', batchTime, records: [count], count: 1 });
    }, name);
  }
});

/**
 * A running count whose batch at 400 ms holds its second output until batch 1500's has run (`concurrentJobs: 2`,
 * on the system clock, so later batches go on meanwhile): the held output reads the state's memory copies of
 * 400 ms and before after tasks of eleven later batches ran in the same processes. The checkpoint interval keeps
 * them in memory only, so that a copy evicted there can only be recomputed from the copies before it.
 */
export const stateReadWhileLaterBatchesRun = defineJob(
  { batchIntervalMs: 100, concurrentJobs: 2, checkpointIntervalMs: 1000 },
  (ssc) => {
    let laterBatchRan: () => void = () => {};
    const later = new Promise<void>((resolve) => {
      laterBatchRan = resolve;
    });
    const counts = ssc
      .queueStream(
        Array.from({ length: 15 }, () => ['a']),
        { partitions: 1 },
      )
      .map((word: string) => [word, 1] as [string, number])
      .updateStateByKey((values: number[], count: number | undefined) => (count ?? 0) + values.length);
    counts.collectBatches('counts');
    counts.foreachRDD(async (ds, batchTime) => {
      if (batchTime === 400) await later;
      const records = await ds.collect();
      if (batchTime === 1500) laterBatchRan();
      ssc.emitOutput({ output: 'held', type: 'foreachRDD', batchTime, records, count: records.length });
    });
  },
);

/**
 * Cached pairs, counted first, so that the map side of a window's per-batch reduce reads them from memory; the
 * reduce rejects the value `"x"` of the first batch, there, and the 2 s window reads that batch again at 2000.
 */
export const windowOverCachedPairs = defineJob({ batchIntervalMs: 1000, defaultPartitions: 1 }, (ssc) => {
  const pairs = ssc
    .queueStream<[string, unknown]>(
      [
        [
          ['a', 1],
          ['a', 'x'],
        ],
        [['a', 2]],
        [['a', 3]],
      ],
      { partitions: 1 },
    )
    .cache();
  pairs.count().collectBatches('counts');
  pairs
    .reduceByKeyAndWindow((a: unknown, b: unknown) => {
      if (typeof a !== 'number' || typeof b !== 'number') throw new TypeError(`cannot sum ${a} and ${b}`);
      return a + b;
    }, 2000)
    .collectBatches('sums');
});

/** top over a key function that throws on one record: that record is a dead letter, the others are ranked. */
export const topThrowingKey = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream([[{ a: 3 }, { a: 'x' }, { a: 1 }, { a: 2 }]], { partitions: 2 })
    .foreachRDD(async (ds, t) => {
      const records = await ds.top(2, (r: { a: unknown }) => {
        if (typeof r.a !== 'number') throw new TypeError(`a is not a number: ${JSON.stringify(r.a)}`);
        return r.a;
      });
      ssc.emitOutput({ output: 'top', type: 'foreachRDD', batchTime: t, records, count: records.length });
    });
});

/** first() of a batch with no record: as in Spark, the action throws and the batch fails. */
export const firstOfEmptyBatch = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc.queueStream([[1], []]).foreachRDD(async (ds) => {
    await ds.first();
  });
});

export const takeOfFraction = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc.queueStream([[1, 2, 3]]).foreachRDD(async (ds) => {
    await ds.take(2.5);
  });
});

export const maxOfEmptyBatch = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc.queueStream([[1], []]).foreachRDD(async (ds) => {
    await ds.max();
  });
});

/** The numeric actions over numbers and a few records that are none (a string, null, an object). */
export const numericActionsRefuseRecords = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc.queueStream<unknown>([[1, 'x', 2, null, 3, { n: 4 }]], { partitions: 2 }).foreachRDD(async (ds, t) => {
    const numbers = ds as Dataset<number>;
    const stats = await numbers.stats();
    const records = [await numbers.sum(), stats.count, stats.mean];
    ssc.emitOutput({ output: 'out', type: 'foreachRDD', batchTime: t, records, count: records.length });
  });
});

/** A sink that refuses a partition: foreachPartition's task fails, is retried, and the batch fails. */
export const foreachPartitionThrows = defineJob({ batchIntervalMs: 1000, maxTaskAttempts: 2 }, (ssc) => {
  ssc.queueStream([['a', 'b']]).foreachRDD(async (ds) => {
    await ds.foreachPartition((records) => {
      if (records.includes('b')) throw new Error('the sink refused the partition');
    });
  });
});

/**
 * A seeded sample whose next step fails the first attempt of every task: the retried tasks draw the same sample,
 * so the output is the one a run without failures gives (`sampleOnce`).
 */
const failedOnce = new Set<string>();
const sampleOf = (ds: Dataset<number>) => ds.sample(false, 0.5, 3);
const sampleInput = [Array.from({ length: 40 }, (_, i) => i)];
export const sampleRetried = defineJob({ batchIntervalMs: 1000, maxTaskAttempts: 2 }, (ssc) => {
  ssc
    .queueStream(sampleInput, { partitions: 2 })
    .transform((ds, t) =>
      sampleOf(ds).mapPartitions((records, partition) => {
        const attempt = `${t}/${partition}`;
        if (!failedOnce.has(attempt)) {
          failedOnce.add(attempt);
          throw new Error(`the first attempt of ${attempt} fails`);
        }
        return records;
      }),
    )
    .collectBatches('sample');
});
export const sampleOnce = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc.queueStream(sampleInput, { partitions: 2 }).transform(sampleOf).collectBatches('sample');
});

/** A fraction over 1 without replacement: refused when the body calls sample, so the batch fails saying why. */
export const sampleRefused = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream([[1, 2]])
    .transform((ds) => ds.sample(false, 1.5))
    .collectBatches('sample');
});

/** foldByKey whose function refuses a value: the value is a dead letter, the key's other values fold. */
export const foldByKeyThrows = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream<[string, number]>([
      [
        ['a', 1],
        ['a', -5],
        ['a', 2],
        ['b', 3],
      ],
    ])
    .transform((ds) =>
      ds.foldByKey(0, (sum, v) => {
        if (v < 0) throw new RangeError(`a negative value: ${v}`);
        return sum + v;
      }),
    )
    .collectBatches('sums');
});

/** reduce() of a batch with no record: as in Spark, the action throws and the batch fails. */
export const reduceOfEmptyBatch = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc.queueStream([[1, 2], []]).foreachRDD(async (ds) => {
    await ds.reduce(add);
  });
});

/** reduce and countByKey over records their functions refuse: each refused record is a dead letter. */
export const actionsRefuseRecords = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc.queueStream<unknown>([[1, 'x', 2, 3]], { partitions: 1 }).foreachRDD(async (ds, t) => {
    const sum = await ds.reduce((a, b) => {
      if (typeof b !== 'number') throw new TypeError(`not a number: ${JSON.stringify(b)}`);
      return (a as number) + b;
    });
    const counts = await (ds as Dataset<[unknown, unknown]>).countByKey();
    const records = [sum, counts.size];
    ssc.emitOutput({ output: 'out', type: 'foreachRDD', batchTime: t, records, count: records.length });
  });
});

/**
 * A static lookup table (made while the job is built) that a foreachRDD acts on with functions of its own, and
 * that a transform maps with a closure: at batch time, in a stream's body, as Spark jobs use a lookup table.
 */
export const staticTableInBodies = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  const table = ssc.parallelize<[string, number]>(
    [
      ['a', 1],
      ['b', 2],
      ['b', 3],
      ['c', 4],
    ],
    2,
  );
  const words = ssc.queueStream([['b', 'c']], { partitions: 2 });
  words.foreachRDD(async (_ds, t) => {
    const records = [
      await table.lookup('b'),
      await table.values().reduce((x, y) => x + y),
      await table.top(1, ([, n]) => n),
    ];
    ssc.emitOutput({ output: 'actions', type: 'foreachRDD', batchTime: t, records, count: records.length });
  });
  words
    .map((w: string) => [w, true] as [string, boolean])
    .transform((ds: Dataset<[string, boolean]>) => ds.join(table.mapValues((n: number) => n * 10)))
    .collectBatches('joined');
});

/**
 * `lookup` on datasets placed by a partitioner (`partitionBy`, and a `reduceByKey` whose result carries its
 * partitioner): every partition but the key's throws, so the batch completes only if lookup reads that one alone.
 * Integer keys hash to themselves, so key 4 lives in partition 4 mod 3 = 1.
 */
export const lookupReadsOnlyItsPartition = defineJob({ batchIntervalMs: 1000, maxTaskAttempts: 1 }, (ssc) => {
  const onlyPartition1 = (records: Array<[number, string]>, partition: number) => {
    if (partition !== 1) throw new Error(`partition ${partition} was computed`);
    return records;
  };
  ssc
    .queueStream<[number, string]>([
      [
        [0, 'a'],
        [1, 'b'],
        [4, 'c'],
        [2, 'd'],
        [4, 'e'],
      ],
    ])
    .foreachRDD(async (ds, batchTime) => {
      const placed = ds.partitionBy(3).mapPartitions(onlyPartition1, true);
      const reduced = ds
        .reduceByKey((a, b) => [a, b].sort().join('+'), 3)
        .mapPartitions(onlyPartition1, true);
      const records = [(await placed.lookup(4)).sort(), await reduced.lookup(4), await reduced.lookup(7)];
      ssc.emitOutput({ output: 'lookup', type: 'foreachRDD', batchTime, records, count: records.length });
    });
});

/** Two reduceByKey results over as many partitions, joined: Spark reads both in place (a narrow cogroup). */
export const joinOfReducedResults = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream<[string, number]>([
      [
        ['a', 1],
        ['b', 2],
        ['a', 3],
      ],
    ])
    .transform((ds) => {
      const sums = ds.reduceByKey((a, b) => a + b, 2);
      const maxima = ds.reduceByKey((a, b) => Math.max(a, b), 2);
      return sums.join(maxima, 2);
    })
    .collectBatches('joined');
});

/** An incremental window count: each batch's counts are reduced once, then read in place by the window. */
export const incrementalWindowCount = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream<string>([['a', 'b'], ['a'], ['b', 'b'], ['c']])
    .map((w) => [w, 1] as [string, number])
    .reduceByKeyAndWindow(
      (a, b) => a + b,
      (a, b) => a - b,
      2000,
      1000,
      2,
      ([, n]) => n > 0,
    )
    .collectBatches('window');
});

/** A window count recomputed from the window's reduced batches every batch (no inverse function). */
export const recomputedWindowCount = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream<string>([['a', 'b'], ['a'], ['b', 'b'], ['c']])
    .map((w) => [w, 1] as [string, number])
    .reduceByKeyAndWindow((a, b) => a + b, 2000, 1000, 2)
    .collectBatches('window');
});

/** The values of each key over the window, grouped from the window's grouped batches. */
export const groupedWindow = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream<string>([['a', 'b'], ['a'], ['b', 'b'], ['c']])
    .map((w) => [w, w.toUpperCase()] as [string, string])
    .groupByKeyAndWindow(2000, 1000, 2)
    .mapValues((vs) => vs.length)
    .collectBatches('window');
});

/** A window reduce whose function refuses a sum over 2: the window's in-place combine dead-letters that value. */
export const windowReduceRefuses = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream<string>([['a', 'a'], ['a']])
    .map((w) => [w, 1] as [string, number])
    .reduceByKeyAndWindow(
      (a, b) => {
        if (a + b > 2) throw new RangeError(`${a} + ${b} is over 2`);
        return a + b;
      },
      2000,
      1000,
      2,
    )
    .collectBatches('window');
});

/**
 * Two outputs for the batch page's table of output operations: a foreachRDD that runs two jobs (a count, then a
 * collect), and a grouping whose reduce-side tasks throw, so its job completes 1 of its 2 stages.
 */
export const twoJobsThenAFailure = defineJob({ batchIntervalMs: 1000, maxTaskAttempts: 1 }, (ssc) => {
  const words = ssc.queueStream([['a', 'b', 'a']], { partitions: 2 });
  words.foreachRDD(async (rdd) => {
    await rdd.count();
    await rdd.collect();
  }, 'countThenCollect');
  words
    .map((w: string) => [w, 1] as [string, number])
    .groupByKey()
    .mapPartitions(() => {
      throw new Error('the sink is down');
    })
    .collectBatches('failing');
});

/** A record per partition of each batch: how many records it holds (a partition count the outputs can see). */
const partitionSizes = (ds: Dataset<unknown>) => ds.glom().map((records) => records.length);

const pairBatches: [string, number][][] = [
  [
    ['a', 1],
    ['b', 2],
    ['a', 3],
    ['c', 4],
  ],
];

/** A join in a body of a result placed by 4 partitions with a batch placed by none (defaultPartitions 2). */
export const bodyJoinOfPlacedResult = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  const joined = ssc.queueStream(pairBatches).transform((ds) => {
    const counts = ds.reduceByKey(add, 4);
    return counts.join(ds.mapValues((v) => v * 10));
  });
  joined.collectBatches('joined');
  joined.transform(partitionSizes).collectBatches('sizes');
});

/** A by-key op in a body on a dataset placed by 4 partitions, naming none. */
export const bodyReduceOfPlacedDataset = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  const sums = ssc.queueStream(pairBatches).transform((ds) => ds.partitionBy(4).reduceByKey(add));
  sums.collectBatches('sums');
  sums.transform(partitionSizes).collectBatches('sizes');
});

/** distinct and subtractByKey in a body, naming no partitioning, on batches of 3 partitions and a placed result. */
export const bodySetOpsKeepTheirPartitions = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  const batches = ssc.queueStream(pairBatches, { partitions: 3 });
  batches.transform((ds) => partitionSizes(ds.map(([k]) => k).distinct())).collectBatches('distinct');
  batches
    .transform((ds) => partitionSizes(ds.reduceByKey(add, 4).subtractByKey(ds.filter(([k]) => k === 'a'))))
    .collectBatches('subtractByKey');
});

/** DStream ops on a stream placed by 4 partitions: Spark Streaming's hash into defaultPartitions (2). */
export const streamOpsOfPlacedStream = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  const batches = ssc.queueStream(pairBatches);
  const placed = batches.reduceByKey(add, 4);
  placed.join(batches).transform(partitionSizes).collectBatches('join');
  placed.reduceByKey(add).transform(partitionSizes).collectBatches('reduceByKey');
});

/** saveAsTextFiles with an empty prefix: Spark names each folder by its batch time alone. */
export const saveTextNoPrefix = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc.queueStream([['a']], { partitions: 1 }).saveAsTextFiles('', 'txt');
});

export const printNoRecords = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc.queueStream<unknown>([[1, 2], []]).print(0);
});

/** Spark's `rdd.sum()` called on what Scala would not have compiled: [key, value] pairs, and text lines of numbers. */
export const sumOfPairsAndText = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc.queueStream<unknown>([[['a', 1], '2.5']]).foreachRDD(async (ds, t) => {
    const records = [await (ds as Dataset<number>).sum()];
    ssc.emitOutput({ output: 'out', type: 'foreachRDD', batchTime: t, records, count: records.length });
  });
});

/** Strings, a pair, an object and a number: how saveAsTextFile writes each, as saveAsTextFiles does. */
const textRecords: unknown[] = ['a line', ['k', 1], { n: 2 }, 'b', 7];
const saveTextBatches = [textRecords, []];

/** Each batch written by `rdd.saveAsTextFile` in foreachRDD, to a folder named by its batch time. */
export const saveTextFile = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc.queueStream(saveTextBatches, { partitions: 3 }).foreachRDD(async (ds, t) => {
    await ds.saveAsTextFile(`out/text/${t}`);
  });
});

/**
 * The same, where the first attempt of every task in each process fails after its records are computed: the
 * retried tasks write the same folder.
 */
const textFailedOnce = new Set<string>();
export const saveTextFileRetried = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream(saveTextBatches, { partitions: 3 })
    .transform((ds, t) =>
      ds.mapPartitions((records, partition) => {
        const attempt = `${t}/${partition}`;
        if (!textFailedOnce.has(attempt)) {
          textFailedOnce.add(attempt);
          throw new Error(`the first attempt of ${attempt} fails`);
        }
        return records;
      }),
    )
    .foreachRDD(async (ds, t) => {
      await ds.saveAsTextFile(`out/text/${t}`);
    });
});

/** saveAsTextFile to a path that climbs out of the output folder: refused where it is called. */
export const saveTextFileOutside = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc.queueStream([['a']]).foreachRDD(async (ds) => {
    await ds.saveAsTextFile('../elsewhere');
  });
});

/** Numbers JSON cannot write, made by a function of the job's (not an expression, which refuses them). */
export const printNonFinite = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream<number>([[1, 0, -1]])
    .map((n) => (n === 0 ? Number.NaN : n / 0))
    .map((x) => ['k', x])
    .print(10);
});

/** Lines parsed in two partitions, coalesced into one and upper-cased: the map refuses the parsed objects. */
export const upperAfterCoalesce = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream<string>([['"a"', '{"a":1}', '"b"', '{"b":2}']], { partitions: 2 })
    .map((line) => JSON.parse(line) as unknown)
    .transform((ds) => ds.coalesce(1).map((r) => (r as string).toUpperCase()))
    .collectBatches('upper');
});

/**
 * Groups printed: a groupByKey's (of one, two and three values), after a filter and a window, a cogroup's, a
 * groupByKeyAndWindow's, and a map's copy of the groups, which print cannot tell from pairs.
 */
export const printGroups = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  const pairs = ssc.queueStream<[string, number]>([
    [
      ['a', 1],
      ['b', 2],
      ['b', 3],
      ['c', 4],
      ['c', 5],
      ['c', 6],
    ],
  ]);
  const grouped = pairs.groupByKey(1);
  grouped.print();
  grouped
    .filter(([key]) => key !== 'c')
    .window(2000)
    .print();
  pairs
    .cogroup(
      pairs.filter(([key]) => key === 'b'),
      1,
    )
    .print();
  pairs.groupByKeyAndWindow(2000, 1000, 1).print();
  grouped.map(([key, values]) => [key, values]).print();
});

/** Two keyed streams of one batch to join, each with a key the other lacks: a and b on the left, a and c on the right. */
function joinSides(ssc: Parameters<JobModule['build']>[0]) {
  const left = ssc.queueStream<[string, number]>([
    [
      ['a', 1],
      ['b', 3],
    ],
  ]);
  const right = ssc.queueStream<[string, number]>([
    [
      ['a', 2],
      ['c', 4],
    ],
  ]);
  return { left, right };
}

/**
 * The outer joins printed, each a side missing for some key: left, right and full, a join of windowed streams, a
 * filter whose function reads the missing side (null, as today), a union of alike joins, an outer join of groups
 * (nested: `Some(CompactBuffer(…))`), groupByKey + join, a groupByKey of joined pairs, a cogroup of groups, and a
 * map's copy of a join, which print cannot tell from plain values.
 */
export const printOuterJoins = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  const { left, right } = joinSides(ssc);
  left.leftOuterJoin(right, 1).print();
  left.rightOuterJoin(right, 1).print();
  left.fullOuterJoin(right, 1).print();
  left.window(2000).fullOuterJoin(right.window(2000), 1).print();
  const unmatched = left.leftOuterJoin(right, 1).filter(([, [, w]]) => w === null);
  unmatched.print();
  unmatched.union(left.leftOuterJoin(right, 1)).print();
  const twice = right.union(right.mapValues((w) => w + 3));
  left.groupByKey(1).leftOuterJoin(twice.groupByKey(1), 1).print();
  left.groupByKey(1).join(right.groupByKey(1), 1).print();
  left.leftOuterJoin(right, 1).groupByKey(1).print();
  left.groupByKey(1).cogroup(right, 1).print();
  left
    .leftOuterJoin(right, 1)
    .map((record) => record)
    .print();
});

/** A left outer join of two streams and a full outer join of groups saved with saveAsTextFiles, one partition. */
export const saveOuterJoins = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  const { left, right } = joinSides(ssc);
  left.leftOuterJoin(right, 1).saveAsTextFiles('out/left');
  left.groupByKey(1).fullOuterJoin(right.groupByKey(1), 1).saveAsTextFiles('out/full');
});

/** groupByKey's groups (of one and of two values) saved with saveAsTextFiles, one partition. */
export const saveGroups = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream<[string, number]>([
      [
        ['a', 1],
        ['b', 2],
        ['b', 3],
      ],
    ])
    .groupByKey(1)
    .saveAsTextFiles('out/groups');
});

/** Records holding undefined, which JSON writes as null: as a pair's value or key, or the whole record. */
export const printUndefined = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream<number>([[0, 1, 2]])
    .map((n) => [['k', undefined], [undefined, 1], undefined][n])
    .print(10);
});
