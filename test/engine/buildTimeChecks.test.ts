import { describe, expect, it } from 'vitest';
import { SluiceError, type StreamGraphError } from '../../lib/errors';
import { StreamingContext } from '../../lib/StreamingContext';

/** The error `build` throws, so its problems can be read; fails the test when it throws none. */
function errorOf(build: () => unknown): StreamGraphError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(SluiceError);
    return error as StreamGraphError;
  }
  throw new Error('expected the graph to be refused');
}

// A TypeScript job's arguments are checked when the stream is made, as a job document's are by its schema:
// `sluice validate` refuses them, instead of the first batch failing.
describe('arguments refused while the graph is built', () => {
  const pairs = () =>
    new StreamingContext({ batchIntervalMs: 1000 })
      .queueStream([[['a', 1]]] as [string, number][][])
      .map((p) => p);

  for (const [op, build] of [
    ['reduceByKey', () => pairs().reduceByKey((a, b) => a + b, -2)],
    ['groupByKey', () => pairs().groupByKey(0)],
    ['countByValue', () => pairs().countByValue(1.5)],
    ['join', () => pairs().join(pairs(), -1)],
    ['cogroup', () => pairs().cogroup(pairs(), 0)],
    ['repartition', () => pairs().repartition(0)],
  ] as const) {
    it(`refuses ${op} into a number of partitions no partitioner takes, at the partitions argument`, () => {
      // given a keyed op with a bad number of partitions
      // when the stream is made
      const error = errorOf(build);
      // then it is refused at the argument, at this file's line
      expect(error.problems[0]).toMatchObject({ field: 'partitions' });
      expect(error.message).toMatch(
        /number of partitions must be a positive whole number, got (-2|0|1\.5|-1)/,
      );
      expect(error.located).toMatch(/buildTimeChecks\.test\.ts:\d+/);
      // named by the op called, not the one it is made of (reduceByKey and groupByKey are combineByKeys)
      if (op === 'reduceByKey' || op === 'groupByKey') expect(error.located).toContain(`(${op})`);
    });
  }

  it('refuses a filter given to reduceByKeyAndWindow without invF, which ignored it, at the filter argument', () => {
    // given the non-incremental form called with a filter, as only the incremental one takes (JavaScript lets it)
    const add = (a: number, b: number) => a + b;
    const call = pairs().reduceByKeyAndWindow as (...args: unknown[]) => unknown;
    // when the stream is made
    const error = errorOf(() => call.call(pairs(), add, 2000, 1000, 2, () => true));
    // then it is refused at the argument, at this file's line, as a job document's filter without invFn is
    expect(error.problems[0]).toMatchObject({ field: 'filter' });
    expect(error.message).toBe(
      'the filter of reduceByKeyAndWindow applies to the incremental form only, which needs invF (the inverse of f)',
    );
    expect(error.located).toMatch(/buildTimeChecks\.test\.ts:\d+ \(reduceByKeyAndWindow\)/);
  });

  it('refuses an incremental reduceByKeyAndWindow filter that is not a function', () => {
    // given the incremental form with a filter named by a string, as a job document names one
    const sum = (a: number, b: number) => a + b;
    const sub = (a: number, b: number) => a - b;
    const call = pairs().reduceByKeyAndWindow as (...args: unknown[]) => unknown;
    // when the stream is made, then it is refused rather than failing every batch
    const error = errorOf(() => call.call(pairs(), sum, sub, 2000, 1000, 2, 'nonZero'));
    expect(error.message).toBe(
      'the filter of reduceByKeyAndWindow must be a function of [key, value], got string',
    );
  });

  it('takes a good number of partitions', () => {
    expect(() =>
      pairs()
        .reduceByKey((a, b) => a + b, 3)
        .join(pairs(), 2)
        .repartition(4),
    ).not.toThrow();
  });

  for (const num of [-1, 2.5]) {
    it(`refuses print(${num}), as a job document's num is refused`, () => {
      // given print with a count of records it cannot show
      // when the output is made
      const error = errorOf(() => pairs().print(num));
      // then it is refused at num
      expect(error.problems[0]).toMatchObject({ field: 'num', value: num });
      expect(error.message).toMatch(`print shows a whole number of records, 0 or more, got ${num}`);
    });
  }

  it('takes print(0), as Spark does', () => {
    expect(() => pairs().print(0)).not.toThrow();
  });

  for (const [prefix, why] of [
    ['/tmp/counts', /must be relative to the output folder/],
    ['../counts', /climbs out of the output folder/],
  ] as const) {
    it(`refuses saveAsTextFiles('${prefix}'), as a job document's prefix is refused`, () => {
      // given a prefix that would write outside the output folder
      // when the output is made
      const error = errorOf(() => pairs().saveAsTextFiles(prefix));
      // then it is refused at the prefix, at this file's line
      expect(error.problems[0]).toMatchObject({ field: 'prefix', value: prefix });
      expect(error.message).toMatch(why);
      expect(error.located).toMatch(/buildTimeChecks\.test\.ts:\d+/);
    });
  }

  it("refuses saveAsTextFiles('counts', '../../x'), whose every batch wrote the folder x", () => {
    // given a suffix with a folder in it
    // when the output is made
    const error = errorOf(() => pairs().saveAsTextFiles('counts', '../../x'));
    // then it is refused at the suffix, at this file's line
    expect(error.problems[0]).toMatchObject({ field: 'suffix', value: '../../x' });
    expect(error.message).toMatch(/may not hold \/ or \\; put folders in the prefix/);
    expect(error.located).toMatch(/buildTimeChecks\.test\.ts:\d+/);
  });

  for (const [path, why] of [
    [
      '/tmp/counts.jsonl',
      'must be relative to the output folder (--out locally, outputs/ in the bucket on AWS), not absolute',
    ],
    ['../counts.jsonl', 'climbs out of the output folder'],
    ['', 'must name a file inside the output folder, not a folder'],
  ] as const) {
    it(`refuses jsonl({ path: '${path}' }), as a job document's path is refused`, () => {
      // given a path that would write outside the output folder (an absolute one wrote wherever it named)
      // when the output is made
      const error = errorOf(() => pairs().jsonl({ path }));
      // then it is refused at the path, in the job document's words, at this file's line
      expect(error.problems[0]).toMatchObject({ field: 'path', value: path });
      expect(error.message).toContain(`jsonl's path ${JSON.stringify(path)} ${why}`);
      expect(error.located).toMatch(/buildTimeChecks\.test\.ts:\d+/);
    });
  }

  it('takes a jsonl path inside the output folder, and none (standard output)', () => {
    expect(() => pairs().jsonl({ path: 'out/counts.jsonl' })).not.toThrow();
    expect(() => pairs().jsonl()).not.toThrow();
  });

  it('takes a prefix inside the output folder, and an empty one', () => {
    expect(() => pairs().saveAsTextFiles('counts/batch', 'txt')).not.toThrow();
    expect(() => pairs().saveAsTextFiles('')).not.toThrow();
  });
});
