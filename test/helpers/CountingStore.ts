import type { BlockStore } from '../../lib/storage/BlockStore';

/**
 * A real block store with a record of what it was asked to do: every write with its size, every read, every
 * deletion. `refusePut` makes chosen writes fail, as a process killed before that write would leave the store.
 */
export class CountingStore implements BlockStore {
  readonly puts: Array<{ key: string; bytes: number }> = [];
  readonly gets: string[] = [];
  readonly deletedPrefixes: string[] = [];

  constructor(
    private readonly inner: BlockStore,
    private readonly refusePut: (key: string) => boolean = () => false,
  ) {}

  async put(key: string, bytes: Uint8Array | string): Promise<void> {
    if (this.refusePut(key))
      throw new Error(`the write of ${key} was refused on purpose (a simulated crash)`);
    this.puts.push({ key, bytes: typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength });
    await this.inner.put(key, bytes);
  }

  get(key: string): Promise<Uint8Array | undefined> {
    this.gets.push(key);
    return this.inner.get(key);
  }

  getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    this.gets.push(key);
    return this.inner.getRange(key, start, end);
  }

  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }

  deletePrefix(prefix: string): Promise<void> {
    this.deletedPrefixes.push(prefix);
    return this.inner.deletePrefix(prefix);
  }

  /** Bytes written under keys matching `pattern`, by the batch time in the key (`persist/n3@2000/0` → 2000). */
  bytesByBatch(pattern: RegExp): Map<number, number> {
    const out = new Map<number, number>();
    for (const { key, bytes } of this.puts) {
      const time = /@(\d+)\//.exec(key);
      if (!pattern.test(key) || !time) continue;
      out.set(Number(time[1]), (out.get(Number(time[1])) ?? 0) + bytes);
    }
    return out;
  }
}
