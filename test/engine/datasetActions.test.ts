import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';

const jobs = new URL('../helpers/runtimeJobs.ts', import.meta.url).pathname;
const job = (exportName: string) => ({ kind: 'module', path: jobs, exportName }) as const;

// The outputs of top, takeOrdered, first, foreachPartition, foreach, reduce, fold, aggregate, the map-shaped actions,
// sample and zipWithIndex are in the operator table (operatorCases.ts); these are their failures.
describe('the failures of the actions Spark users call in foreachRDD', () => {
  for (const workers of [0, 2]) {
    it(`top dead-letters a record whose key throws and ranks the others (${workers} workers)`, async () => {
      // given a key function that throws on one record of four
      // when the batch runs
      const result = await runBatches(job('topThrowingKey'), 1, { workers });
      // then the top two come from the other three, and the bad one is a dead letter with the key's error
      expect(result.error).toBeUndefined();
      expect(result.recordsOf('top')).toEqual([[{ a: 3 }, { a: 2 }]]);
      expect(result.deadLetters.map((d) => d.record)).toEqual([{ a: 'x' }]);
      expect(result.deadLetters[0]!.error).toMatch(/a is not a number: "x"/);
    });
  }

  it('first() of an empty batch fails the batch, saying to use take(1)', async () => {
    // given a queue whose second batch is empty
    // when both batches run
    const result = await runBatches(job('firstOfEmptyBatch'), 2);
    // then the first batch completes and the second fails with a sentence that says what to do
    expect(result.batches.map((b) => b.batchTime)).toContain(1000);
    expect(String(result.error)).toMatch(/first\(\) of an empty dataset.*take\(1\)/);
  });

  it('reduce() of an empty batch fails the batch, saying to use fold', async () => {
    // given a queue whose second batch is empty
    // when both batches run
    const result = await runBatches(job('reduceOfEmptyBatch'), 2);
    // then the first batch completes and the second fails with a sentence that says what to do
    expect(result.batches.map((b) => b.batchTime)).toContain(1000);
    expect(String(result.error)).toMatch(/reduce\(\) of an empty dataset.*use fold\(zero, f\)/);
  });

  it('take() of a fraction fails the batch, saying it needs a whole number', async () => {
    // given a take of 2.5 records, which slicing would have rounded down
    // when the batch runs
    const result = await runBatches(job('takeOfFraction'), 1);
    // then it fails with a sentence that names the count
    expect(String(result.error)).toMatch(/take needs a whole number of records, got 2\.5/);
  });

  it('max() of an empty batch fails the batch, saying to check isEmpty()', async () => {
    // given a queue whose second batch is empty
    // when both batches run
    const result = await runBatches(job('maxOfEmptyBatch'), 2);
    // then the first batch completes and the second fails with a sentence that says what to do
    expect(result.batches.map((b) => b.batchTime)).toContain(1000);
    expect(String(result.error)).toMatch(/max\(\) of an empty dataset.*isEmpty\(\)/);
  });

  for (const workers of [0, 2]) {
    it(`sum and stats dead-letter what is no number and count the rest (${workers} workers)`, async () => {
      // given a batch of three numbers, a string, null and an object, over two partitions
      // when sum() and stats() run on it
      const result = await runBatches(job('numericActionsRefuseRecords'), 1, { workers });
      // then both take the numbers alone, and each dead-letters the other three once, naming itself
      expect(result.error).toBeUndefined();
      expect(result.recordsOf('out')).toEqual([[6, 3, 2]]);
      // built-in functions alone: with worker threads, no stage ran in the driver
      if (workers > 0) expect(result.batches.map((b) => b.driverStages)).toEqual([0]);
      const letters = result.deadLetters.map((d) => [d.record, d.error]);
      expect(letters).toHaveLength(6);
      expect(letters).toContainEqual([
        'x',
        expect.stringMatching(/sum\(\) needs finite numbers, got string "x"/),
      ]);
      expect(letters).toContainEqual([
        null,
        expect.stringMatching(/stats\(\) needs finite numbers, got object null/),
      ]);
      expect(letters).toContainEqual([
        { n: 4 },
        expect.stringMatching(/stats\(\) needs .*got object \{"n":4\}/),
      ]);
    });
  }

  it("sum's dead letters say what to call on pairs or text, which Spark would not have compiled", async () => {
    // given a batch of a [key, value] pair and a line of text holding a number
    // when sum() runs on it
    const result = await runBatches(job('sumOfPairsAndText'), 1);
    // then both are dead letters whose errors name the call that sums them
    expect(result.recordsOf('out')).toEqual([[0]]);
    expect(result.deadLetters.map((d) => d.error)).toEqual([
      expect.stringMatching(
        /sum\(\) needs finite numbers, got object \["a",1\]; of \[key, value\] pairs, take values\(\)\.sum\(\)/,
      ),
      expect.stringMatching(/got string "2\.5"; of text, map\(Number\) first/),
    ]);
  });

  it('reduce and countByKey dead-letter the records they refuse and count the rest', async () => {
    // given a batch of numbers and a string, reduced with a sum that refuses strings, then counted by key
    // when the batch runs
    const result = await runBatches(job('actionsRefuseRecords'), 1);
    // then the sum leaves the string out, countByKey finds no pair, and each action dead-letters what it refused
    expect(result.error).toBeUndefined();
    expect(result.recordsOf('out')).toEqual([[6, 0]]);
    expect(result.deadLetters.map((d) => d.record)).toEqual(['x', 1, 'x', 2, 3]);
    expect(result.deadLetters[0]!.error).toMatch(/not a number: "x"/);
    expect(result.deadLetters[1]!.error).toMatch(/expected a \[key, value\] pair/);
  });

  for (const workers of [0, 2]) {
    it(`lookup reads only the key's partition of a dataset placed by a partitioner (${workers} workers)`, async () => {
      // given datasets placed by partitionBy(3) and reduceByKey(f, 3), whose partitions other than 1 throw
      // when lookup asks for key 4 (partition 1) and key 7 (partition 1, absent)
      const result = await runBatches(job('lookupReadsOnlyItsPartition'), 1, { workers });
      // then the batch completes with the key's values: no other partition was computed
      expect(result.error).toBeUndefined();
      expect(result.recordsOf('lookup')).toEqual([[['c', 'e'], ['c+e'], []]]);
    });
  }

  it('foreachPartition that throws fails its task on every attempt and the batch with it', async () => {
    // given a sink that refuses the partition holding 'b', and 2 attempts per task
    // when the batch runs
    const result = await runBatches(job('foreachPartitionThrows'), 1);
    // then the batch fails with the sink's error, after both attempts
    expect(String(result.error)).toMatch(
      /failed 2 time\(s\); last error: Error: the sink refused the partition/,
    );
  });
});

