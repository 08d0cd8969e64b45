import { randomUUID } from 'node:crypto';
import { BlockDataset } from '../dataset/BlockDataset';
import type { Dataset } from '../dataset/Dataset';
import { sliceBounds } from '../dataset/Dataset';
import { DirectInputDataset } from '../dataset/DirectInputDataset';
import { DirectReadDataset } from '../dataset/DirectReadDataset';
import { type ReceivedBlockRef, ReceivedBlocksDataset } from '../dataset/ReceivedBlocksDataset';
import type { StreamingContext } from '../StreamingContext';
import type { InputBlockInfo } from '../scheduler/CheckpointData';
import { tookInput } from '../scheduler/RedundantCheckpoints';
import { INPUT_LINES_KEPT, type InputStreamInfo } from '../scheduler/StreamingListener';
import { RateLimit } from '../source/RateLimit';
import {
  type DirectSource,
  isDirectSource,
  isPlannedSource,
  isReceiverSource,
  type Source,
} from '../source/Source';
import { laterError, type SourceError, sourceError } from '../source/SourceStatus';
import { sourceKindWords } from '../source/sourceKindWords';
import { deleteLeftovers } from '../storage/deleteLeftovers';
import { encodeSegments } from '../storage/SegmentedBlob';
import { BlockGenerator, type BlockTimer, blockFolder } from './BlockGenerator';
import { DStream } from './DStream';

/** Settings of an {@link InputDStream}. */
export interface InputStreamOptions {
  /**
   * At most this many records a second (Spark's `spark.streaming.receiver.maxRate`): per source, or per shard for
   * a source of shards (Kinesis). What is over it waits in the source. Default: no cap.
   */
  readonly maxRatePerSec?: number;
}

/**
 * A stream read from a source (Spark's InputDStream and its receiver). At each tick it takes the batch's
 * records from the source and stores them as one input block, split into partitions the way Spark splits a
 * collection: record i of n goes to partition ⌊i·p/n⌋-wise ranges [⌊j·n/p⌋, ⌊(j+1)·n/p⌋).
 *
 * With `maxRatePerSec`, or with backpressure on, a batch takes at most what its {@link rateLimit} allows, and the
 * source holds the rest back for later batches.
 *
 * A receiving source (a socket) is read by a {@link BlockGenerator} instead: once {@link startReceiving} ran, its
 * records are stored as blocks every block interval, and the batch names the blocks cut during its interval.
 */
export class InputDStream<T> extends DStream<T> {
  /** The stream's rate bound: its `maxRatePerSec` and backpressure's estimate; undefined when neither applies. */
  readonly rateLimit: RateLimit | undefined;
  /** How many records each batch brought, for the batch metrics. */
  readonly recordsPerBatch = new Map<number, number>();
  /** Every input block of this stream in the block store, by batch time, for the metadata checkpoint. */
  readonly blocks = new Map<number, InputBlockInfo>();
  /**
   * What each batch took, one short line each, for the batch page, when it is known at the tick (index ranges,
   * received blocks, what the source says it took); a planned batch's is asked of its source once it ran.
   */
  private readonly took = new Map<number, readonly string[]>();
  /** Blocks restored from a checkpoint that no batch of this process has read yet. */
  private recovered = new Map<number, InputBlockInfo>();
  /** The last batch completed before a restart (0 without one): the source never saw it or older ones. */
  private resumedAfter = 0;
  /** Cuts a receiving source's records into blocks; made on first use. */
  private generator: BlockGenerator<T> | undefined;
  /** How many forgotten batches were computed again (by `slice`), which numbers their blocks' folders. */
  private recomputedBlocks = 0;
  /**
   * Names this process in those folders: another driver of the job on the same store (a coordinator frozen past
   * its lease and its successor) numbers its own from 1 too, and the end of its run deletes them by name.
   */
  private readonly recomputeRun = randomUUID().slice(0, 8);
  /**
   * The blocks of forgotten batches computed again, by batch time: kept out of `blocks`, as the source gives such a
   * batch again after a restart too, and deleted when the batch is forgotten again or the run ends.
   */
  private readonly recomputed = new Map<number, string>();
  /**
   * The latest failure of a call to the source (a listing, a plan, a read at the tick) or of a task reading its
   * input, for the Streaming UI; the source may know of later ones (see `Source.status`).
   */
  private lastError: SourceError | undefined;

