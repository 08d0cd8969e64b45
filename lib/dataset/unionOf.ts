import type { Dataset } from './Dataset';

/** The union of `datasets` (Spark's `SparkContext.union`): the dataset itself when there is one; none of none. */
export function unionOf<T>(datasets: readonly Dataset<T>[]): Dataset<T> | undefined {
  const [first, ...rest] = datasets;
  return first && rest.length > 0 ? first.union(...rest) : first;
}
