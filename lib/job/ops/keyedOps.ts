import type { Dataset } from '../../dataset/Dataset';
import { zeroCopier } from '../../dataset/zeroValue';
import { type KeyedPairOp, keyedPairShape } from '../../executor/ValueShape';
import type { FnArgs } from '../JobDocument';
import { defineOp, type OpEntry, ref, withInputOp } from './OpEntry';

/** The ops on `[key, value]` records of each batch: they shuffle by key. */

export const groupByKey = defineOp<'groupByKey', { partitions?: number }>({
  name: 'groupByKey',
  description: 'Groups the values of each key, per batch: [key, [values]].',
  spark: '`[key, [values]]`',
  fields: { partitions: ref('partitions') },
  build: (node, op) => node.groupByKey(op.partitions),
});

export const reduceByKey = defineOp<'reduceByKey', { fn: string; args?: FnArgs; partitions?: number }>({
  name: 'reduceByKey',
  description: 'Combines the values of each key with a reducer, per batch.',
  spark: '`[key, reduced]`, combined on the map side first',
  fields: { fn: ref('reducer'), args: ref('args'), partitions: ref('partitions') },
  required: ['fn'],
  functionFields: { fn: 'reducer' },
  build: (node, op, ctx) => node.reduceByKey(ctx.named('fn'), op.partitions),
});

export const foldByKey = defineOp<
  'foldByKey',
  { zero: unknown; fn: string; args?: FnArgs; partitions?: number }
>({
  name: 'foldByKey',
  description: 'Folds the values of each key into a copy of a zero value with a reducer, per batch.',
  spark: "`[key, folded]`, each key folding into its own copy of `zero` (Spark's RDD `foldByKey`, per batch)",
  fields: { zero: ref('zero'), fn: ref('reducer'), args: ref('args'), partitions: ref('partitions') },
  required: ['zero', 'fn'],
  functionFields: { fn: 'reducer' },
  build: (node, op, ctx) => {
    // Spark's foldByKey: combineByKey(v => f(zero, v), f, f), the zero copied per key, as Dataset.foldByKey.
    const f = ctx.named('fn');
    const copyOfZero = zeroCopier(op.zero, 'foldByKey');
    return node.combineByKey((v: unknown) => f(copyOfZero(), v), f, f, op.partitions);
  },
});

/** Spark's `countByKey`, which Spark has on RDDs only, applied to every batch as `countByValue` is. */
export const countByKey = defineOp<'countByKey', { partitions?: number }>({
  name: 'countByKey',
  description: '[key, count] for every distinct key of the [key, value] records of each batch.',
  spark: "`[key, count]` per distinct key of the pairs (Spark's RDD `countByKey`, per batch)",
  fields: { partitions: ref('partitions') },
  build: (node, op) => node.mapValues(() => 1).reduceByKey((a: number, b: number) => a + b, op.partitions),
});

export interface AggregateByKeyFields {
  readonly zero: unknown;
  readonly seqOp: string;
  readonly combOp: string;
  readonly partitions?: number;
}

export const aggregateByKey = defineOp<'aggregateByKey', AggregateByKeyFields>({
  name: 'aggregateByKey',
  description:
    'Aggregates the values of each key into a copy of a zero value with seqOp, merging partial results with combOp, per batch.',
  spark:
    "`[key, aggregate]`: `seqOp` folds values into a copy of `zero`, `combOp` merges (Spark's RDD `aggregateByKey`, per batch)",
  fields: {
    zero: ref('zero'),
    seqOp: ref('mergeValue'),
    combOp: ref('mergeCombiners'),
    partitions: ref('partitions'),
  },
  required: ['zero', 'seqOp', 'combOp'],
  // seqOp's `(aggregate, value) => aggregate` has a reducer's shape, as combineByKey's mergeValue has.
  functionFields: { seqOp: 'reducer', combOp: 'reducer' },
  build: (node, op, ctx) => {
    const seqOp = ctx.named('seqOp');
    const copyOfZero = zeroCopier(op.zero, 'aggregateByKey');
    return node.combineByKey(
      (v: unknown) => seqOp(copyOfZero(), v),
      seqOp,
      ctx.named('combOp'),
      op.partitions,
    );
  },
});

