import { MapWithStateDStream } from '../../dstream/MapWithStateDStream';
import { sessionCount } from '../builtinFunctions';
import { defineOp, ref } from './OpEntry';

/** The stateful ops: a state per key carried from batch to batch, checkpointed. */

export interface UpdateStateByKeyFields {
  /** An update function's name: `(values, state) => state | undefined | null` (`countState`, `sumState`). */
  readonly fn: string;
  readonly partitions?: number;
  /** The name of a static dataset of `[key, state]` pairs: the state before the first batch. */
  readonly initialState?: string;
  /** Call the function with `{ key, batchTime }` as a third argument. Default false. */
  readonly timeAware?: boolean;
}

export const updateStateByKey = defineOp<'updateStateByKey', UpdateStateByKeyFields>({
  name: 'updateStateByKey',
  description:
    'A state per key across batches: every batch, fn(values, state) for every key with state or new values; the stream is [key, state] for every key.',
  spark: '`[key, state]` for every key, every batch',
  fields: {
    fn: ref('updateFn'),
    partitions: ref('partitions'),
    initialState: ref('initialState'),
    timeAware: ref('timeAware'),
  },
  required: ['fn'],
  fieldNotes: { initialState: 'a dataset of `[key, state]`' },
  functionFields: { fn: 'update' },
  validate: (_op, check) => check.datasetName('initialState'),
  build: (node, op, ctx) => {
    const fn = ctx.named('fn');
    const options = {
      partitions: op.partitions,
      initialState: op.initialState === undefined ? undefined : ctx.dataset(op.initialState),
    };
    return op.timeAware === true
      ? node.updateStateByKey(fn, { ...options, timeAware: true })
      : node.updateStateByKey(fn, options);
  },
});

export interface MapWithStateFields {
  /** A mapWithState function's name: `(key, value, state, batchTime) => record` (`runningCount`, `sessionCount`). */
  readonly fn: string;
  readonly partitions?: number;
  /** The name of a static dataset of `[key, state]` pairs: the state before the first batch. */
  readonly initialState?: string;
  /** A key without records for this long gets a last call and is removed. Default: never. */
  readonly timeoutMs?: number;
}

export const mapWithState = defineOp<'mapWithState', MapWithStateFields>({
  name: 'mapWithState',
  description:
    "Spark's mapWithState: fn(key, value, state, batchTime) once per record with the key's state; the stream is what fn returns. A batch costs what its records touch, not the size of the state.",
  spark: 'whatever `fn(key, value, state, batchTime)` returns, once per record',
  fields: {
    fn: ref('mapWithStateFn'),
    partitions: ref('partitions'),
    initialState: ref('initialState'),
    timeoutMs: ref('timeoutMs'),
  },
  required: ['fn'],
  functionFields: { fn: 'mapWithState' },
  validate: (op, check) => {
    check.datasetName('initialState');
    // The built-in sessionCount yields a session when its key times out: without a timeout, never.
    if (op.timeoutMs === undefined && check.namesBuiltin('fn', sessionCount)) {
      check.report(
        'timeoutMs',
        'is required with fn "sessionCount": a session ends, and is output, when its key has had no record for timeoutMs',
      );
    }
  },
  build: (node, op, ctx) =>
    node.mapWithState({
      fn: ctx.named('fn'),
      partitions: op.partitions,
      initialState: op.initialState === undefined ? undefined : ctx.dataset(op.initialState),
      timeoutMs: op.timeoutMs,
    }),
});

export const stateSnapshots = defineOp<'stateSnapshots', {}>({
  name: 'stateSnapshots',
  description:
    'Every [key, state] of the mapWithState just before it, after each batch (a full scan of the state). Only right after mapWithState, or first in a stream whose `from` ends with mapWithState.',
  spark: 'every `[key, state]` of the `mapWithState` just before it',
  fields: {},
  follows: 'mapWithState',
  build: (node, _op, ctx) => {
    if (!(node instanceof MapWithStateDStream)) {
      throw new Error(
        `${ctx.path}: stateSnapshots does not follow mapWithState; validateJob should have caught it`,
      );
    }
    return node.stateSnapshots();
  },
});

/** The state ops, in the schema's order. */
export const STATE_OPS = [updateStateByKey, mapWithState, stateSnapshots] as const;