  constructor(
    ssc: StreamingContext,
    readonly source: Source<T>,
    readonly partitions: number,
    options: InputStreamOptions = {},
  ) {
    super(ssc);
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new RangeError(`an input stream needs a positive whole number of partitions, got ${partitions}`);
    }
    const backpressure = ssc.backpressure.enabled === true;
    this.rateLimit =
      options.maxRatePerSec !== undefined || backpressure
        ? new RateLimit({
            ...(options.maxRatePerSec !== undefined ? { maxRatePerSec: options.maxRatePerSec } : {}),
            ...(backpressure && ssc.backpressure.initialRatePerSec !== undefined
              ? { initialRatePerSec: ssc.backpressure.initialRatePerSec }
              : {}),
          })
        : undefined;
    if (this.rateLimit && isDirectSource(source) && !source.takeRange) {
      throw new RangeError(`${source.description} cannot hold records back, so it takes no rate limit`);
    }
    this.name = source.description;
    ssc.graph.addInput(this);
  }

  /**
   * True when asking the source again for a batch time gives the batch's records again (a generator, a queue), so
   * a restart needs no record of what a batch took. Not so for a rate-limited source: what a batch takes depends on
   * what the batches before it took, so its batches are kept like a socket's.
   */
  get replaysByBatchTime(): boolean {
    return this.source.replayable && this.rateLimit === undefined;
  }

  /**
   * The kind of a source that keeps a position in the checkpoint (`a queue source`), and where it reads when its
   * position names what it read there (`a textFileStream source reading /data/in`): how far it was read means nothing to
   * a source of another kind, which failed to restore it (a folder source with a TypeError), nor to one reading
   * elsewhere, which silently skipped the files of its folder that had a name the old folder's batches took. A
   * source that makes a batch again from its time adds what it makes it from (`a generator source making {…}`).
   */
  override resumeSettings(): string | undefined {
    const making = this.replaysByBatchTime ? this.source.replaySpec : undefined;
    if (!this.source.checkpointPosition && making === undefined) return undefined;
    const kind = this.source.kind ?? this.source.description.split('(')[0]!; // !: split gives at least one part
    const where = this.source.readsFrom;
    const source = where === undefined ? sourceKindWords(kind) : `${sourceKindWords(kind)} reading ${where}`;
    return making === undefined ? source : `${source} making ${making}`;
  }

  get dependencies() {
    return [];
  }

  /**
   * The stream's name in the batch metrics and the Streaming UI: the name given to it (a JSON job's source name),
   * else its source and the line that made it (`job.ts:14 (socket(127.0.0.1:9999))`), since two sockets of one
   * job may differ only there. Streams of one source made on one line (in a loop, a `map`) differ in neither, so
   * theirs carry their input stream's number in the job, as Spark's do (`SocketInputDStream-0`):
   * `job.ts:14 (queue(1 batches)-0)` and `job.ts:14 (queue(1 batches)-1)`.
   */
  get inputName(): string {
    if (this.name !== this.source.description) return this.name;
    const inputs = this.ssc.graph.inputs;
    const twin = inputs.some(
      (other) => other !== this && other.name === other.source.description && other.origin === this.origin,
    );
    if (!twin) return this.origin ?? this.name;
    const numbered = `${this.name}-${inputs.indexOf(this)}`;
    return this.callSite === undefined ? numbered : `${this.callSite} (${numbered})`;
  }

  /**
   * The stream in a batch's metrics: its name and what the batch took from it (Spark's input metadata), at most
   * {@link INPUT_LINES_KEPT} lines, the rest counted. Asked once the batch ran and was counted (`countRecords`),
   * so a planned batch's tasks have reported where they ended.
   */
  inputInfo(batchTime: number): InputStreamInfo {
    const name = this.inputName;
    const status = this.status();
    const lines = this.took.get(batchTime) ?? this.restoredTook(batchTime);
    if (lines === undefined) return { name, ...status };
    const more = lines.length - INPUT_LINES_KEPT;
    return {
      name,
      took: lines.slice(0, INPUT_LINES_KEPT),
      ...(more > 0 ? { tookNotShown: more } : {}),
      ...status,
    };
  }

  /**
   * The stream's state and latest error now, as the batch page and the input streams' table show them (Spark's
   * receiver info): the source's own (a socket's connection) and the failures the engine saw, whichever came last.
   * Nothing when there has been no error and the source has no state. A batch's metrics keep it as the batch
   * completed; the Streaming UI also asks it between batches, as Spark's receiver events reach its page live.
   */
  status(): Pick<InputStreamInfo, 'state' | 'lastError'> {
    const own = this.source.status?.() ?? {};
    const lastError = laterError(own.lastError, this.lastError);
    return { ...(own.state ? { state: own.state } : {}), ...(lastError ? { lastError } : {}) };
  }

  /**
   * A task of the batch failed while it read this stream's input (a file gone, an object it may not read): the
   * stream's latest error. The failure itself fails the batch, as it does without this.
   */
  noteFailedRead(error: unknown): void {
    this.lastError = sourceError(error);
  }

  /** What a batch restored from a checkpoint took, where its record says (an index range, received blocks). */
  private restoredTook(batchTime: number): readonly string[] | undefined {
    const info = this.blocks.get(batchTime);
    if (info?.range) return [indexLine(info.range)];
    if (info?.blocks) return info.blocks.map(blockLine);
    return undefined;
  }

  /**
   * Starts cutting a receiving source's records into blocks every block interval, after the source started.
   * Not on the logical clock, where batches follow each other without time passing: there each tick cuts one
   * block of what arrived. A source that does not receive (a folder, a queue) is read at the tick.
   */
  startReceiving(options: { readonly logicalClock: boolean; readonly timer?: BlockTimer }): void {
    if (options.logicalClock) return;
    this.receiver()?.start(options.timer);
  }

  /**
   * At the end of a run: stops cutting blocks (what no batch took is deleted), and deletes the blocks of forgotten
   * batches computed again that no later batch forgot (those of the run's last or failed batch): no checkpoint
   * names them, so nothing would ever delete them after this.
   */
  async stopReceiving(): Promise<void> {
    await this.generator?.stop();
    const folders = [...this.recomputed.values()].map(blockFolder);
    this.recomputed.clear();
    if (folders.length > 0) {
      const store = this.ssc.env().store;
      await Promise.all(folders.map((folder) => store.deletePrefix(folder)));
    }
  }

  private receiver(): BlockGenerator<T> | undefined {
    const source = this.source;
    if (!isReceiverSource(source)) return undefined;
    this.generator ??= new BlockGenerator<T>({
      source,
      store: () => this.ssc.env().store,
      folder: `input/${this.id}/`,
      blockIntervalMs: this.ssc.blockIntervalMs,
      batchIntervalMs: this.ssc.batchIntervalMs,
      rateLimit: this.rateLimit,
    });
    return this.generator;
  }

  get slideMs() {
    return this.ssc.batchIntervalMs;
  }

  /**
   * After a restart: the blocks stored before it are reused instead of asking the source again, and are
   * deleted by the same rule as the blocks this process stores.
   */
  restoreBlocks(blocks: Readonly<Record<string, InputBlockInfo>>, lastCompletedBatch: number): void {
    this.recovered = new Map(Object.entries(blocks).map(([t, info]) => [Number(t), info]));
    for (const [time, info] of this.recovered) this.blocks.set(time, info);
    this.resumedAfter = lastCompletedBatch;
    const generator = this.receiver();
    if (generator) {
      const named = new Set(
        [...this.recovered.values()].flatMap((info) => info.blocks ?? []).map((b) => b.key),
      );
      this.ssc.cleanup(this.deleteUnnamedBlocks(named, generator.keyPrefix));
    }
  }

  /**
   * Deletes the blocks a stopped process cut after its last tick (killed before a batch named them): no
   * checkpoint names them, so nothing would ever read or delete them. Blocks of this process are kept. A successor
   * that took the job over while this driver was frozen before the listing wrote blocks its checkpoint does not
   * name, so they go as leftovers do, after a check that this driver still owns the job.
   */
  private async deleteUnnamedBlocks(named: ReadonlySet<string>, ownPrefix: string): Promise<void> {
    const store = this.ssc.env().store;
    const folder = `input/${this.id}/`;
    const keys = await store.list(`${folder}b-`);
    const unnamed = new Set(
      keys
        .filter((key) => key.endsWith('/block') && !named.has(key) && !key.startsWith(ownPrefix))
        .map(blockFolder),
    );
    // Every key of those block folders, not only the block itself.
    const folderOf = (key: string) => key.slice(0, key.indexOf('/', folder.length) + 1);
    await deleteLeftovers(
      store,
      keys.filter((key) => unnamed.has(folderOf(key))),
      [...unnamed],
    );
  }

  protected async compute(batchTime: number): Promise<Dataset<T>> {
    try {
      return await this.computeInput(batchTime);
    } catch (error) {
      // The source failed in the driver (a folder gone, a stream deleted): the batch fails as before, and the
      // stream's row in the Streaming UI says why.
      this.lastError = sourceError(error);
      throw error;
    }
  }

  private async computeInput(batchTime: number): Promise<Dataset<T>> {
    const { ctx, scope } = { ctx: this.ssc, scope: this.ssc.graphScope };
    const kept = this.recovered.get(batchTime);
    if (kept) {
      this.recovered.delete(batchTime);
      this.recordsPerBatch.set(batchTime, kept.records);
      // A rate-limited generator's batch is the index range it took, whatever the source's position is now.
      if (kept.range) {
        return new DirectInputDataset<T>(
          { ctx, scope, deps: [], numPartitions: this.partitions },
          (this.source as DirectSource<T>).directSpec, // only direct sources record a range
          kept.range.first,
          kept.range.end,
        );
      }
      // A planned batch is read again by its tasks from the recorded plan: the same ranges, the same records.
      if (kept.read) {
        return new DirectReadDataset<T>(
          { ctx, scope, deps: [], numPartitions: kept.read.parts.length },
          kept.read,
        );
      }
      // A received batch is the blocks it named before it ran, whatever arrived since.
      if (kept.blocks) {
        return new ReceivedBlocksDataset<T>(
          { ctx, scope, deps: [], numPartitions: this.partitions },
          kept.blocks,
        );
      }
      return new BlockDataset<T>(
        { ctx, scope, deps: [], numPartitions: kept.offsets.length - 1 },
        kept.key ?? legacyBlockKey(this.id, batchTime),
        kept.offsets,
      );
    }
    const source = this.source;
    if (!this.replaysByBatchTime && batchTime <= this.resumedAfter) {
      // A restart builds the lineage of stateful streams back to the start, but only reads it from their state
      // checkpoints on; the blocks of older batches were deleted because nothing reads them. Asking the source
      // would put records arriving now into a batch long past, where no output would ever show them.
      return BlockDataset.forgotten<T>(
        { ctx, scope, deps: [], numPartitions: this.partitions },
        this.blockKey(batchTime),
      );
    }
    // A forgotten batch computed again gets a folder of its own: the deletion of its old one may still be running,
    // and a block written into it failed that deletion (ENOTEMPTY, which ended the process) or was deleted by it.
    // (`<batchTime>-<run>-<n>`: a local run that starts deletes those a dead one left; see `RECOMPUTED_INPUT`)
    const again = this.forgot(batchTime);
    const key = again
      ? this.blockKey(`${batchTime}-${this.recomputeRun}-${++this.recomputedBlocks}`)
      : this.blockKey(batchTime);
    const limit = this.rateLimit?.forBatch(batchTime, this.ssc.batchIntervalMs);
    if (isDirectSource(source) && limit && source.takeRange) {
      // A rate-limited batch is the range the source hands out now; recorded, so a restart reruns that range.
      const range = source.takeRange(batchTime, this.ssc.batchIntervalMs, limit);
      this.recordsPerBatch.set(batchTime, range.end - range.first);
      this.blocks.set(batchTime, { offsets: [], records: range.end - range.first, range });
      this.took.set(batchTime, [indexLine(range)]);
      return new DirectInputDataset<T>(
        { ctx, scope, deps: [], numPartitions: this.partitions },
        source.directSpec,
        range.first,
        range.end,
      );
    }
    if (isDirectSource(source)) {
      // The batch is an index range: tasks generate their partitions themselves, in parallel.
      const { first, end } = source.indexRange(batchTime, this.ssc.batchIntervalMs);
      this.recordsPerBatch.set(batchTime, end - first);
      this.took.set(batchTime, [indexLine({ first, end })]);
      return new DirectInputDataset<T>(
        { ctx, scope, deps: [], numPartitions: this.partitions },
        source.directSpec,
        first,
        end,
      );
    }
    if (isPlannedSource(source)) {
      // The batch is a plan (shard ranges, object keys) that the checkpoint records before the batch runs; the
      // tasks read. The record count is the tasks' to know, so the batch's metrics count none here.
      const folder = blockFolder(key);
      const store = this.ssc.env().store;
      const read = await source.planBatch(batchTime, this.ssc.batchIntervalMs, this.partitions, {
        folder,
        readReport: (reportKey) => store.get(reportKey),
        ...(limit ? { limit } : {}),
      });
      this.blocks.set(batchTime, { key, offsets: [], records: 0, read });
      return new DirectReadDataset<T>({ ctx, scope, deps: [], numPartitions: read.parts.length }, read);
    }
    const generator = this.receiver();
    if (generator) {
      // On the logical clock no block interval passes, so the tick cuts one block of what arrived, under the
      // batch's limit; on the system clock the blocks were stored during the interval and the tick only names them.
      if (!generator.running) {
        const maxRecords = limit?.maxRecords() ?? Number.POSITIVE_INFINITY;
        generator.take(maxRecords, Number.isFinite(maxRecords) ? 2 * maxRecords : undefined);
      }
      const blocks = await generator.allocate();
      const received = blocks.reduce((sum, block) => sum + block.records, 0);
      this.recordsPerBatch.set(batchTime, received);
      this.blocks.set(batchTime, { offsets: [], records: received, blocks });
      this.took.set(batchTime, blocks.map(blockLine));
      return new ReceivedBlocksDataset<T>({ ctx, scope, deps: [], numPartitions: this.partitions }, blocks);
    }
    const records = await source.recordsFor(batchTime, this.ssc.batchIntervalMs, limit);
    this.recordsPerBatch.set(batchTime, records.length);
    const taken = source.describeTaken?.(batchTime, this.ssc.batchIntervalMs);
    if (taken) this.took.set(batchTime, taken);
    const partitions =
      source.partitionsFor?.(batchTime, this.ssc.batchIntervalMs, limit !== undefined) ?? this.partitions;
    const segments = Array.from({ length: partitions }, (_, i) => {
      const [from, to] = sliceBounds(records.length, partitions, i);
      return records.slice(from, to);
    });
    const { bytes, offsets } = encodeSegments(segments);
    // An empty batch stores nothing: its offsets say every partition is empty.
    if (bytes.length > 0) await this.ssc.env().store.put(key, bytes);
    // Only a batch of its time's first computation goes to the checkpoint: a checkpoint naming a forgotten batch's
    // block read it, after a restart, from the folder deleted once the batch was forgotten again.
    if (!again) this.blocks.set(batchTime, { key, offsets, records: records.length });
    else if (bytes.length > 0) this.recomputed.set(batchTime, key);
    return new BlockDataset<T>({ ctx, scope, deps: [], numPartitions: partitions }, key, offsets);
  }

  /**
   * After a planned batch ran: its record count, which only its tasks know, from their reports (the batch
   * metrics and idle detection read `recordsPerBatch`), and what it read, for the batch page. A batch of input
   * blocks knows both already.
   */
  async countRecords(batchTime: number): Promise<void> {
    const read = this.blocks.get(batchTime)?.read;
    const source = this.source;
    if (!read || !isPlannedSource(source)) return;
    const store = this.ssc.env().store;
    const folder = blockFolder(this.blockKey(batchTime));
    const ctx = { folder, readReport: (key: string) => store.get(key) };
    // Described before the count, which takes the reports in: a source reads each report once (a Kinesis source
    // caches it until then), so the description costs no request of its own; one that fails leaves the page without
    // it, never the batch without its count.
    const took = await source.describeRead?.(read, ctx).catch(() => undefined);
    if (took) this.took.set(batchTime, took);
    if (source.recordsRead) this.recordsPerBatch.set(batchTime, await source.recordsRead(read, ctx));
  }

  /**
   * True when the batch took something from its source (records, blocks, a plan of reads): the scheduler skips a
   * checkpoint that adds only batches that took nothing (see `RedundantCheckpoints`).
   */
  tookInput(batchTime: number): boolean {
    if ((this.recordsPerBatch.get(batchTime) ?? 0) > 0) return true;
    const info = this.blocks.get(batchTime);
    return info !== undefined && tookInput(info);
  }

  override clearMetadata(keepAfter: number): number {
    const forParents = super.clearMetadata(keepAfter);
    // Blocks restored from a checkpoint that this process never read (a stateless job reads only the batches
    // after the restart) are no dataset of it, so the base never forgets them: the same rule deletes them here.
    // They count as forgotten: a slice over one computes it again from a source that replays it, or is refused.
    for (const time of [...this.blocks.keys()]) {
      if (time > keepAfter) continue;
      this.deleteBlock(time);
      this.markForgotten(time);
    }
    return forParents;
  }

  protected override forget(batchTime: number): void {
    this.recordsPerBatch.delete(batchTime);
    this.took.delete(batchTime);
    this.deleteBlock(batchTime);
    const again = this.recomputed.get(batchTime);
    if (again !== undefined) {
      this.recomputed.delete(batchTime);
      const store = this.ssc.env().store;
      this.ssc.cleanup(store.deletePrefix(blockFolder(again)));
    }
  }

  private deleteBlock(batchTime: number): void {
    const info = this.blocks.get(batchTime);
    this.blocks.delete(batchTime);
    this.recovered.delete(batchTime);
    if (info?.blocks) {
      // Received blocks: each has its own folder (`…/b-<run>-<n>/`), so deleting one touches no other.
      const store = this.ssc.env().store;
      const folders = info.blocks.map((block) => blockFolder(block.key));
      this.ssc.cleanup(Promise.all(folders.map((folder) => store.deletePrefix(folder))).then(() => {}));
      return;
    }
    // Only a batch's own folder: a bare key would be a prefix of other batches' keys (`…/1000` of `…/10000`).
    // A block of the old layout (a bare key, from a checkpoint written before) is left rather than risk that.
    if (info?.key?.endsWith('/block')) {
      const folder = blockFolder(info.key);
      const store = this.ssc.env().store;
      const source = this.source;
      // A planned batch's folder holds its tasks' reports: the source reads what it still needs first. A losing
      // attempt of such a task may write its report after the deletion (see `deleteTaskWrites`).
      const learned = info.read && isPlannedSource(source) ? source.beforeForget?.(folder) : undefined;
      this.ssc.cleanup(
        (learned ?? Promise.resolve()).then(() =>
          this.ssc.deleteTaskWrites(() => store.deletePrefix(folder)),
        ),
      );
    }
  }

  /** A source that cannot replay a batch (a socket, a folder) is never asked for one it gave before. */
  protected override recomputesForgotten(): boolean {
    return this.replaysByBatchTime;
  }

  /** A batch's block, in a folder of its own so that deleting it can never delete another batch's block. */
  private blockKey(batchTime: number | string): string {
    return `input/${this.id}/${batchTime}/block`;
  }
}

/** A direct source's index range [first, end) as the batch page shows it. */
function indexLine({ first, end }: { readonly first: number; readonly end: number }): string {
  return end > first ? `records ${first}–${end - 1}` : `no record (at ${first})`;
}

/** A received block as the batch page shows it: its folder's name (`b-<run>-<n>`) and its records. */
function blockLine(block: ReceivedBlockRef): string {
  const folder = block.key.split('/').at(-2) ?? block.key;
  return `block ${folder}: ${block.records} records`;
}

/** Where blocks were before each had its folder; a checkpoint written then names its blocks without a key. */
function legacyBlockKey(streamId: string, batchTime: number): string {
  return `input/${streamId}/${batchTime}`;
}
