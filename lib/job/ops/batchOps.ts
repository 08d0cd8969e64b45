import type { FnArgs } from '../JobDocument';
import { defineOp, ref, withInputOp } from './OpEntry';

/** The ops on whole batches: combining inputs, repartitioning, counting and reducing, and `transform`. */

export const union = defineOp<'union', { with: string | readonly string[] }>({
  name: 'union',
  description: 'The records of this stream and of the others named in `with`.',
  spark: 'all streams must share the slide interval',
  fields: { with: ref('unionWith') },
  fieldNotes: { with: 'a name or a list of names' },
  required: ['with'],
  build: (node, op, ctx) => {
    const names = typeof op.with === 'string' ? [op.with] : [...op.with];
    const streams = names.filter((n) => !ctx.isDataset(n)).map((n) => ctx.stream(n));
    const datasets = names.filter((n) => ctx.isDataset(n)).map((n) => ctx.dataset(n));
    const unioned = streams.length > 0 ? node.union(...streams) : node;
    return datasets.length > 0 ? unioned.transform((ds) => ds.union(...datasets)) : unioned;
  },
});

export const repartition = defineOp<'repartition', { partitions: number }>({
  name: 'repartition',
  description: 'Spreads each batch evenly over `partitions` partitions (a shuffle).',
  spark: 'a shuffle that spreads records evenly',
  fields: { partitions: ref('partitionsRequired') },
  required: ['partitions'],
  build: (node, op) => node.repartition(op.partitions),
});

export const count = defineOp<'count', {}>({
  name: 'count',
  description: 'One record per batch: the number of records (0 for an empty batch).',
  spark: 'one record per batch; an empty batch gives `0`',
  fields: {},
  build: (node) => node.count(),
});

export const reduce = defineOp<'reduce', { fn: string; args?: FnArgs }>({
  name: 'reduce',
  description: 'One record per non-empty batch: every record combined with a reducer.',
  spark: 'one record per non-empty batch',
  fields: { fn: ref('reducer'), args: ref('args') },
  required: ['fn'],
  functionFields: { fn: 'reducer' },
  build: (node, _op, ctx) => node.reduce(ctx.named('fn')),
});

export const countByValue = defineOp<'countByValue', { partitions?: number }>({
  name: 'countByValue',
  description: '[value, count] for every distinct record of each batch.',
  spark: '`[value, count]` per distinct value',
  fields: { partitions: ref('partitions') },
  build: (node, op) => node.countByValue(op.partitions),
});

/** Spark's RDD `distinct`, which a Spark job calls in `transform`, applied to every batch as `countByKey` is. */
export const distinct = defineOp<'distinct', { partitions?: number }>({
  name: 'distinct',
  description: 'The distinct records of each batch, compared by value (a shuffle).',
  spark: "each batch's distinct records, compared by value as keys are (Spark's RDD `distinct`, per batch)",
  fields: { partitions: ref('partitions') },
  // The job's defaultPartitions unless the op names its own, as every JSON op's `partitions` (not Spark's RDD default).
  build: (node, op) => node.transform((ds) => ds.distinct(op.partitions ?? node.ssc.defaultPartitions)),
});

/** Spark's RDD set ops, per batch: with a stream batch by batch, with a static dataset every batch. */
function setOp<Name extends 'subtract' | 'intersection'>(name: Name, description: string, spark: string) {
  return withInputOp(name, description, spark, {
    stream: (node, other, partitions) =>
      node.transformWith(other, (mine, theirs) => mine[name](theirs, partitions)),
    dataset: (ds, other, partitions) => ds[name](other, partitions),
  });
}

export const subtract = setOp(
  'subtract',
  'The records the other input lacks, compared by value, every copy kept.',
  "each record `with` lacks, compared by value, every copy kept (Spark's RDD `subtract`, per batch)",
);

export const intersection = setOp(
  'intersection',
  'The distinct records both inputs have, compared by value.',
  "the distinct records both have, compared by value (Spark's RDD `intersection`, per batch)",
);

export const transform = defineOp<'transform', { fn: string; args?: FnArgs }>({
  name: 'transform',
  description:
    'A registered dataset-to-dataset function (dataset, batchTime) => dataset, applied every batch.',
  spark: 'a function you register: `(dataset, batchTime) => dataset`',
  fields: { fn: ref('transformFn'), args: ref('args') },
  required: ['fn'],
  functionFields: { fn: 'transform' },
  build: (node, _op, ctx) => node.transform(ctx.named('fn')),
});

export const transformWith = defineOp<'transformWith', { with: string; fn: string; args?: FnArgs }>({
  name: 'transformWith',
  description:
    "A registered function (mine, theirs, batchTime) => dataset of this stream's and another input's datasets.",
  spark: '`(mine, theirs, batchTime) => dataset`',
  fields: { with: ref('withRef'), fn: ref('transformFn'), args: ref('args') },
  required: ['with', 'fn'],
  functionFields: { fn: 'transformWith' },
  build: (node, op, ctx) => {
    const fn = ctx.named('fn');
    if (!ctx.isDataset(op.with)) return node.transformWith(ctx.stream(op.with), fn);
    // A static dataset is handed to every batch, as Spark's spam filter joins a stream with an RDD in transform.
    const dataset = ctx.dataset(op.with);
    return node.transform((ds, batchTime) => fn(ds, dataset, batchTime));
  },
});

/** The batch ops, in the schema's order. */
export const BATCH_OPS = [
  union,
  repartition,
  count,
  reduce,
  countByValue,
  distinct,
  subtract,
  intersection,
  transform,
  transformWith,
] as const;