describe('the failures of the transformations Spark users call in transform', () => {
  it('sample draws the same records when a task is retried', async () => {
    // given a seeded sample whose next step fails the first attempt of each task
    // when the batch runs, and the same sample runs without failures
    const retried = await runBatches(job('sampleRetried'), 1);
    const once = await runBatches(job('sampleOnce'), 1);
    // then the retried tasks kept the very records the undisturbed run kept
    expect(retried.error).toBeUndefined();
    expect(retried.recordsOf('sample')[0]!.length).toBeGreaterThan(0);
    expect(retried.recordsOf('sample')).toEqual(once.recordsOf('sample'));
  });

  it('sample refuses a fraction over 1 without replacement, saying what to do', async () => {
    // given a body that samples 1.5 of its records without replacement
    // when the batch runs
    const result = await runBatches(job('sampleRefused'), 1);
    // then the batch fails with the refusal
    expect(String(result.error)).toMatch(
      /fraction without replacement is a probability, from 0 to 1, got 1.5/,
    );
  });

  for (const workers of [0, 2]) {
    it(`refuses an action in a transform function, failing its batch with a sentence (${workers} workers)`, async () => {
      // given transform functions that start sum() and saveAsTextFile(), as if they could run there
      // when a batch of each runs, in the driver alone and with worker threads
      const dir = await mkdtemp(join(tmpdir(), 'sluice-transform-action-'));
      const where = { workers, storeDir: join(dir, 'store'), outputDir: dir };
      const summed = await runBatches(job('actionInTransform'), 2, where);
      const saved = await runBatches(job('saveInTransform'), 1, { ...where, storeDir: join(dir, 'store2') });
      // then the first batch fails naming the action and what to do, the same way in both, and nothing was written
      expect(summed.batches.map((b) => [b.batchTime, b.error !== undefined])).toEqual([[1000, true]]);
      expect(String(summed.error)).toMatch(
        /transform function of stream .* for batch 1000 ms ran an action \(its job: collect\); run actions \(count, collect, sum, saveAsTextFile, …\) in foreachRDD/,
      );
      expect(String(saved.error)).toMatch(/ran an action \(its job: saveAsTextFile\)/);
      expect(existsSync(join(dir, 'from-transform-1000'))).toBe(false);
      await rm(dir, { recursive: true, force: true });
    });
  }

  it('coalesce refuses a number of partitions under 1, and cartesian and cogroup what is not a dataset', async () => {
    // given bodies that coalesce into 0 partitions, cross a dataset with an array, and cogroup it with a string
    // when a batch of each runs
    const coalesced = await runBatches(job('coalesceRefused'), 1);
    const crossed = await runBatches(job('cartesianRefused'), 1);
    const grouped = await runBatches(job('cogroupRefused'), 1);
    // then each batch fails with the refusal
    expect(String(coalesced.error)).toMatch(/coalesce needs a whole number of partitions, 1 or more, got 0/);
    expect(String(crossed.error)).toMatch(/cartesian needs a dataset, got 3,4/);
    expect(String(grouped.error)).toMatch(
      /cogroup needs a dataset, or an array of them, to group with; got other/,
    );
  });

  it("cogroup(other1, other2), Spark's form, is refused naming the array form", async () => {
    // given a body that passes a second dataset where cogroup takes the partitioning
    // when a batch runs
    const result = await runBatches(job('cogroupOfTwoArguments'), 1);
    // then the batch fails with a sentence that says how to group with several
    expect(String(result.error)).toMatch(
      /cogroup's second argument is the partitioning .*got a dataset.*cogroup\(\[other1, other2\]\)/,
    );
  });

  for (const workers of [0, 2]) {
    it(`foldByKey dead-letters a value its function refuses and folds the rest (${workers} workers)`, async () => {
      // given a fold that throws on a negative value
      // when the batch runs
      const result = await runBatches(job('foldByKeyThrows'), 1, { workers });
      // then the key folds its other values, and the refused pair is a dead letter with the function's error
      expect(result.error).toBeUndefined();
      expect(result.recordsOf('sums')[0]).toEqual(
        expect.arrayContaining([
          ['a', 3],
          ['b', 3],
        ]),
      );
      expect(result.deadLetters.map((d) => d.record)).toEqual([['a', -5]]);
      expect(result.deadLetters[0]!.error).toMatch(/a negative value: -5/);
    });
  }
  for (const workers of [0, 2]) {
    it(`acts on a static table in a body, with functions made there (${workers} workers)`, async () => {
      // given a lookup table built with the job, acted on in a foreachRDD and mapped with a closure in a transform
      // when the batch runs
      const result = await runBatches(job('staticTableInBodies'), 1, { workers });
      // then the functions made in the bodies are found wherever their stages run
      expect(result.error).toBeUndefined();
      expect(result.recordsOf('actions')).toEqual([[[2, 3], 10, [['c', 4]]]]);
      expect(result.recordsOf('joined').map((batch) => [...batch].sort())).toEqual([
        [
          ['b', [true, 20]],
          ['b', [true, 30]],
          ['c', [true, 40]],
        ],
      ]);
    });
  }
});
