import type { ShuffleWriteSpec } from '../dataset/Dependency';
import type { AnyFn } from '../dataset/FnScope';
import { KeyedMap } from '../dataset/KeyedMap';
import { HashPartitioner } from '../dataset/Partitioner';
import { pairOf } from '../dataset/pairOf';
import * as sharedLoops from '../dataset/RecordLoops';
import type { RecordLoops } from '../dataset/StageCode';
import type { MapStatus } from '../plan/Plan';
import type { BlockStore } from '../storage/BlockStore';
import { encodeSegments } from '../storage/SegmentedBlob';
import { Aggregator } from './Aggregator';

/**
 * The block key of one map task's shuffle output. Deterministic, so a retried task overwrites its own. A
 * speculative copy runs while the original may still write, so it gets a key of its own: whichever wins, the
 * map status names the bytes that attempt wrote, and offsets never point into the other attempt's blob (equal
 * only if every function is deterministic). The loser's blob is never read and goes with the batch's prefix.
 *
 * `keySpace` is the driver that planned the shuffle (see `ShuffleWriteSpec.keySpace`): shuffle ids are counted per
 * driver, so two drivers running the same batch (a coordinator whose lease was taken while it was frozen, and its
 * successor) would otherwise write different data under the same keys, and each read the other's offsets.
 */
export function shuffleKey(
  batchTime: number,
  shuffleId: number,
  mapPartition: number,
  speculative = false,
  keySpace?: string,
): string {
  return `${shufflePrefix(batchTime, shuffleId, keySpace)}${mapPartition}${speculative ? '.copy' : ''}`;
}

/** The folder of one shuffle's blobs. */
export function shufflePrefix(batchTime: number, shuffleId: number, keySpace?: string): string {
  return `${driverShufflePrefix(batchTime, keySpace)}${shuffleId}/`;
}

/** Every shuffle blob one driver wrote for a batch: what that driver deletes once the batch is done. */
export function driverShufflePrefix(batchTime: number, keySpace?: string): string {
  return `shuffle/${batchTime}/${keySpace === undefined ? '' : `${keySpace}-`}`;
}

/**
 * The map status of a map task that had no record: nothing written, every reduce partition 0 bytes. What
 * {@link writeShuffle} gives for no input, for a runner that knows a task's input is empty without running it
 * (see `knownEmptyResult`).
 */
export function emptyMapStatus(
  spec: ShuffleWriteSpec,
  mapPartition: number,
  batchTime: number,
  speculative = false,
): MapStatus {
  const n = HashPartitioner.fromSpec(spec.partitioner).numPartitions;
  return {
    key: shuffleKey(batchTime, spec.shuffleId, mapPartition, speculative, spec.keySpace),
    offsets: new Array<number>(n + 1).fill(0),
  };
}

/**
 * The map side of a shuffle: buckets a partition's records by reduce partition (combining per key first when
 * the shuffle allows it) and writes them as ONE blob with an index, never one object per reducer.
 */
/** What a map task hands the shuffle: its records, or values it already combined per key while streaming. */
export type ShuffleInput =
  | { readonly records: unknown[] }
  | { readonly combined: KeyedMap<unknown>; readonly count: number };

export async function writeShuffle(
  spec: ShuffleWriteSpec,
  input: ShuffleInput,
  mapPartition: number,
  batchTime: number,
  store: BlockStore,
  resolve: (id: string) => AnyFn,
  fail: (record: unknown, error: unknown, index?: number) => void,
  inlineMaxBytes = 0,
  speculative = false,
  loops: RecordLoops = sharedLoops,
): Promise<{ status: MapStatus; bytes: number; requests: number }> {
  const partitioner = HashPartitioner.fromSpec(spec.partitioner);
  const n = partitioner.numPartitions;
  const records = 'records' in input ? input.records : [];
  let buckets: unknown[][];
  if (!spec.keyed) {
    // Repartition spreads whole records round-robin, starting at a place that depends on the map partition
    // so that small partitions do not all land on reducer 0.
    buckets = Array.from({ length: n }, () => []);
    for (let i = 0; i < records.length; i++) buckets[(i + mapPartition) % n]!.push(records[i]);
  } else if (spec.aggregator && spec.mapSideCombine) {
    // Combine first, then place the distinct keys: hashing a key costs more than combining a value, and a
    // map partition usually holds far fewer distinct keys than records.
    let combined: KeyedMap<unknown>;
    if ('combined' in input) combined = input.combined;
    else {
      combined = new KeyedMap<unknown>();
      new Aggregator(spec.aggregator, resolve, loops).combineValues(records, combined, fail);
    }
    buckets = Array.from({ length: n }, () => []);
    for (const pair of combined.entries()) buckets[partitioner.partition(pair[0])]!.push(pair);
  } else {
    buckets = Array.from({ length: n }, () => []);
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      try {
        buckets[partitioner.partition(pairOf(record)[0])]!.push(record);
      } catch (error) {
        fail(record, error, i);
      }
    }
  }
  const { bytes, offsets } = encodeOrDeadLetter(buckets, fail);
  const key = shuffleKey(batchTime, spec.shuffleId, mapPartition, speculative, spec.keySpace);
  if (bytes.length > 0 && bytes.length <= inlineMaxBytes) {
    // Small outputs (the common case after a map-side combine) skip storage: each reducer gets its segment in its
    // task, so a shuffle costs no storage request at all, instead of one read per map × reduce pair.
    // Offsets are bytes and the text may hold multi-byte characters: slice the bytes, not a string.
    const inline: Record<number, string> = {};
    for (let r = 0; r < n; r++) {
      const start = offsets[r]!;
      if (offsets[r + 1]! > start) {
        inline[r] = Buffer.from(bytes.buffer, bytes.byteOffset + start, offsets[r + 1]! - start).toString(
          'utf8',
        );
      }
    }
    return { status: { key, offsets, inline }, bytes: bytes.length, requests: 0 };
  }
  // An all-empty output is not written: its offsets say there is nothing to read.
  if (bytes.length > 0) await store.put(key, bytes);
  return { status: { key, offsets }, bytes: bytes.length, requests: bytes.length > 0 ? 1 : 0 };
}

/**
 * The buckets encoded, after dead-lettering any record JSON cannot write (nested thousands of levels deep, a
 * BigInt, a cycle): one such record would otherwise fail the task on every attempt. Records are encoded one by
 * one only when the whole encoding failed, so the common case pays nothing.
 */
function encodeOrDeadLetter(
  buckets: unknown[][],
  fail: (record: unknown, error: unknown) => void,
): ReturnType<typeof encodeSegments> {
  try {
    return encodeSegments(buckets);
  } catch {
    const writable = buckets.map((bucket) =>
      bucket.filter((record) => {
        try {
          JSON.stringify(record);
          return true;
        } catch (error) {
          fail(record, new Error(`the record cannot be written as JSON: ${(error as Error).message}`));
          return false;
        }
      }),
    );
    return encodeSegments(writable);
  }
}
