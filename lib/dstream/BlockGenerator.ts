import type { ReceivedBlockRef } from '../dataset/ReceivedBlocksDataset';
import { SluiceError } from '../errors';
import type { RateLimit } from '../source/RateLimit';
import type { TakenBlock } from '../source/ReceivedLines';
import type { ReceiverSource } from '../source/Source';
import type { BlockStore } from '../storage/BlockStore';
import { encodeReceivedBlock } from '../storage/ReceivedBlock';

/** The default block interval, in ms, as Spark's `spark.streaming.blockInterval`. */
export const DEFAULT_BLOCK_INTERVAL_MS = 200;

/** Calls `tick` every `ms` until the returned function is called (a test passes one it drives by hand). */
export type BlockTimer = (ms: number, tick: () => void) => () => void;

/** Real time: `setInterval`, which does not keep the process alive on its own. */
export const intervalTimer: BlockTimer = (ms, tick) => {
  const handle = setInterval(tick, ms);
  handle.unref();
  return () => clearInterval(handle);
};

/** What a {@link BlockGenerator} needs from its stream. */
export interface BlockGeneratorOptions<T> {
  readonly source: ReceiverSource<T>;
  /** The job's store (resolved when a block is stored: a runtime connects after the stream is built). */
  readonly store: () => BlockStore;
  /** The stream's folder in the store, such as `input/n1/`: each block gets a folder of its own inside. */
  readonly folder: string;
  readonly blockIntervalMs: number;
  readonly batchIntervalMs: number;
  /** The stream's rate bound: a block takes only what the rate allows over the time since the last block. */
  readonly rateLimit?: RateLimit | undefined;
  /** The time in ms; default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Spark's BlockGenerator: while a batch interval runs, every block interval it takes the records a receiving
 * source (a socket) has received and stores them as one block, so at the batch's tick the driver only names the
 * blocks cut so far ({@link allocate}) and encodes nothing. A record that arrives after the last block of an
 * interval was cut goes to the next batch, as in Spark.
 *
 * A block is stored at `<folder>b-<run>-<n>/block`: a folder per block, so deleting one never touches another,
 * and `<run>` (the generator's start) keeps a restarted job from reusing a key its checkpoint still names.
 */
export class BlockGenerator<T> {
  /** Blocks cut and stored (or being stored) that no batch has taken yet. */
  private cut: ReceivedBlockRef[] = [];
  /** Their writes: a batch may name a block only once it is in the store. */
  private writes: Promise<void>[] = [];
  private cancelTimer: (() => void) | undefined;
  private readonly run = Date.now().toString(36);
  /** Every key this generator writes starts with it (`input/n1/b-<run>-`). */
  readonly keyPrefix: string;
  private nextBlock = 0;
  private readonly now: () => number;
  private readonly originMs: number;
  /** When the last block was cut, in ms since {@link originMs}. */
  private lastCutMs = 0;

  constructor(private readonly options: BlockGeneratorOptions<T>) {
    this.now = options.now ?? Date.now;
    this.originMs = this.now();
    this.keyPrefix = `${options.folder}b-${this.run}-`;
  }

  /** True while blocks are cut on the timer (the system clock); false before {@link start} and after {@link stop}. */
  get running(): boolean {
    return this.cancelTimer !== undefined;
  }

  /** Starts cutting a block every block interval. */
  start(timer: BlockTimer = intervalTimer): void {
    if (this.cancelTimer) return;
    this.lastCutMs = this.now() - this.originMs;
    this.cancelTimer = timer(this.options.blockIntervalMs, () => this.cutBlock());
  }

  /**
   * Cuts a block of what arrived since the last one, under the rate over that time. Spans of blocks add up to
   * the time elapsed, so over time a capped stream takes exactly its rate.
   */
  cutBlock(): void {
    const nowMs = this.now() - this.originMs;
    const limit = this.options.rateLimit;
    if (!limit) {
      this.take(Number.POSITIVE_INFINITY, undefined);
    } else {
      const spanMs = nowMs - this.lastCutMs;
      const maxRecords = spanMs > 0 ? limit.forBatch(nowMs, spanMs).maxRecords() : 0;
      const perBatch = limit.forBatch(nowMs, this.options.batchIntervalMs).maxRecords();
      this.take(maxRecords, Number.isFinite(perBatch) ? 2 * perBatch : undefined);
    }
    this.lastCutMs = nowMs;
  }

  /**
   * Takes at most `maxRecords` of what the source received and stores them as one block (none when nothing
   * came). The tick of a batch calls it when no timer runs (the logical clock), with the batch's limit.
   */
  take(maxRecords: number, pauseAtRecords: number | undefined): void {
    const block = this.takeBlock(maxRecords, pauseAtRecords);
    if (!block) return;
    const key = `${this.keyPrefix}${String(this.nextBlock++).padStart(9, '0')}/block`;
    const write = this.options.store().put(key, block.bytes);
    // Once the write settles the store holds no reference to the bytes (`BlockStore.put`): the source may
    // copy later lines into that memory. (Only with a release: `then` without handlers would pass a failure on
    // to a promise nothing awaits.)
    const { release } = block;
    if (release) write.then(release, release);
    write.catch(() => {}); // awaited by the batch that names the block, which fails with the error
    this.cut.push({ key, records: block.records, format: block.format });
    this.writes.push(write);
  }

  /** The source's block as it encodes it, or what it received, encoded here; undefined when nothing came. */
  private takeBlock(maxRecords: number, pauseAtRecords: number | undefined): TakenBlock | undefined {
    const { source } = this.options;
    if (source.takeReceivedBlock) return source.takeReceivedBlock(maxRecords, pauseAtRecords);
    const records = source.takeReceived(maxRecords, pauseAtRecords);
    return records.length === 0 ? undefined : { ...encodeReceivedBlock(records), records: records.length };
  }

  /** The blocks cut since the last batch, once stored: the batch at this tick names them and takes them all. */
  async allocate(): Promise<ReceivedBlockRef[]> {
    const blocks = this.cut;
    const writes = this.writes;
    this.cut = [];
    this.writes = [];
    try {
      await Promise.all(writes);
    } catch (error) {
      throw new SluiceError(
        `${this.options.source.description}: an input block could not be stored: ${(error as Error).message}`,
      );
    }
    return blocks;
  }

  /** Stops the timer; the blocks no batch took are deleted, as no checkpoint names them. */
  async stop(): Promise<void> {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const orphans = this.cut;
    const writes = this.writes;
    this.cut = [];
    this.writes = [];
    await Promise.allSettled(writes);
    const store = this.options.store();
    await Promise.all(orphans.map((block) => store.deletePrefix(blockFolder(block.key))));
  }
}

/**
 * The folder of a block key, a received block's (`…/b-<run>-<n>/block`) or a batch's (`input/n1/1000/block`):
 * each block has a folder of its own, so deleting the folder deletes that block and no other.
 */
export function blockFolder(key: string): string {
  return key.slice(0, -'block'.length);
}