export interface CombineByKeyFields {
  readonly createCombiner: string;
  readonly mergeValue: string;
  readonly mergeCombiners: string;
  readonly partitions?: number;
  /** Combine values before the shuffle. Default true. */
  readonly mapSideCombine?: boolean;
}

export const combineByKey = defineOp<'combineByKey', CombineByKeyFields>({
  name: 'combineByKey',
  description: "Spark's combineByKey, per batch, with three registered functions.",
  spark: "Spark's combineByKey",
  fields: {
    createCombiner: ref('createCombiner'),
    mergeValue: ref('mergeValue'),
    mergeCombiners: ref('mergeCombiners'),
    partitions: ref('partitions'),
    mapSideCombine: ref('mapSideCombine'),
  },
  required: ['createCombiner', 'mergeValue', 'mergeCombiners'],
  fieldNotes: { mapSideCombine: 'default true' },
  // mergeValue's `(combiner, value) => combiner` has a reducer's shape: Spark's reduceByKey(f) is
  // combineByKey(identity, f, f).
  functionFields: { createCombiner: 'record', mergeValue: 'reducer', mergeCombiners: 'reducer' },
  build: (node, op, ctx) =>
    node.combineByKey(
      ctx.named('createCombiner'),
      ctx.named('mergeValue'),
      ctx.named('mergeCombiners'),
      op.partitions,
      op.mapSideCombine,
    ),
});

/** A join or cogroup with another stream (batch by batch) or a static dataset (with every batch). */
function joinOp<Name extends KeyedPairOp>(
  name: Name,
  description: string,
  spark: string,
): OpEntry<Name, { with: string; partitions?: number }> {
  return withInputOp(name, description, spark, {
    stream: (node, other, partitions) => (node as any)[name](other, partitions), // any: the five share one signature, their `this` types differ
    dataset: (ds, other, partitions): Dataset<any> =>
      name === 'cogroup'
        ? ds.cogroup([other], partitions)
        : ds[name as Exclude<KeyedPairOp, 'cogroup'>](other, partitions),
    valueShape: (mine) => keyedPairShape(name, mine, 'plain'),
  });
}

/** The README's one row for the four joins. */
const JOINED =
  "`[key, [v, w]]`; a missing side is `null` (Spark's `None`), which `print` shows as `None`, a present one as `Some(w)`";

export const join = joinOp('join', 'Inner join by key with another keyed input: [key, [v, w]].', JOINED);

export const leftOuterJoin = joinOp(
  'leftOuterJoin',
  'Left outer join by key: [key, [v, w or null]].',
  JOINED,
);

export const rightOuterJoin = joinOp(
  'rightOuterJoin',
  'Right outer join by key: [key, [v or null, w]].',
  JOINED,
);

export const fullOuterJoin = joinOp(
  'fullOuterJoin',
  'Full outer join by key: a missing value on either side is null.',
  JOINED,
);

export const subtractByKey = joinOp(
  'subtractByKey',
  'The pairs whose key the other input does not have: [key, v].',
  "`[key, v]` for each pair whose key `with` lacks (Spark's RDD `subtractByKey`, per batch): the spam filter's join and filter in one op",
);

export const cogroup = joinOp(
  'cogroup',
  'Groups both inputs by key: [key, [values of this, values of the other]].',
  '`[key, [[vs], [ws]]]`',
);

/** The keyed ops, in the schema's order. */
export const KEYED_OPS = [
  groupByKey,
  reduceByKey,
  foldByKey,
  countByKey,
  aggregateByKey,
  combineByKey,
  join,
  leftOuterJoin,
  rightOuterJoin,
  fullOuterJoin,
  subtractByKey,
  cogroup,
] as const;
