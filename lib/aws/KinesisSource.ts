import { GetRecordsCommand, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';
import { preview, SluiceError } from '../errors';
import type { BatchLimit } from '../source/RateLimit';
import type { PlanContext, PlannedSource, ReadPlan } from '../source/Source';
import { laterError, type SourceError, type SourceStatus, sourceError } from '../source/SourceStatus';
import { recordTextOf } from '../source/textLines';
import { type RetryPolicy, withRetries } from './awsClients';
import { type KinesisPosition, parseKinesisPosition } from './KinesisPosition';
import { expiredIterator, type KinesisReadPart } from './KinesisRangeReader';
import { type DirectReadSettings, KinesisReadPlanner, type ShardProgress } from './KinesisReadPlanner';
import { GET_RECORDS_LIMIT, getRecordsPage, isKinesisRetryable, openShardIterator } from './kinesisCalls';
import { listShards, readableShards } from './shardLineage';

/** Settings of a {@link KinesisSource}. */
export interface KinesisSourceOptions {
  /** The Kinesis client; {@link kinesisClient} gives the process's shared one. */
  readonly client: KinesisClient;
  /** The stream's name. */
  readonly streamName: string;
  /** At most this many records per shard per batch, the rest waiting for the next batch. Default `10_000`. */
  readonly maxRecordsPerShard?: number;
  /**
   * Where shards are read from when the source has no position yet: `TRIM_HORIZON`, the oldest record kept, or
   * `LATEST`, the records written after the source's first batch began. Default `TRIM_HORIZON`.
   */
  readonly startAt?: 'TRIM_HORIZON' | 'LATEST';
  /**
   * Retries of a throttled or 5xx call (such as ProvisionedThroughputExceededException on a hot shard) once
   * the SDK's own attempts ran out; when they are spent the batch fails, records are never skipped.
   * Default: 8 retries, full jitter from a 200 ms cap doubling up to 5 s.
   */
  readonly retry?: Pick<RetryPolicy, 'retries' | 'baseBackoffMs' | 'maxBackoffMs' | 'onRetry'>;
  /**
   * When reading must end, in epoch ms (asked at each batch): a batch cut at the deadline takes what was read so
   * far, shard by shard, and the rest waits for the next batch (the next invocation's). The coordinator sets it a
   * margin before its invocation's timeout, so a read is never what Lambda kills. Default: no deadline.
   */
  readonly readDeadlineMs?: () => number | undefined;
  /**
   * Tasks read the shards themselves (the serverless runtime): the source only plans each batch's ranges, and
   * the tasks report where they ended into `storeUrl` (the job's store, as a URL the workers can open). Default:
   * none, the source reads every batch itself and the engine stores it as an input block.
   */
  readonly direct?: DirectReadSettings;
}

/** Empty GetRecords answers in a row that end a shard's read while Kinesis says the shard is still behind. */
const MAX_EMPTY_READS = 5;

/**
 * The records of a Kinesis data stream, decoded as UTF-8 text, read shard by shard at each batch, as Spark's
 * Kinesis receiver and the KCL do.
 *
 * A batch reads every shard it may read, in shard-id order, from just after the last sequence number it
 * handed out (or from `startAt` for a shard it never read), following the shard's iterator while records keep
 * coming, up to {@link KinesisSourceOptions.maxRecordsPerShard}. So each batch takes a contiguous range of
 * sequence numbers from each shard, decided when the batch is cut. The source is not replayable: the engine
 * stores a batch's records as an input block and checkpoints {@link checkpointPosition} before the batch runs.
 *
 * Resharding: a shard closed by a split or a merge is read to its end and marked finished; its children
 * (found with ListShards through `ParentShardId` and `AdjacentParentShardId`) are read only once all their
 * parents are finished, so the records of each hash key stay in order across the reshard.
 *
 * @example
 * const source = new KinesisSource({ client: kinesisClient(), streamName: 'tweets', maxRecordsPerShard: 5000 });
 * const lines = await source.recordsFor(1000, 1000);
 * const position = source.checkpointPosition(); // JSON, for the metadata checkpoint
 */
export class KinesisSource implements PlannedSource<string> {
  /** Such as `kinesis(tweets)`. */
  readonly description: string;
  /** The stream (`the stream tweets`): its position's sequence numbers are of that stream's shards. */
  readonly readsFrom: string;
  /** False: the stream is read once; the engine keeps each batch's records itself, or its plan (direct reads). */
  readonly replayable = false;
  /** True when tasks read the shards (the `direct` option) and the source only plans ranges. */
  readonly readsDirectly: boolean;
  /** The stream's name. */
  readonly streamName: string;
  /** GetRecords calls sent so far, retries included: the cost report counts them. */
  getRecordsCalls = 0;
  /** At most this many records per shard per batch. */
  readonly maxRecordsPerShard: number;
  /** Where a shard without a position is read from. */
  readonly startAt: 'TRIM_HORIZON' | 'LATEST';
  private readonly client: KinesisClient;
  private readonly retry: RetryPolicy;
  private readonly readDeadlineMs: () => number | undefined;

  /** The last sequence number handed out, per shard not finished. */
  private sequenceNumbers = new Map<string, string>();
  /** Closed shards read to their end. */
  private finishedShards = new Set<string>();
  /** Direct reads: the batches planned whose tasks have not reported yet, and the reports taken in. */
  private readonly planner: KinesisReadPlanner;
  /** With LATEST, when reading began: a shard without a position starts there. */
  private sinceMs: number | undefined;
  /** The stream's shards at the last ListShards, sorted by id; listed again whenever a shard finishes. */
  private shards: Shard[] | undefined;
  /**
   * The latest trouble its reads recovered from, its own or one its tasks reported: a throttled call retried, an
   * expired iterator renewed. A failure that is not recovered from (a deleted stream) fails the batch, and the
   * engine records it.
   */
  private lastError: SourceError | undefined;

  /** Reads `streamName`; nothing is called until the first batch. */
  constructor(options: KinesisSourceOptions) {
    const { client, streamName, maxRecordsPerShard = 10_000, startAt = 'TRIM_HORIZON' } = options;
    if (typeof streamName !== 'string' || streamName === '') {
      throw new SluiceError(
        `KinesisSource streamName must be a non-empty string, got ${preview(streamName)}`,
      );
    }
    if (!Number.isInteger(maxRecordsPerShard) || maxRecordsPerShard < 1) {
      throw new SluiceError(
        `KinesisSource maxRecordsPerShard must be a positive integer, got ${String(maxRecordsPerShard)}`,
      );
    }
    if (startAt !== 'TRIM_HORIZON' && startAt !== 'LATEST') {
      throw new SluiceError(
        `KinesisSource startAt must be 'TRIM_HORIZON' or 'LATEST', got ${preview(startAt)}`,
      );
    }
    this.client = client;
    this.streamName = streamName;
    this.maxRecordsPerShard = maxRecordsPerShard;
    this.startAt = startAt;
    const onRetry = options.retry?.onRetry;
    this.retry = {
      retries: 8,
      maxBackoffMs: 5000,
      ...options.retry,
      isRetryable: isKinesisRetryable,
      // A throttled call is retried (and logged by the caller's onRetry, as before); the UI shows it as the latest error.
      onRetry: (error, retry, delayMs) => {
        this.lastError = sourceError(error);
        onRetry?.(error, retry, delayMs);
      },
    };
    this.description = `kinesis(${streamName})`;
    this.readsFrom = `the stream ${streamName}`;
    this.readDeadlineMs = options.readDeadlineMs ?? (() => undefined);
    this.direct = options.direct;
    this.planner = new KinesisReadPlanner(streamName, maxRecordsPerShard);
    this.readsDirectly = options.direct !== undefined;
    const settleMs = options.direct?.settleMs;
    if (settleMs !== undefined && !(Number.isInteger(settleMs) && settleMs >= 0)) {
      throw new SluiceError(
        `KinesisSource direct.settleMs must be a whole number of ms, got ${preview(settleMs)}`,
      );
    }
  }

  private readonly direct: KinesisSourceOptions['direct'];

  /**
   * Direct reads: what each task reads in the batch, decided without reading a record. Every shard that may be
   * read (not finished, its parents finished) gets a range: from just after its last known sequence number, through
   * the batches whose end is not known yet, to this batch's cut, the coordinator's clock now. The task takes the
   * records up to the first one that arrived after the cut (at most `maxRecordsPerShard`) and reports the last one,
   * which the next plans start after. Shards are dealt to partitions in id order, round robin. A shard closed by
   * a reshard is finished once a task reports its end; its children get ranges from the next plan on, so each
   * hash key's records stay in order. The plan costs a ListShards (when a shard finished) and one small report
   * per task of the batches before: nothing that grows with the records.
   */
  async planBatch(
    _batchTime: number,
    _intervalMs: number,
    partitions: number,
    ctx: PlanContext,
  ): Promise<ReadPlan> {
    const direct = this.direct;
    if (!direct) throw new Error(`${this.description} is not set to read directly (the direct option)`);
    this.planner.readReportsWith(ctx.readReport);
    const finishedBefore = this.finishedShards.size;
    await this.planner.takeInReports(() => this.progress());
    if (this.startAt === 'LATEST') this.sinceMs ??= Date.now();
    let shards = this.shards;
    if (shards === undefined || this.finishedShards.size > finishedBefore) shards = await this.listShards();
    const ready = readableShards(shards, this.finishedShards);
    const cut = { cutMs: Date.now(), sinceMs: this.sinceMs, sequenceNumbers: this.sequenceNumbers };
    const parts = this.planner.plan(ready, partitions, ctx, cut, direct);
    this.keepListed(shards);
    return { reader: 'kinesis', parts };
  }

  /**
   * The latest trouble its reads or its tasks' recovered from (`ProvisionedThroughputExceededException: …`), for the
   * Streaming UI's input streams; nothing when there was none.
   */
  status(): SourceStatus {
    return this.lastError ? { lastError: this.lastError } : {};
  }

  /** How many records the tasks of a planned batch took: the sum of their reports (a missing one counts 0). */
  async recordsRead(plan: ReadPlan, ctx: PlanContext): Promise<number> {
    let records = 0;
    for (const part of plan.parts as (KinesisReadPart | null)[]) {
      if (!part || part.shards.length === 0) continue;
      const report = await this.planner.report(part.report.key, ctx.readReport);
      for (const shard of report?.shards ?? []) records += shard.records ?? 0;
      this.lastError = laterError(this.lastError, report?.trouble);
      // The workers' reads are this batch's GetRecords calls now: the cost report counts them here.
      this.getRecordsCalls += report?.getRecordsCalls ?? 0;
    }
    // The batch ran: where it ended goes into the position now, so the checkpoint that marks it complete has it.
    await this.planner.takeInReports(() => this.progress(), ctx.readReport);
    return records;
  }

  /**
   * Each shard a planned batch read, with its sequence range: after the last record of the batches before (or
   * from the shard's start) up to the last record its task took or read past, from the task's report.
   */
  async describeRead(plan: ReadPlan, ctx: PlanContext): Promise<readonly string[]> {
    const lines: string[] = [];
    for (const part of plan.parts as (KinesisReadPart | null)[]) {
      if (!part || part.shards.length === 0) continue;
      const report = await this.planner.report(part.report.key, ctx.readReport);
      for (const shard of part.shards) {
        const read = report?.shards.find((s) => s.shardId === shard.shardId);
        const from =
          shard.after !== undefined
            ? `after ${shard.after}`
            : shard.sinceMs !== undefined
              ? `from ${new Date(shard.sinceMs).toISOString()}`
              : 'from its start';
        const range = read?.last === undefined ? `no record ${from}` : `${from} to ${read.last}`;
        lines.push(
          `${shard.shardId}: ${range} (${read?.records ?? 0} records${read?.closed ? ', closed' : ''})`,
        );
      }
    }
    return lines;
  }

  /** Before a batch's folder (and its reports) is deleted, its reports are taken in. */
  async beforeForget(_folder: string): Promise<void> {
    await this.planner.takeInReports(() => this.progress());
  }

  /**
   * The records written since the previous batch, up to the per-shard cap: all of one shard's, in sequence
   * order, then the next shard's. On a failure nothing moves: the next call reads the same records again.
   * The batch time does not matter: a batch takes what the stream holds when it is cut.
   */
  async recordsFor(_batchTime?: number, _intervalMs?: number, limit?: BatchLimit): Promise<string[]> {
    if (this.startAt === 'LATEST') this.sinceMs ??= Date.now();
    // Work on copies and commit at the end, so a batch that fails half way hands out nothing.
    const sequenceNumbers = new Map(this.sequenceNumbers);
    const finishedShards = new Set(this.finishedShards);
    let shards = this.shards ?? (await this.listShards());
    const readThisBatch = new Set<string>();
    const records: string[] = [];
    // The per-shard cap, fixed by the shards readable when the batch is cut (a rate limit is shared among them).
    let maxRecords: number | undefined;
    for (;;) {
      const ready = readableShards(shards, finishedShards, readThisBatch);
      if (ready.length === 0) break;
      maxRecords ??= Math.min(this.maxRecordsPerShard, limit?.maxRecords(ready.length) ?? Infinity);
      let finishedAny = false;
      for (const shardId of ready) {
        // Past the deadline no new shard is read: each shard's range stays contiguous, the rest comes next batch.
        if (this.pastDeadline()) break;
        readThisBatch.add(shardId);
        const read = await this.readShard(shardId, sequenceNumbers.get(shardId), maxRecords);
        for (const record of read.records) records.push(record);
        if (read.lastSequenceNumber !== undefined) sequenceNumbers.set(shardId, read.lastSequenceNumber);
        if (read.closed) {
          finishedShards.add(shardId);
          sequenceNumbers.delete(shardId);
          finishedAny = true;
        }
      }
      if (!finishedAny || this.pastDeadline()) break;
      // The children of a shard that just finished may be newer than the last listing; read them this batch.
      shards = await this.listShards();
    }
    this.sequenceNumbers = sequenceNumbers;
    this.finishedShards = finishedShards;
    this.keepListed(shards);
    return records;
  }

  /**
   * Whether a batch cut now would take a record, without taking one: the wake-up check of a job asleep (see
   * `IdleTracker`). One ListShards (a reshard's new shards count), then per shard a batch may read, GetShardIterator
   * from its position and GetRecords with Limit 1, following the iterator while Kinesis answers empty but says the
   * shard is behind (a sparse shard), at most a few times. A closed shard found empty counts as finished, so its
   * children are checked too. DescribeStreamSummary would be one call, but it says nothing about records. Nothing
   * moves but what the tasks' reports (read through `readReport`) say was read already.
   */
  async hasNewRecords(readReport?: PlanContext['readReport']): Promise<boolean> {
    // With direct reads the tasks' reports move the positions: the tick's check (given `readReport`, with no batch
    // being planned) takes them in first, or records already read would look new and wake the job at every tick.
    // A running coordinator's check does not: `planBatch` takes them in, and doing it here too would race with it
    // (a report taken in twice drops the newest plan's entry, and its records are read again).
    if (readReport) await this.planner.takeInReports(() => this.progress(), readReport);
    const shards = await this.listShards();
    const finished = new Set(this.finishedShards);
    const checked = new Set<string>();
    for (;;) {
      const ready = readableShards(shards, finished, checked);
      if (ready.length === 0) return false;
      for (const shardId of ready) {
        checked.add(shardId);
        let iterator = await this.shardIterator(shardId, this.sequenceNumbers.get(shardId));
        for (let reads = 0; iterator !== undefined && reads < MAX_EMPTY_READS; reads++) {
          const request = { ShardIterator: iterator, Limit: 1 };
          const out = await withRetries(() => {
            this.getRecordsCalls++;
            return this.client.send(new GetRecordsCommand(request));
          }, this.retry);
          if ((out.Records ?? []).length > 0) return true;
          if (out.NextShardIterator === undefined || out.NextShardIterator === null) {
            finished.add(shardId);
            break;
          }
          if (!out.MillisBehindLatest) break;
          iterator = out.NextShardIterator;
        }
      }
    }
  }

  private pastDeadline(): boolean {
    const deadline = this.readDeadlineMs();
    return deadline !== undefined && Date.now() >= deadline;
  }

  /** The last sequence number handed out per shard and the finished shards, as JSON. */
  checkpointPosition(): KinesisPosition {
    const unreported = this.planner.unreportedPosition();
    return {
      sequenceNumbers: Object.fromEntries([...this.sequenceNumbers].sort(([a], [b]) => (a < b ? -1 : 1))),
      finishedShards: [...this.finishedShards].sort(),
      ...(this.sinceMs === undefined ? {} : { sinceMs: this.sinceMs }),
      ...(unreported === undefined ? {} : { unreported }),
    };
  }

  /** Continues from a {@link checkpointPosition}: the next batch starts right after what it had handed out. */
  restorePosition(position: unknown): void {
    const { sequenceNumbers, finishedShards, sinceMs, unreported } = parseKinesisPosition(
      position,
      this.description,
    );
    this.sequenceNumbers = new Map(Object.entries(sequenceNumbers));
    this.planner.restore(unreported);
    this.finishedShards = new Set(finishedShards);
    this.sinceMs = sinceMs ?? this.sinceMs;
    this.shards = undefined;
  }

  /** One shard's records for this batch, from just after `after`. */
  private async readShard(
    shardId: string,
    after: string | undefined,
    maxRecords: number,
  ): Promise<{ records: string[]; lastSequenceNumber: string | undefined; closed: boolean }> {
    const records: string[] = [];
    let last = after;
    let iterator = await this.shardIterator(shardId, last);
    let emptyReads = 0;
    while (iterator !== undefined && records.length < maxRecords && !this.pastDeadline()) {
      const limit = Math.min(GET_RECORDS_LIMIT, maxRecords - records.length);
      const out = await getRecordsPage(this.client, this.retry, iterator, limit, () => {
        this.getRecordsCalls++;
      });
      if (!out) {
        // The iterator expired: a slow batch takes a fresh one from where it got to.
        this.lastError = expiredIterator(shardId);
        iterator = await this.shardIterator(shardId, last);
        continue;
      }
      for (const record of out.Records ?? []) {
        records.push(recordTextOf(record.Data));
        last = record.SequenceNumber;
      }
      // No next iterator: the shard was closed by a reshard and this was its end.
      if (out.NextShardIterator === undefined || out.NextShardIterator === null) {
        return { records, lastSequenceNumber: last, closed: true };
      }
      iterator = out.NextShardIterator;
      if ((out.Records ?? []).length === 0) {
        // Caught up. Kinesis may also answer empty while behind (a sparse shard): then read on, a little.
        if (!out.MillisBehindLatest || ++emptyReads >= MAX_EMPTY_READS) break;
      } else {
        emptyReads = 0;
      }
    }
    return { records, lastSequenceNumber: last, closed: false };
  }

  /** An iterator just after `after`, or at `startAt` for a shard never read; undefined when nothing can be read yet. */
  private shardIterator(shardId: string, after: string | undefined): Promise<string | undefined> {
    const start =
      after !== undefined
        ? { after }
        : this.startAt === 'LATEST'
          ? // AT_TIMESTAMP rather than LATEST: a LATEST iterator taken at each batch would skip what arrived in between.
            { atMs: this.sinceMs ?? Date.now() }
          : ({ oldest: true } as const);
    return openShardIterator(this.client, this.retry, this.streamName, shardId, start);
  }

  /**
   * The position the tasks' reports move, as it is when asked: the maps are replaced, not only changed. Asked of
   * `this` at each call, never bound once: a job's slept batches run on a prototype child of the source (see
   * `emptyThrough`), whose assignments shadow the source's own maps.
   */
  private progress(): ShardProgress {
    return { sequenceNumbers: this.sequenceNumbers, finishedShards: this.finishedShards };
  }

  /** Every shard of the stream still in its retention, open or closed, sorted by id. */
  private listShards(): Promise<Shard[]> {
    return listShards(this.client, this.retry, this.streamName);
  }

  /**
   * Keeps `shards` as the last listing and forgets the shards that aged out of the stream's retention, so the
   * checkpoint does not grow with every reshard.
   */
  private keepListed(shards: Shard[]): void {
    const listed = new Set(shards.map((s) => s.ShardId));
    this.shards = shards;
    this.sequenceNumbers = new Map([...this.sequenceNumbers].filter(([id]) => listed.has(id)));
    this.finishedShards = new Set([...this.finishedShards].filter((id) => listed.has(id)));
    this.planner.keepListed(listed);
  }
}
