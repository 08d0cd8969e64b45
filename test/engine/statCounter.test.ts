import { describe, expect, it } from 'vitest';
import { StatCounter } from '../../lib/dataset/StatCounter';

const counterOf = (values: number[]) => values.reduce((c, v) => c.add(v), new StatCounter());

describe('StatCounter, as Spark keeps the statistics of numbers', () => {
  it('merges counters of parts into what one pass over the whole gives', () => {
    // given numbers split unevenly (one part tenfold the other, as the merge treats apart) and an empty part
    const values = Array.from({ length: 230 }, (_, i) => 1e6 + ((i * 37) % 101) / 7);
    const whole = counterOf(values);
    // when the parts' counters merge, in either order, through the numbers a task sends
    const parts = [values.slice(0, 11), values.slice(11, 200), [], values.slice(200)].map((p) =>
      StatCounter.fromParts(counterOf(p).toParts()),
    );
    const merged = parts.reduce((a, b) => a.merge(b), new StatCounter());
    const reversed = [...parts].reverse().reduce((a, b) => a.merge(b), new StatCounter());
    // then count, mean, variance, max and min agree with the single pass
    for (const c of [merged, reversed]) {
      expect(c.count).toBe(230);
      expect(c.mean).toBeCloseTo(whole.mean, 9);
      expect(c.variance).toBeCloseTo(whole.variance, 6);
      expect(c.sampleStdev).toBeCloseTo(whole.sampleStdev, 6);
      expect([c.max, c.min]).toEqual([whole.max, whole.min]);
    }
  });

  it('gives what Spark gives for none and for one number, and writes itself as Spark does', () => {
    const none = new StatCounter();
    expect([none.count, none.mean, none.sum, none.max, none.min]).toEqual([0, 0, 0, -Infinity, Infinity]);
    expect([none.variance, none.sampleVariance]).toEqual([Number.NaN, Number.NaN]);
    const one = counterOf([3]);
    expect([one.variance, one.stdev, one.sampleVariance]).toEqual([0, 0, Number.NaN]);
    expect(JSON.parse(JSON.stringify(counterOf([2, 4])))).toEqual({
      count: 2,
      mean: 3,
      sum: 6,
      max: 4,
      min: 2,
      variance: 1,
      stdev: 1,
      sampleVariance: 2,
      sampleStdev: Math.SQRT2,
    });
    expect(String(counterOf([1, 2, 3]))).toBe(
      '(count: 3, mean: 2.000000, stdev: 0.816497, max: 3.000000, min: 1.000000)',
    );
  });
});
