import { Dataset } from '../dataset/Dataset';
import type { Partitioning } from '../dataset/DatasetOps';
import type { State } from '../dataset/State';
import { StreamGraphError } from '../errors';

export type { State } from '../dataset/State';

/**
 * What mapWithState does (Spark's StateSpec): the mapping function and how the state is kept.
 *
 * @example
 * const spec: StateSpec<string, number, number, [string, number]> = {
 *   fn: (word, one, state) => {
 *     const count = (state.exists() ? state.get() : 0) + (one ?? 0);
 *     state.update(count);
 *     return [word, count];
 *   },
 *   timeoutMs: 60_000,
 * };
 */
export interface StateSpec<K, V, S, U> {
  /**
   * Called once per record, in record order within a key, with the key's state; the returned value is a
   * record of the resulting stream (undefined: none). When a key times out it is called once more with
   * `value` undefined and `state.isTimingOut()` true.
   */
  readonly fn: (key: K, value: V | undefined, state: State<S>, batchTime: number) => U | undefined;
  /** Partitions of the state, or its partitioner. Default: the context's `defaultPartitions`. */
  readonly partitions?: Partitioning;
  /** The state before the first batch, as `[key, state]` pairs (`ssc.parallelize([...])`). Default: none. */
  readonly initialState?: Dataset<[K, S]>;
  /** A key that receives no record for this long gets a last call and is removed. Default: never. */
  readonly timeoutMs?: number;
}

/** Checks the settings shared by updateStateByKey and mapWithState, naming the operation in the message. */
export function checkStateSettings(
  operation: string,
  fn: unknown,
  initialState: unknown,
  timeoutMs?: unknown,
): void {
  if (typeof fn !== 'function') {
    throw new StreamGraphError(`${operation} needs a function, got ${typeof fn}`);
  }
  if (initialState !== undefined && !(initialState instanceof Dataset)) {
    throw new StreamGraphError(
      `the initial state of ${operation} must be a dataset of [key, state] pairs (ssc.parallelize([...])), got ${typeof initialState}`,
    );
  }
  if (
    timeoutMs !== undefined &&
    (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs <= 0)
  ) {
    throw new StreamGraphError(
      `the timeout of ${operation} must be a positive whole number of ms, got ${String(timeoutMs)}`,
    );
  }
}
