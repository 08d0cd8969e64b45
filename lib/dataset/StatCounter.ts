import { fromJsonNumber, type JsonNumber, toJsonNumber } from './jsonNumber';

/**
 * The count, mean and variance of a set of numbers, kept as Spark's `StatCounter` keeps them (Welford's running
 * update, Chan's merge of two counters), so the partitions' counters merge in the driver without a second pass
 * and without the loss of precision that a sum of squares would have. What `stats()` returns.
 */
export class StatCounter {
  private n = 0;
  private mu = 0;
  /** The sum of squared differences from the mean. */
  private m2 = 0;
  private maxValue = Number.NEGATIVE_INFINITY;
  private minValue = Number.POSITIVE_INFINITY;

  /** Adds one number. */
  add(value: number): this {
    const delta = value - this.mu;
    this.n += 1;
    this.mu += delta / this.n;
    this.m2 += delta * (value - this.mu);
    this.maxValue = Math.max(this.maxValue, value);
    this.minValue = Math.min(this.minValue, value);
    return this;
  }

  /** Adds the numbers another counter saw. */
  merge(other: StatCounter): this {
    if (other.n === 0) return this;
    if (this.n === 0) {
      [this.n, this.mu, this.m2, this.maxValue, this.minValue] = other.numbers();
      return this;
    }
    const n = this.n + other.n;
    const delta = other.mu - this.mu;
    // As Spark's: the mean moved from the larger side when the sides differ tenfold, which keeps its precision.
    if (other.n * 10 < this.n) this.mu += (delta * other.n) / n;
    else if (this.n * 10 < other.n) this.mu = other.mu - (delta * this.n) / n;
    else this.mu = (this.mu * this.n + other.mu * other.n) / n;
    this.m2 += other.m2 + (delta * delta * this.n * other.n) / n;
    this.n = n;
    this.maxValue = Math.max(this.maxValue, other.maxValue);
    this.minValue = Math.min(this.minValue, other.minValue);
    return this;
  }

  get count(): number {
    return this.n;
  }

  /** The mean; 0 for no numbers, as Spark's. */
  get mean(): number {
    return this.mu;
  }

  get sum(): number {
    return this.n * this.mu;
  }

  /** The largest number; -Infinity for none, as Spark's. */
  get max(): number {
    return this.maxValue;
  }

  /** The smallest number; Infinity for none, as Spark's. */
  get min(): number {
    return this.minValue;
  }

  /** The population variance; NaN for no numbers. */
  get variance(): number {
    return this.n === 0 ? Number.NaN : this.m2 / this.n;
  }

  /** The sample variance (divided by n - 1); NaN for fewer than two numbers. */
  get sampleVariance(): number {
    return this.n <= 1 ? Number.NaN : this.m2 / (this.n - 1);
  }

  /** The population standard deviation. */
  get stdev(): number {
    return Math.sqrt(this.variance);
  }

  /** The sample standard deviation. */
  get sampleStdev(): number {
    return Math.sqrt(this.sampleVariance);
  }

  /** As Spark's: `(count: 3, mean: 2.000000, stdev: 0.816497, max: 3.000000, min: 1.000000)`. */
  toString(): string {
    const f = (v: number) => (Number.isFinite(v) ? v.toFixed(6) : String(v));
    return `(count: ${this.n}, mean: ${f(this.mean)}, stdev: ${f(this.stdev)}, max: ${f(this.max)}, min: ${f(this.min)})`;
  }

  /**
   * What `JSON.stringify` writes (a `foreachRDD` sending its stats to a sink): the statistics, not the running
   * fields; an infinity or NaN is null there, as JSON has neither.
   */
  toJSON(): Record<string, number> {
    const { count, mean, sum, max, min, variance, stdev, sampleVariance, sampleStdev } = this;
    return { count, mean, sum, max, min, variance, stdev, sampleVariance, sampleStdev };
  }

  /**
   * The counter as a task's result carries it to the driver (as JSON on Lambda): a mean or m2 that overflowed, as
   * Spark's does with huge numbers, travels by name (see `toJsonNumber`).
   */
  toParts(): StatParts {
    return this.numbers().map(toJsonNumber) as StatParts;
  }

  private numbers(): StatNumbers {
    return [this.n, this.mu, this.m2, this.maxValue, this.minValue];
  }

  /** The counter `toParts` gave. */
  static fromParts(parts: StatParts): StatCounter {
    const counter = new StatCounter();
    [counter.n, counter.mu, counter.m2, counter.maxValue, counter.minValue] = parts.map(
      fromJsonNumber,
    ) as StatNumbers; // a map keeps the tuple's length
    return counter;
  }
}

type StatNumbers = [number, number, number, number, number];

/** A counter's count, mean, m2, max and min, as a task returns it. */
export type StatParts = [JsonNumber, JsonNumber, JsonNumber, JsonNumber, JsonNumber];
