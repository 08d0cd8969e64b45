/**
 * Spark's `DoubleRDDFunctions`, the actions of a dataset of numbers: `sum`, `stats` and what `stats` holds
 * (`mean`, `variance`, `stdev`, `sampleVariance`, `sampleStdev`). Each partition is reduced in its task by a
 * built-in function, so the stage runs on the workers even in a `foreachRDD` body, and only one value (or one
 * counter) per partition reaches the driver.
 */

import { Dataset } from './Dataset';
import { defineMethod } from './defineMethod';
import { fromJsonNumber, type JsonNumber } from './jsonNumber';
import { StatCounter, type StatParts } from './StatCounter';

declare module './Dataset' {
  interface Dataset<T> {
    /**
     * The sum of the records (an action; Spark's `sum`): 0 for none. A record that is not a finite number is a
     * dead letter.
     */
    sum(this: Dataset<number>): Promise<number>;
    /**
     * The count, mean, variance, max and min of the records in one pass (an action; Spark's `stats`), as a
     * {@link StatCounter}. A record that is not a finite number is a dead letter.
     */
    stats(this: Dataset<number>): Promise<StatCounter>;
    /** The mean of the records (an action; `stats().mean`): 0 for none, as Spark's. */
    mean(this: Dataset<number>): Promise<number>;
    /** The population variance (an action; `stats().variance`): NaN for none. */
    variance(this: Dataset<number>): Promise<number>;
    /** The population standard deviation (an action; `stats().stdev`). */
    stdev(this: Dataset<number>): Promise<number>;
    /** The sample variance, divided by n - 1 (an action; `stats().sampleVariance`): NaN for fewer than two. */
    sampleVariance(this: Dataset<number>): Promise<number>;
    /** The sample standard deviation (an action; `stats().sampleStdev`). */
    sampleStdev(this: Dataset<number>): Promise<number>;
  }
}

const define = (name: string, method: (this: Dataset<number>, ...args: any[]) => unknown) =>
  defineMethod(Dataset.prototype, name, method);

define('sum', async function (this: Dataset<number>) {
  const sums = (await this.mapPartitions({ fnId: 'builtin:partitionSum' }).collect()) as JsonNumber[];
  return sums.reduce<number>((a, b) => a + fromJsonNumber(b), 0);
});

async function statsOf(ds: Dataset<number>): Promise<StatCounter> {
  const parts = (await ds.mapPartitions({ fnId: 'builtin:partitionStats' }).collect()) as StatParts[];
  return parts.reduce((counter, p) => counter.merge(StatCounter.fromParts(p)), new StatCounter());
}

define('stats', function (this: Dataset<number>) {
  return statsOf(this);
});

for (const name of ['mean', 'variance', 'stdev', 'sampleVariance', 'sampleStdev'] as const) {
  define(name, async function (this: Dataset<number>) {
    return (await statsOf(this))[name];
  });
}
