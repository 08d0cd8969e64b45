import type { Dataset } from '../../lib/dataset/Dataset';
import type { DStream } from '../../lib/dstream/DStream';
import { defineJob, type JobModule } from '../../lib/job/JobModule';
import type { StreamingContextOptions } from '../../lib/StreamingContext';

/** A Spark-style operator test: input batches, an operation, and the expected output batches. */
export interface OperatorCase extends JobModule {
  /** The output batches the operation must produce, one list per batch. */
  readonly expected: readonly (readonly unknown[])[];
  /** Compare records in order (glom, print order); by default each batch is compared as a multiset. */
  readonly ordered: boolean;
}

/** Builds a one-input case: `input` feeds a queue stream with `partitions` partitions. */
export function operatorCase<T, U>(spec: {
  input: T[][];
  operation: (stream: DStream<T>) => DStream<U>;
  expected: NoInfer<U>[][];
  partitions?: number;
  ordered?: boolean;
  options?: Partial<StreamingContextOptions>;
}): OperatorCase {
  const job = defineJob({ batchIntervalMs: 1000, defaultPartitions: 2, ...spec.options }, (ssc) => {
    spec.operation(ssc.queueStream(spec.input, { partitions: spec.partitions ?? 2 })).collectBatches('out');
  });
  return { ...job, expected: spec.expected, ordered: spec.ordered ?? false };
}

/**
 * Builds a case for an action, which runs inside `foreachRDD`: `action` gets each batch's dataset, and what it
 * returns (a list of records, or one value, which becomes a batch of one record) is the batch's output.
 */
export function actionCase<T>(spec: {
  input: T[][];
  action: (dataset: Dataset<T>, batchTime: number) => Promise<unknown>;
  expected: unknown[][];
  partitions?: number;
  ordered?: boolean;
}): OperatorCase {
  const job = defineJob({ batchIntervalMs: 1000, defaultPartitions: 2 }, (ssc) => {
    ssc.queueStream(spec.input, { partitions: spec.partitions ?? 2 }).foreachRDD(async (ds, batchTime) => {
      const result = await spec.action(ds, batchTime);
      const records = Array.isArray(result) ? result : [result];
      ssc.emitOutput({ output: 'out', type: 'foreachRDD', batchTime, records, count: records.length });
    }, 'out');
  });
  return { ...job, expected: spec.expected, ordered: spec.ordered ?? false };
}

/** Builds a two-input case, for union, joins, cogroup and transformWith. */
export function twoInputCase<T, S, U>(spec: {
  input1: T[][];
  input2: S[][];
  operation: (a: DStream<T>, b: DStream<S>) => DStream<U>;
  expected: NoInfer<U>[][];
  ordered?: boolean;
}): OperatorCase {
  const job = defineJob({ batchIntervalMs: 1000, defaultPartitions: 2 }, (ssc) => {
    spec.operation(ssc.queueStream(spec.input1), ssc.queueStream(spec.input2)).collectBatches('out');
  });
  return { ...job, expected: spec.expected, ordered: spec.ordered ?? false };
}

/** A canonical text form, so batches compare as multisets of records whatever the partition order. */
function canonical(record: unknown): string {
  return JSON.stringify(record, (_k, v) => (v instanceof Object && !Array.isArray(v) ? sortKeys(v) : v));
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * Throws when the actual output batches differ from the expected ones: the batch count, then each batch in
 * order (ordered) or as a multiset, with a message that shows the first differing batch.
 */
export function assertBatches(
  actual: readonly (readonly unknown[])[],
  expected: readonly (readonly unknown[])[],
  ordered: boolean,
): void {
  if (actual.length !== expected.length) {
    throw new Error(
      `expected ${expected.length} output batches, got ${actual.length}: ${JSON.stringify(actual)}`,
    );
  }
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!.map(canonical);
    const e = expected[i]!.map(canonical);
    if (!ordered) {
      a.sort();
      e.sort();
    }
    if (a.length !== e.length || a.some((x, j) => x !== e[j])) {
      throw new Error(
        `batch ${i + 1} differs:\n  expected ${JSON.stringify(expected[i])}\n  actual   ${JSON.stringify(actual[i])}`,
      );
    }
  }
}
