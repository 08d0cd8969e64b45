import { defineOp, type OpChecks, ref } from './OpEntry';

/**
 * The window ops. Each has `windowMs`, and its `slideMs` becomes the slide of its result; the validator checks
 * both against the input's slide for every op marked `window`.
 */

/** A window's length and slide, both multiples of the input's slide (the batch interval unless windowed). */
export interface WindowFields {
  /** The window's length in ms. */
  readonly windowMs: number;
  /** How often a window is computed, in ms. Default (where optional): the input's slide. */
  readonly slideMs?: number;
}

const windowFields = { windowMs: ref('windowMs'), slideMs: ref('slideMs') };

export const window = defineOp<'window', WindowFields>({
  name: 'window',
  description: 'The records of each window: the batches in (t − windowMs, t], every slideMs.',
  spark: 'the records of the batches in (t − window, t]',
  fields: windowFields,
  required: ['windowMs'],
  build: (node, op) => node.window(op.windowMs, op.slideMs),
});

export const countByWindow = defineOp<'countByWindow', WindowFields & { slideMs: number }>({
  name: 'countByWindow',
  description: 'One record per window: the number of records in it, computed incrementally.',
  spark: 'number of records per window (incremental)',
  fields: { windowMs: ref('windowMs'), slideMs: ref('slideMsRequired') },
  required: ['windowMs', 'slideMs'],
  build: (node, op) => node.countByWindow(op.windowMs, op.slideMs),
});

export interface ReduceByWindowFields extends WindowFields {
  /** A reducer's name. */
  readonly fn: string;
  /** The inverse reducer's name (`subtract` for `sum`); makes the op incremental. */
  readonly invFn?: string;
  readonly slideMs: number;
}

export const reduceByWindow = defineOp<'reduceByWindow', ReduceByWindowFields>({
  name: 'reduceByWindow',
  description:
    'All records of the window combined with the reducer fn: none for a window without records. Incremental with invFn, and then, as in Spark, once a record was seen, a window without records gives what invFn left (0 for a sum).',
  spark: 'all records of the window combined with `fn`; incremental with `invFn`',
  fields: {
    fn: ref('reducer'),
    invFn: ref('invFn'),
    windowMs: ref('windowMs'),
    slideMs: ref('slideMsRequired'),
  },
  required: ['fn', 'windowMs', 'slideMs'],
  functionFields: { fn: 'reducer', invFn: 'reducer' },
  validate: (op, check) => checkWindowFilter(op, check),
  build: (node, op, ctx) => {
    const f = ctx.named('fn');
    if (op.invFn === undefined) return node.reduceByWindow(f, op.windowMs, op.slideMs);
    return node.reduceByWindow(f, ctx.named('invFn'), op.windowMs, op.slideMs);
  },
});

export interface ReduceByKeyAndWindowFields extends WindowFields {
  readonly fn: string;
  readonly invFn?: string;
  readonly partitions?: number;
  /** Incremental form only: a registered predicate on `[key, value]`; pairs it rejects are dropped. */
  readonly filter?: string;
  /** Incremental form only: the same predicate as a JSONata expression on `[key, value]`. */
  readonly filterExpr?: string;
}

export const reduceByKeyAndWindow = defineOp<'reduceByKeyAndWindow', ReduceByKeyAndWindowFields>({
  name: 'reduceByKeyAndWindow',
  description:
    'The values of each key combined with the reducer fn over each window: [key, reduced]. With invFn, incremental; keys whose value went back to zero then stay until filter or filterExpr drops them.',
  spark:
    '`[key, reduced]` per window; with `invFn` it is incremental, and `filter` / `filterExpr` (a JSONata predicate on `[key, value]`) drop pairs, allowed only with `invFn`',
  fields: {
    fn: ref('reducer'),
    invFn: ref('invFn'),
    ...windowFields,
    partitions: ref('partitions'),
    filter: ref('windowFilter'),
    filterExpr: ref('windowFilterExpr'),
  },
  required: ['fn', 'windowMs'],
  fieldNotes: { filterExpr: 'or `filter`, not both' },
  functionFields: { fn: 'reducer', invFn: 'reducer', filter: 'record' },
  validate: (op, check) => checkWindowFilter(op, check),
  build: (node, op, ctx) => {
    const f = ctx.named('fn');
    if (op.invFn === undefined) return node.reduceByKeyAndWindow(f, op.windowMs, op.slideMs, op.partitions);
    const filter =
      op.filterExpr !== undefined
        ? ctx.expression('filterExpr', 'filter')
        : op.filter !== undefined
          ? ctx.named('filter')
          : undefined;
    return node.reduceByKeyAndWindow(f, ctx.named('invFn'), op.windowMs, op.slideMs, op.partitions, filter);
  },
});

export const countByValueAndWindow = defineOp<
  'countByValueAndWindow',
  WindowFields & { partitions?: number }
>({
  name: 'countByValueAndWindow',
  description:
    '[value, count] over each window, computed incrementally; values whose count drops to zero are removed.',
  spark: '`[value, count]` per window, incremental; zero counts are dropped',
  fields: { ...windowFields, partitions: ref('partitions') },
  required: ['windowMs'],
  build: (node, op) => node.countByValueAndWindow(op.windowMs, op.slideMs, op.partitions),
});

export const groupByKeyAndWindow = defineOp<'groupByKeyAndWindow', WindowFields & { partitions?: number }>({
  name: 'groupByKeyAndWindow',
  description: 'The values of each key over each window: [key, [values]].',
  spark: '`[key, [values]]` per window',
  fields: { ...windowFields, partitions: ref('partitions') },
  required: ['windowMs'],
  build: (node, op) => node.groupByKeyAndWindow(op.windowMs, op.slideMs, op.partitions),
});

/**
 * reduceByWindow, reduceByKeyAndWindow: a filter only with invFn, given one way. It reads the fields as found, as
 * the schema may have rejected some (a filter on reduceByWindow).
 */
function checkWindowFilter(op: object, check: OpChecks): void {
  const fields = op as Record<string, unknown>;
  if (fields.filter !== undefined && fields.filterExpr !== undefined) {
    check.report(
      undefined,
      `op "${fields.op}" takes either filter (a function name) or filterExpr (a JSONata expression), not both`,
      op,
    );
  }
  for (const field of ['filter', 'filterExpr'] as const) {
    if (fields[field] === undefined || fields.invFn !== undefined) continue;
    check.report(
      field,
      `${field} applies to the incremental form only, which needs invFn (the inverse of fn, such as "subtract" for "sum")`,
      fields[field],
    );
  }
  check.expression('filterExpr');
}

/** The window ops, in the schema's order. */
export const WINDOW_OPS = [
  window,
  countByWindow,
  reduceByWindow,
  reduceByKeyAndWindow,
  countByValueAndWindow,
  groupByKeyAndWindow,
] as const;
