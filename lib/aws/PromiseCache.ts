/**
 * Values a warm Lambda container makes once and keeps (the stores it opened, the jobs it built), by key: the
 * promise is kept from the first call on, so concurrent callers share one making; one that fails is dropped, so
 * the next call makes it again rather than failing for the container's life. With `maxEntries`, the oldest entry
 * goes first once it is full.
 */
export class PromiseCache<V> {
  private readonly entries = new Map<string, Promise<V>>();

  constructor(private readonly maxEntries = Number.POSITIVE_INFINITY) {}

  /** The value kept under `key`, made by `make` when there is none. */
  get(key: string, make: () => Promise<V>): Promise<V> {
    let value = this.entries.get(key);
    if (!value) {
      value = make();
      const made = value;
      made.catch(() => {
        if (this.entries.get(key) === made) this.entries.delete(key);
      });
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, made);
    }
    return value;
  }
}
