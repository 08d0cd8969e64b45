import type { BlockStore } from './BlockStore';

/** The calls a `CountingBlockStore` saw, by kind. */
export interface BlockStoreCounts {
  puts: number;
  gets: number;
  rangeGets: number;
  lists: number;
  deletes: number;
}

/**
 * A block store that passes every call to another one and counts the calls whose key starts with a prefix (all
 * of them by default): how the shuffle tests and benchmarks measure storage requests on the real store.
 */
export class CountingBlockStore implements BlockStore {
  /** The calls so far; reset with `reset`. */
  counts: BlockStoreCounts = emptyCounts();

  constructor(
    private readonly inner: BlockStore,
    /** Only keys under this prefix are counted. Default: every key. */
    private readonly prefix = '',
  ) {}

  /** Every counted call, all kinds together. */
  get total(): number {
    const c = this.counts;
    return c.puts + c.gets + c.rangeGets + c.lists + c.deletes;
  }

  /** Starts counting from zero. */
  reset(): void {
    this.counts = emptyCounts();
  }

  put(key: string, bytes: Uint8Array | string): Promise<void> {
    if (key.startsWith(this.prefix)) this.counts.puts++;
    return this.inner.put(key, bytes);
  }

  get(key: string): Promise<Uint8Array | undefined> {
    if (key.startsWith(this.prefix)) this.counts.gets++;
    return this.inner.get(key);
  }

  getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    if (key.startsWith(this.prefix)) this.counts.rangeGets++;
    return this.inner.getRange(key, start, end);
  }

  list(prefix: string): Promise<string[]> {
    if (prefix.startsWith(this.prefix)) this.counts.lists++;
    return this.inner.list(prefix);
  }

  deletePrefix(prefix: string): Promise<void> {
    if (prefix.startsWith(this.prefix)) this.counts.deletes++;
    return this.inner.deletePrefix(prefix);
  }
}

function emptyCounts(): BlockStoreCounts {
  return { puts: 0, gets: 0, rangeGets: 0, lists: 0, deletes: 0 };
}
