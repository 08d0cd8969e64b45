import { recordsFromJson, recordsToJson } from '../dataset/jsonNumber';
import { DamagedBlockError } from '../errors';
import type { BlockStore } from './BlockStore';

/**
 * One blob holding several record segments back to back, plus the byte offsets where each begins. Input blocks
 * (one segment per partition) and shuffle outputs (one segment per reduce partition) use it, so a map task
 * writes a single object however many reducers read it, and a reader fetches only its byte range.
 */
export interface EncodedBlob {
  /** The bytes to store. */
  readonly bytes: Uint8Array;
  /** `offsets[i]` to `offsets[i + 1]` is segment i; an empty segment has no bytes, so readers skip it. */
  readonly offsets: number[];
}

/**
 * Encodes segments as JSON arrays laid end to end. Records must be JSON values, or hold Infinity, -Infinity or NaN,
 * which are kept (see `recordsToJson`).
 */
export function encodeSegments(segments: readonly (readonly unknown[])[]): EncodedBlob {
  const parts: Buffer[] = [];
  const offsets = [0];
  let size = 0;
  for (const segment of segments) {
    if (segment.length > 0) {
      const part = Buffer.from(recordsToJson(segment));
      parts.push(part);
      size += part.length;
    }
    offsets.push(size);
  }
  return { bytes: parts.length === 1 ? parts[0]! : Buffer.concat(parts, size), offsets };
}

/** Decodes one segment's bytes back into records. */
export function decodeSegment(bytes: Uint8Array): unknown[] {
  if (bytes.length === 0) return [];
  return recordsFromJson(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
}

/**
 * Decodes a segment read back from the store's block `key`: bytes that are not the JSON Sluice wrote (a block
 * cut short or overwritten) throw a {@link DamagedBlockError} naming the block, not a bare `SyntaxError`.
 */
export function decodeStoredSegment(key: string, bytes: Uint8Array): unknown[] {
  let records: unknown;
  try {
    records = decodeSegment(bytes);
  } catch (error) {
    throw new DamagedBlockError(key, error instanceof Error ? error.message : String(error));
  }
  // Valid JSON that is not a list (a block overwritten by other content) would fail later, far from the block.
  if (!Array.isArray(records))
    throw new DamagedBlockError(key, 'it holds JSON that is not a list of records');
  return records;
}

/**
 * The bytes of a persisted partition with no record. A partition is one segment, and an empty segment has no
 * bytes; but a block emptied to 0 bytes (a power loss between a file's rename and its data reaching the disk, an
 * edit) then read back as an empty partition, losing a state or a window without a word. `[]` is what the JSON of
 * an empty list is anyway, so a reader of any version decodes it as empty.
 */
const EMPTY_PARTITION = Buffer.from('[]');

/** A persisted partition's bytes: its records as one segment, or `[]` when it has none (see {@link EMPTY_PARTITION}). */
export function encodePartition(records: readonly unknown[]): Uint8Array {
  return records.length === 0 ? EMPTY_PARTITION : encodeSegments([records]).bytes;
}

/**
 * Decodes a persisted partition read back from the store's block `key`: as {@link decodeStoredSegment}, and a block
 * of 0 bytes, which Sluice never writes for a partition (see {@link encodePartition}), is a {@link DamagedBlockError}
 * in a store that `mayEmptyBlocks`; elsewhere a worker of an earlier version wrote it, as an empty partition.
 */
export function decodeStoredPartition(key: string, bytes: Uint8Array, mayEmptyBlocks = true): unknown[] {
  if (bytes.length === 0 && mayEmptyBlocks)
    throw new DamagedBlockError(key, 'it has 0 bytes, where even an empty partition is written as []');
  return decodeStoredSegment(key, bytes);
}

/**
 * Rewrites as `[]` the blocks among `keys` that hold 0 bytes: a store whose checkpoint was written before Sluice
 * marked empty partitions (see {@link encodePartition}) holds its empty partitions so, and they stay readable. Read
 * once, when a restart resumes such a checkpoint; the checkpoints after it say the store is marked.
 */
export async function markEmptyPartitions(store: BlockStore, keys: readonly string[]): Promise<void> {
  await Promise.all(
    keys.map(async (key) => {
      const bytes = await store.get(key);
      if (bytes?.length === 0) await store.put(key, EMPTY_PARTITION);
    }),
  );
}
