import type { Partitioning } from '../dataset/DatasetOps';
import { ambientOpOrigin } from '../dataset/OpOrigin';
import { HashPartitioner } from '../dataset/Partitioner';
import { StreamGraphError } from '../errors';
import type { DStream } from './DStream';

/**
 * Refuses, while the graph is built, a number of partitions that no partitioner takes. A keyed op makes its
 * partitioner only when a batch runs, so `reduceByKey(f, -2)` passed `sluice validate` and failed the first
 * batch that had records; Spark's `HashPartitioner` refuses it when the op is called.
 */
export function checkPartitioning(stream: DStream<any>, partitioning: Partitioning | undefined): void {
  if (partitioning === undefined || partitioning instanceof HashPartitioner) return;
  if (Number.isInteger(partitioning) && partitioning >= 1) return;
  const message = `number of partitions must be a positive whole number, got ${String(partitioning)}`;
  throw new StreamGraphError(message, ambientOpOrigin() ?? stream.origin, [
    { field: 'partitions', message, value: partitioning },
  ]);
}
