import { KeyedMap } from './KeyedMap';

/** One key's state and the stream time it was last updated at. */
export interface StateEntry<S> {
  readonly state: S;
  readonly updatedMs: number;
}

/** A state map as records: `[key, state, lastUpdatedMs]`, the form checkpoints store. */
export type StateRecord<K = unknown, S = unknown> = [key: K, state: S, updatedMs: number];

/**
 * The per-partition state of mapWithState (Spark's OpenHashMapBasedStateMap): each batch's generation is a
 * small delta map layered over the previous generation, so a batch costs what its records touch, not the size
 * of the state. The previous generation is never modified, so it stays valid for a task that is retried, and
 * the delta chain is flattened into a fresh map every `compactAfterGenerations` generations (and at
 * checkpoints) so lookups stay short. Keys compare by value.
 *
 * @example
 * const next = StateMap.empty<string, number>().nextGeneration();
 * next.put('a', 1, 1000);
 * next.get('a'); // { state: 1, updatedMs: 1000 }
 */
export class StateMap<K = unknown, S = unknown> {
  /** How many generations may be layered before the chain is flattened (Spark's delta chain threshold). */
  static readonly compactAfterGenerations = 20;
  /**
   * Entries this process has read, written, iterated or copied, in every state map: tests and benchmarks use
   * it to check that a batch's work follows the keys it touches.
   */
  static entryVisits = 0;
  /** Every entry last updated before this time has timed out already (mapWithState's timeout watermark). */
  timedOutBeforeMs: number;
  // A removed key is a `null` tombstone, so it hides the key in older generations.
  private readonly delta = new KeyedMap<StateEntry<S> | null>();
  // The keys put in this generation, by update time, so timeouts visit only the keys that went stale.
  private readonly byTime = new Map<number, K[]>();
  // Set on a map flattened from a chain, whose delta then holds every key: this generation's own changes, which
  // a state delta writes (see `StateDelta`).
  private ownChanges: KeyedMap<StateEntry<S> | null> | undefined;

  private constructor(
    private readonly parent: StateMap<K, S> | undefined,
    /** How many generations lie under this one (0 for a flat map). */
    readonly depth: number,
  ) {
    this.timedOutBeforeMs = parent?.timedOutBeforeMs ?? Number.NEGATIVE_INFINITY;
  }

  /** A map with no state. */
  static empty<K, S>(): StateMap<K, S> {
    return new StateMap<K, S>(undefined, 0);
  }

  /** Rebuilds a flat map from its records (a checkpoint, or a partition that crossed as JSON). */
  static fromRecords<K, S>(records: Iterable<StateRecord<K, S>>): StateMap<K, S> {
    const map = StateMap.empty<K, S>();
    for (const [key, state, updatedMs] of records) map.put(key, state, updatedMs);
    return map;
  }

  /** A flat map of `[key, state]` pairs, all updated at `updatedMs` (an initial state). */
  static fromPairs<K, S>(pairs: Iterable<readonly [K, S]>, updatedMs: number): StateMap<K, S> {
    const map = StateMap.empty<K, S>();
    for (const [key, state] of pairs) map.put(key, state, updatedMs);
    return map;
  }

  /** The entry of `key`, looked up from this generation down. */
  get(key: K): StateEntry<S> | undefined {
    StateMap.entryVisits++;
    for (let map: StateMap<K, S> | undefined = this; map; map = map.parent) {
      const entry = map.delta.get(key);
      if (entry !== undefined) return entry ?? undefined;
    }
    return undefined;
  }

  /** Sets the state of `key` in this generation. */
  put(key: K, state: S, updatedMs: number): void {
    StateMap.entryVisits++;
    const entry = { state, updatedMs };
    this.delta.set(key, entry);
    this.ownChanges?.set(key, entry);
    const bucket = this.byTime.get(updatedMs);
    if (bucket) bucket.push(key);
    else this.byTime.set(updatedMs, [key]);
  }

  /** Removes `key` from this generation on. */
  remove(key: K): void {
    StateMap.entryVisits++;
    this.delta.set(key, null);
    this.ownChanges?.set(key, null);
  }

  /**
   * What this generation changed over the map it was made from: each key put (with its entry) or removed
   * (`null`). It visits the touched keys only, so a state delta costs what the batch touched.
   */
  changes(): IterableIterator<[unknown, StateEntry<S> | null]> {
    return (this.ownChanges ?? this.delta).entries();
  }

  /**
   * The map the next batch writes to: a delta over this one, or a flattened copy when the chain has grown to
   * `compactAfterGenerations` or `compact` is set (a checkpoint writes the whole map anyway). This map is left
   * as it is.
   */
  nextGeneration(compact = false): StateMap<K, S> {
    if (compact || this.depth + 1 >= StateMap.compactAfterGenerations) {
      const flat = StateMap.empty<K, S>();
      for (const [key, entry] of this.entries()) flat.put(key, entry.state, entry.updatedMs);
      flat.timedOutBeforeMs = this.timedOutBeforeMs;
      flat.ownChanges = new KeyedMap();
      return flat;
    }
    return new StateMap<K, S>(this, this.depth + 1);
  }

  /** Every live key and its entry (a full scan: snapshots, timeouts and checkpoints only). */
  *entries(): IterableIterator<[K, StateEntry<S>]> {
    if (!this.parent) {
      for (const [key, entry] of this.delta.entries()) {
        StateMap.entryVisits++;
        if (entry) yield [key as K, entry];
      }
      return;
    }
    // Newest generation first: the first time a key is met decides whether it is live.
    const seen = new KeyedMap<true>();
    for (let map: StateMap<K, S> | undefined = this; map; map = map.parent) {
      for (const [key, entry] of map.delta.entries()) {
        StateMap.entryVisits++;
        if (seen.get(key)) continue;
        seen.set(key, true);
        if (entry) yield [key as K, entry];
      }
    }
  }

  /**
   * The live keys whose last update was at a time in [fromMs, beforeMs): the candidates for a timeout. It
   * visits the keys put at those times only, not the whole map.
   */
  updatedBetween(fromMs: number, beforeMs: number): Array<[K, StateEntry<S>]> {
    const out: Array<[K, StateEntry<S>]> = [];
    const seen = new KeyedMap<true>();
    for (let map: StateMap<K, S> | undefined = this; map; map = map.parent) {
      for (const [time, keys] of map.byTime) {
        if (time < fromMs || time >= beforeMs) continue;
        for (const key of keys) {
          // A key put again later (or removed) is no longer stale at this time; one put twice is listed once.
          const entry = this.get(key);
          if (!entry || entry.updatedMs !== time || seen.get(key)) continue;
          seen.set(key, true);
          out.push([key, entry]);
        }
      }
    }
    return out;
  }

  /** Every `[key, state]` pair (a state snapshot). */
  pairs(): Array<[K, S]> {
    const out: Array<[K, S]> = [];
    for (const [key, entry] of this.entries()) out.push([key, entry.state]);
    return out;
  }

  /** Every entry as a `[key, state, lastUpdatedMs]` record. */
  toRecords(): StateRecord<K, S>[] {
    const out: StateRecord<K, S>[] = [];
    for (const [key, entry] of this.entries()) out.push([key, entry.state, entry.updatedMs]);
    return out;
  }

  /** JSON form: the records, so a checkpoint stores plain data that `fromRecords` rebuilds. */
  toJSON(): StateRecord<K, S>[] {
    return this.toRecords();
  }
}
