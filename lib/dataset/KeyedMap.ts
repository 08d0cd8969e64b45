import { canonicalKey } from './Partitioner';

/**
 * A Map whose keys compare by value, as Spark's keys do. Primitive keys (the common case: strings and numbers)
 * go straight into a native Map; only composite keys pay for a canonical text form, their JSON text, in which an
 * object's fields keep their order. Sorting them would cost every array key a walk, and would move the object
 * keys of checkpointed state to other partitions.
 */
export class KeyedMap<V> {
  private readonly primitives = new Map<unknown, V>();
  private composites: Map<string, [unknown, V]> | undefined;

  /** The value held for `key`. */
  get(key: unknown): V | undefined {
    if (key === null || typeof key !== 'object') return this.primitives.get(key);
    return this.composites?.get(canonicalKey(key))?.[1];
  }

  /** True when `key` has a value, even an undefined one. */
  has(key: unknown): boolean {
    if (key === null || typeof key !== 'object') return this.primitives.has(key);
    return this.composites?.has(canonicalKey(key)) === true;
  }

  /** Sets the value for `key`. */
  set(key: unknown, value: V): void {
    if (key === null || typeof key !== 'object') {
      this.primitives.set(key, value);
      return;
    }
    this.composites ??= new Map();
    this.composites.set(canonicalKey(key), [key, value]);
  }

  /** The number of keys. */
  get size(): number {
    return this.primitives.size + (this.composites?.size ?? 0);
  }

  /** Every key and value, in insertion order per kind of key. */
  *entries(): IterableIterator<[unknown, V]> {
    yield* this.primitives.entries();
    if (this.composites) yield* this.composites.values();
  }

  /** Every entry as `[key, value]` pairs in an array, the shape records take. */
  toPairs(): Array<[unknown, V]> {
    const out: Array<[unknown, V]> = Array.from(this.primitives.entries());
    if (this.composites) for (const e of this.composites.values()) out.push(e);
    return out;
  }
}
