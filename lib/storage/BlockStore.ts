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
  /** Bytes [start, end) of a block, which must exist. */
  getRange(key: string, start: number, end: number): Promise<Uint8Array>;
  /** The keys under a prefix, in lexicographic order. */
  list(prefix: string): Promise<string[]>;
  /** Deletes every block under a prefix; a missing prefix is not an error. */
  deletePrefix(prefix: string): Promise<void>;
  /**
   * Deletes exactly these blocks; a missing one is not an error. Optional: a store that has it (S3, one
   * DeleteObjects) saves the listing `deletePrefix` needs when the keys are known.
   */
  deleteKeys?(keys: readonly string[]): Promise<void>;
}
