import { KeyedMap } from './KeyedMap';

/**
 * What the map-shaped actions return (`countByKey`, `countByValue`, `collectAsMap`): a read-only `Map` whose
 * keys compare by value, as the engine's keys do. A JS `Map` compares an array or object key by identity, so
 * Spark's `counts(("eu", 7))` written as `counts.get(['eu', 7])` would find nothing in one, although the
 * shuffle grouped every `['eu', 7]` as one key; here it finds the count. Primitive keys behave as in a `Map`
 * (`1` and `'1'` are two keys). It iterates like a `Map` (`for (const [key, n] of counts)`, `[...counts]`),
 * primitive keys first, then composite ones, each in the order the records came; `new Map(counts)` gives a
 * plain `Map` (which compares composite keys by identity again). `JSON.stringify` writes its `[key, value]`
 * pairs, where a `Map` would write `{}`.
 *
 * @example
 * const counts = await pairs.countByKey(); // pairs: Dataset<[[string, number], string]>
 * counts.get(['eu', 7]); // the count of the key ['eu', 7], found by value
 */
export class ValueMap<K, V> implements ReadonlyMap<K, V> {
  private readonly entriesByKey = new KeyedMap<V>();

  /** A map of `pairs`; a key seen again takes the later value, as Spark's `collectAsMap` does. */
  constructor(pairs: Iterable<readonly [K, V]> = []) {
    for (const [key, value] of pairs) this.entriesByKey.set(key, value);
  }

  /** The value of `key`, compared by value; undefined when the map has no such key. */
  get(key: K): V | undefined {
    return this.entriesByKey.get(key);
  }

  /** True when the map has `key`, compared by value. */
  has(key: K): boolean {
    return this.entriesByKey.has(key);
  }

  /** The number of keys. */
  get size(): number {
    return this.entriesByKey.size;
  }

  /** Every `[key, value]`. */
  entries(): MapIterator<[K, V]> {
    return this.entriesByKey.entries() as MapIterator<[K, V]>;
  }

  /** Every key. */
  *keys(): MapIterator<K> {
    for (const [key] of this.entriesByKey.entries()) yield key as K;
  }

  /** Every value. */
  *values(): MapIterator<V> {
    for (const [, value] of this.entriesByKey.entries()) yield value;
  }

  /** Calls `f` with every value and key, as `Map.prototype.forEach` does. */
  forEach(f: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entriesByKey.entries()) f.call(thisArg, value, key as K, this);
  }

  /** Every `[key, value]`, so that `for … of` and spreading work as on a `Map`. */
  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  /** The `[key, value]` pairs, for `JSON.stringify`. */
  toJSON(): Array<[K, V]> {
    return this.entriesByKey.toPairs() as Array<[K, V]>;
  }
}
