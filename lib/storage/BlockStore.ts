/**
 * Where Sluice keeps input blocks, shuffle data, cached datasets, state, checkpoints and outputs. The engine
 * only sees this interface: local mode implements it over a folder, the serverless runtime over S3.
 * Keys are `/`-separated paths; writes of a key are atomic and a rewrite replaces the whole value.
 */
export interface BlockStore {
  /**
   * Writes (or overwrites) a whole block. `bytes` may be a view of a larger buffer (a received block is a view of
   * its source's arena): the caller leaves those bytes unchanged until the promise settles, and the store keeps no
   * reference to them after it, so a caller could then reuse the memory.
   */
  put(key: string, bytes: Uint8Array | string): Promise<void>;
  /** A whole block, or undefined when there is none. */
  get(key: string): Promise<Uint8Array | undefined>;
  /**
   * Optional: a whole block read into memory the store lends, or undefined when there is none. The caller reads
   * the bytes, keeps nothing that views them, and calls `release`, after which the store may read another block
   * into that memory. A local store has it, as memory fresh from the system costs a page fault per 4 KiB; a
   * caller without it uses {@link get}.
   */
  borrow?(key: string): Promise<BlockLease | undefined>;
  /** Bytes [start, end) of a block, which must exist. */
  getRange(key: string, start: number, end: number): Promise<Uint8Array>;
  /**
   * Optional: bytes [start, end) of a block, which must exist, in memory the store lends as with {@link borrow}. A
   * local store has it; a caller without it uses {@link getRange}.
   */
  borrowRange?(key: string, start: number, end: number): Promise<BlockLease>;
  /** The keys under a prefix, in lexicographic order. */
  list(prefix: string): Promise<string[]>;
  /** Deletes every block under a prefix; a missing prefix is not an error. */
  deletePrefix(prefix: string): Promise<void>;
  /**
   * Deletes exactly these blocks; a missing one is not an error. Optional: a store that has it (S3, one
   * DeleteObjects) saves the listing `deletePrefix` needs when the keys are known.
   */
  deleteKeys?(keys: readonly string[]): Promise<void>;
  /**
   * Optional: deletes blocks that an earlier driver of the job left, listed before the call, once the store made
   * sure that this driver still owns the job; throws, deleting nothing, when it does not. A store that a driver
   * taking the job over shares with a stale one has it (on S3, where a delete cannot be conditional: see
   * `FencedStore`). Without it, the caller deletes them as any other blocks.
   */
  deleteLeftovers?(keys: readonly string[]): Promise<void>;
  /**
   * True when a block can read back with 0 bytes that no one wrote so: a local file renamed into place before a
   * power loss wrote its data. A persisted partition of 0 bytes is then refused as damaged (see `encodePartition`).
   * Absent (S3, whose writes land whole), it is an empty partition as a Sluice before `[]` wrote it, which a worker
   * reads while a deploy replaces the workers of a running job.
   */
  readonly mayEmptyBlocks?: boolean;
}

/** A block's bytes lent by {@link BlockStore.borrow} until `release` is called. */
export interface BlockLease {
  readonly bytes: Uint8Array;
  release(): void;
}
