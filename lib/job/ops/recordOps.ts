import type { JobFunction } from '../builtinFunctions';
import type { FnArgs } from '../JobDocument';
import { defineOp, type OpEntry, ref } from './OpEntry';

/**
 * The record-level ops: one record (or one partition) at a time, no shuffle. All but sortBy also apply to static
 * datasets, which are recomputed with every batch.
 */

/** The fields of an op whose function is a registry name (`fn`, `args`) or an inline JSONata `expr`. */
export interface RecordFnFields {
  readonly fn?: string;
  readonly args?: FnArgs;
  readonly expr?: string;
}

const recordFnFields = { fn: ref('fn'), args: ref('args'), expr: ref('expr') };

/** An op that calls the stream's (and the dataset's) method of the same name with the record function. */
function recordFnOp<Name extends 'map' | 'flatMap' | 'filter' | 'mapValues' | 'flatMapValues'>(
  name: Name,
  description: string,
  spark: string,
): OpEntry<Name, RecordFnFields> {
  return defineOp<Name, RecordFnFields>({
    name,
    description,
    spark,
    fields: recordFnFields,
    expression: true,
    build: (node, _op, ctx) => (node as any)[name](ctx.recordFunction()), // any: the five share one shape, not one generic signature
    buildDataset: (dataset, _op, ctx) => (dataset as any)[name](ctx.recordFunction()), // any: as above
  });
}

/** The README's one row for map, flatMap and filter. */
const PER_RECORD = 'per record';

export const map = recordFnOp('map', 'Applies a function to every record.', PER_RECORD);

export const flatMap = recordFnOp(
  'flatMap',
  'Applies a function to every record and flattens the resulting lists.',
  PER_RECORD,
);

export const filter = recordFnOp('filter', 'Keeps the records for which the function is truthy.', PER_RECORD);

export const mapPartitions = defineOp<'mapPartitions', { fn: string; args?: FnArgs }>({
  name: 'mapPartitions',
  description: 'Applies a registered function (records, partition) => records to each whole partition.',
  spark: '`(records, partition) => records` per partition',
  fields: { fn: ref('partitionFn'), args: ref('args') },
  required: ['fn'],
  functionFields: { fn: 'partition' },
  build: (node, _op, ctx) => node.mapPartitions(ctx.named('fn')),
  buildDataset: (dataset, _op, ctx) => dataset.mapPartitions(ctx.named('fn')),
});

export const glom = defineOp<'glom', {}>({
  name: 'glom',
  description: 'Turns each partition into one record: the array of its records.',
  spark: 'each partition becomes one array record',
  fields: {},
  build: (node) => node.glom(),
  buildDataset: (dataset) => dataset.glom(),
});

export const keyBy = defineOp<'keyBy', RecordFnFields>({
  name: 'keyBy',
  description: 'Turns every record into the pair [f(record), record].',
  spark: '`[f(record), record]`',
  fields: recordFnFields,
  expression: true,
  build: (node, _op, ctx) => node.map(keyedBy(ctx.recordFunction())),
  buildDataset: (dataset, _op, ctx) => dataset.map(keyedBy(ctx.recordFunction())),
});

/** The README's one row for mapValues and flatMapValues. */
const ON_VALUES = 'on the value of each pair';

export const mapValues = recordFnOp(
  'mapValues',
  'Applies a function to the value of every [key, value] record.',
  ON_VALUES,
);

export const flatMapValues = recordFnOp(
  'flatMapValues',
  'Applies a function to the value of every [key, value] record; one record per resulting value.',
  ON_VALUES,
);

export const sortBy = defineOp<'sortBy', RecordFnFields & { ascending?: boolean }>({
  name: 'sortBy',
  description: 'Orders each batch by a key (fn or expr), in one partition: for printing a top N.',
  spark:
    "each batch ordered by the key, in one partition (for printing a top N); keys of mixed kinds order null, booleans, numbers, strings, arrays, objects (where Spark's `Ordering` would fail), and a record whose key fails is a dead letter",
  fields: {
    ...recordFnFields,
    ascending: { type: 'boolean', description: 'Ascending order. Default true.' },
  },
  fieldNotes: { ascending: 'default true' },
  expression: true,
  build: (node, op, ctx) => node.sortBy(ctx.recordFunction(), op.ascending ?? true),
});

/** `[f(record), record]`, awaiting `f` when it returns a promise (an expression does). */
function keyedBy(f: JobFunction): JobFunction {
  return (record: unknown) => {
    const key = f(record);
    return key instanceof Promise ? key.then((k) => [k ?? null, record]) : [key ?? null, record];
  };
}

/**
 * The ops a static dataset accepts: record-level ones only, as a static dataset is recomputed with every batch.
 * Each has `buildDataset`.
 */
export const DATASET_OPS = [
  map,
  flatMap,
  filter,
  mapPartitions,
  glom,
  keyBy,
  mapValues,
  flatMapValues,
] as const;

/** The record ops, in the schema's order: the dataset ops, then `sortBy` (a stream's alone). */
export const RECORD_OPS = [...DATASET_OPS, sortBy] as const;
