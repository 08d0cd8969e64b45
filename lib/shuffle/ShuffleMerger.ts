import { FetchFailedError } from '../errors';
import type { MapStatus, ShuffleMergeSpec } from '../plan/Plan';
import type { BlockStore } from '../storage/BlockStore';
import { shufflePrefix } from './ShuffleWriter';

/**
 * The combining step of a large shuffle (the merge stage of Starling's multi-stage shuffle, SIGMOD 2020): a
 * merge task reads the whole outputs of a group of map tasks and writes them as ONE object holding every
 * reduce partition, with an index, so that each reduce task reads one range per group instead of one per map
 * task (the request counts are derived at `mergeGroupSize`).
 *
 * Reduce partition r of the merged object is the records of r of every map output of the group, in map order,
 * as one JSON array: a reducer sees the same records in the same order as a direct read, so its output is
 * byte for byte the same. The merge splices the stored JSON, it never parses a record.
 */

/**
 * The block key of a merge task's output. Deterministic, so a retried or recomputed merge task writes the same
 * bytes to the same key; a speculative copy gets a key of its own for the reason given at `shuffleKey`.
 */
export function mergedShuffleKey(
  batchTime: number,
  shuffleId: number,
  group: number,
  speculative = false,
  keySpace?: string,
): string {
  return `${shufflePrefix(batchTime, shuffleId, keySpace)}merged-${group}${speculative ? '.copy' : ''}`;
}

/**
 * The map statuses of one merge group, in map order: a merge task's inputs. Inline outputs travel whole in them
 * (they are merged too, to keep map order), up to groupSize × the inline limit: with 4 merge tasks and 64 KiB,
 * a Lambda request (6 MB) holds that up to about 360 map tasks; beyond, raise `maxMergeTasks`.
 */
export function groupStatuses(
  spec: ShuffleMergeSpec,
  statuses: readonly MapStatus[],
  group: number,
): MapStatus[] {
  return statuses.slice(group * spec.groupSize, (group + 1) * spec.groupSize);
}

/**
 * The groups worth a merge task: those with at least two map outputs in storage. A group whose outputs all
 * travel inline (or all but one) would gain no read, so its statuses pass to the reducers unchanged: a small
 * shuffle costs no merge task at all, whatever the plan said.
 */
export function groupsToMerge(spec: ShuffleMergeSpec, statuses: readonly MapStatus[]): number[] {
  const groups: number[] = [];
  const numGroups = Math.ceil(statuses.length / spec.groupSize);
  for (let g = 0; g < numGroups; g++) {
    if (groupStatuses(spec, statuses, g).filter(isStored).length >= 2) groups.push(g);
  }
  return groups;
}

/**
 * The statuses the reducers read once the merge tasks are done: per group in map order, its merged status,
 * or its map statuses where it was not merged. Order is kept, so reducers see records in map order.
 */
export function mergedStatuses(
  spec: ShuffleMergeSpec,
  statuses: readonly MapStatus[],
  merged: ReadonlyMap<number, MapStatus>,
): MapStatus[] {
  const out: MapStatus[] = [];
  const numGroups = Math.ceil(statuses.length / spec.groupSize);
  for (let g = 0; g < numGroups; g++) {
    const status = merged.get(g);
    if (status) out.push(status);
    else out.push(...groupStatuses(spec, statuses, g));
  }
  return out;
}

/**
 * Runs one merge task of shuffle `shuffleId` over its group's map statuses; `requests` counts its storage calls. A
 * map output missing from the store fails it with a `FetchFailedError`, so that the map task is run again.
 */
export async function mergeShuffle(
  shuffleId: number,
  statuses: readonly MapStatus[],
  key: string,
  store: BlockStore,
): Promise<{ status: MapStatus; bytesRead: number; bytesWritten: number; requests: number }> {
  const numReducePartitions = (statuses[0]?.offsets.length ?? 1) - 1;
  let requests = 0;
  let bytesRead = 0;
  // One whole-object read per stored map output, all at once; an inline output is already in the status.
  const missing: string[] = [];
  const blobs = await Promise.all(
    statuses.map(async (status): Promise<Uint8Array | undefined> => {
      if (status.inline || !isStored(status)) return undefined;
      requests++;
      const bytes = await store.get(status.key);
      if (!bytes) missing.push(status.key);
      else bytesRead += bytes.length;
      return bytes;
    }),
  );
  const [first, ...others] = missing;
  if (first !== undefined)
    throw new FetchFailedError({ shuffleId, key: first }, undefined, undefined, others);
  const parts: Buffer[] = [];
  const offsets = [0];
  let size = 0;
  for (let r = 0; r < numReducePartitions; r++) {
    const pieces: Buffer[] = [];
    statuses.forEach((status, i) => {
      const piece = segmentOf(status, blobs[i], r);
      if (piece) pieces.push(piece);
    });
    const segment = pieces.length <= 1 ? pieces[0] : spliceArrays(pieces);
    if (segment) {
      parts.push(segment);
      size += segment.length;
    }
    offsets.push(size);
  }
  const bytes = Buffer.concat(parts, size);
  if (size > 0) {
    await store.put(key, bytes);
    requests++;
  }
  return { status: { key, offsets }, bytesRead, bytesWritten: size, requests };
}

/** Whether a map output is in storage (neither inline nor empty). */
export function isStored(status: MapStatus): boolean {
  return status.inline === undefined && (status.offsets[status.offsets.length - 1] ?? 0) > 0;
}

/** The JSON bytes of reduce partition r of one map output, or undefined when it is empty. */
function segmentOf(status: MapStatus, blob: Uint8Array | undefined, r: number): Buffer | undefined {
  const start = status.offsets[r]!;
  const end = status.offsets[r + 1]!;
  if (start === end) return undefined;
  if (status.inline) {
    const text = status.inline[r];
    if (text === undefined) throw new Error(`inline map output ${status.key} lacks partition ${r}`);
    return Buffer.from(text);
  }
  return Buffer.from(blob!.buffer, blob!.byteOffset + start, end - start);
}

/**
 * JSON arrays `[a,b]` `[c]` spliced into `[a,b,c]`: each segment is one non-empty array (`encodeSegments` never
 * writes an empty one), so dropping its brackets leaves its records separated by commas.
 */
function spliceArrays(pieces: readonly Buffer[]): Buffer {
  const comma = Buffer.from(',');
  const parts: Buffer[] = [Buffer.from('[')];
  pieces.forEach((piece, i) => {
    if (i > 0) parts.push(comma);
    parts.push(piece.subarray(1, piece.length - 1));
  });
  parts.push(Buffer.from(']'));
  return Buffer.concat(parts);
}
