/**
 * The stateful operations of `DStream`, Spark Streaming's updateStateByKey and mapWithState. Like
 * `DStreamOps`, they are installed on the prototype here because they construct subclasses of `DStream`.
 */

import { defineMethod } from '../dataset/defineMethod';
import { DStream } from './DStream';
import { MapWithStateDStream } from './MapWithStateDStream';
import { StateDStream, type TimeAwareUpdateFn, type UpdateFn, type UpdateStateOptions } from './StateDStream';
import type { StateSpec } from './StateSpec';

declare module './DStream' {
  interface DStream<T> {
    /**
     * Keeps a state per key across batches: every batch, `updateFn(newValues, state)` runs for every key that
     * has state or new values (an empty list when it has none) and returns the new state, or undefined or
     * null to remove the key (Spark's `None`). The stream's records are `[key, state]` for every key.
     *
     * @example
     * pairs.updateStateByKey((values: number[], count: number | undefined) => (count ?? 0) + values.length);
     */
    updateStateByKey<K, V, S>(
      this: DStream<[K, V]>,
      updateFn: UpdateFn<V, S>,
      options?: UpdateStateOptions<K, S> & { timeAware?: false },
    ): DStream<[K, S]>;
    /** The time-aware variant: `updateFn(values, state, { key, batchTime })`. */
    updateStateByKey<K, V, S>(
      this: DStream<[K, V]>,
      updateFn: TimeAwareUpdateFn<K, V, S>,
      options: UpdateStateOptions<K, S> & { timeAware: true },
    ): DStream<[K, S]>;
    /**
     * Spark's mapWithState: calls `spec.fn(key, value, state, batchTime)` once per record and keeps the state
     * it sets; the stream's records are the values it returns. A batch costs what its records touch, not the
     * size of the state; `stateSnapshots()` gives every `[key, state]`.
     */
    mapWithState<K, V, S, U>(
      this: DStream<[K, V]>,
      spec: StateSpec<K, V, S, U>,
    ): MapWithStateDStream<K, V, S, U>;
  }
}

const define = (name: string, method: (this: DStream<any>, ...args: any[]) => unknown) =>
  defineMethod(DStream.prototype, name, method);

define(
  'updateStateByKey',
  function (updateFn: UpdateFn<unknown, unknown>, options?: UpdateStateOptions<unknown, unknown>) {
    return new StateDStream(this, updateFn, options);
  },
);

define('mapWithState', function (spec: StateSpec<unknown, unknown, unknown, unknown>) {
  return new MapWithStateDStream(this, spec);
});
