/**
 * Buffers lent for a while and given back, so that memory read into again and again is not fresh from the
 * system every time: the first write to fresh memory costs a page fault per 4 KiB, which for input blocks read at
 * 200 MB/s was a quarter of the reading threads' time. A buffer is lent to one borrower at a time; a buffer too
 * small to be worth keeping comes from Node's own pool and is not kept here.
 */
export class BufferPool {
  /** Memory given back, waiting to be lent again. */
  private free: ArrayBuffer[] = [];

  constructor(private readonly maxFree = MAX_FREE_BUFFERS) {}

  /**
   * `size` bytes to write into (their content is whatever they held): a view of a free buffer between one and
   * two times that size, or of new memory. Give it back with {@link give} once nothing reads it.
   */
  take(size: number): Buffer {
    if (size < MIN_POOLED_BYTES) return Buffer.allocUnsafe(size);
    const fit = this.free.findIndex((memory) => memory.byteLength >= size && memory.byteLength <= 2 * size);
    const memory = fit === -1 ? new ArrayBuffer(size) : this.free.splice(fit, 1)[0]!;
    return Buffer.from(memory, 0, size);
  }

  /** Takes back what {@link take} lent: its bytes may be overwritten by the next borrower. */
  give(bytes: Uint8Array): void {
    const memory = bytes.buffer;
    if (!(memory instanceof ArrayBuffer) || memory.byteLength < MIN_POOLED_BYTES) return;
    if (this.free.includes(memory)) throw new Error('a buffer was given back to its pool twice');
    // The newest first: the memory most likely still in the cache; the oldest goes when the pool is full.
    this.free.unshift(memory);
    if (this.free.length > this.maxFree) this.free.pop();
  }
}

/** Below 1 MiB a buffer comes from Node's slab or is cheap to fault in; pooling pays for blocks, not lines. */
const MIN_POOLED_BYTES = 1024 * 1024;

/**
 * Buffers kept free: a task reads one input block at a time, so one or two serve a thread, and each is as large as
 * a block (tens of MiB at hundreds of MB/s), which a larger pool would hold for good.
 */
const MAX_FREE_BUFFERS = 2;
