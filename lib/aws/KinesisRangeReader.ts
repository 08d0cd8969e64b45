import type { _Record, KinesisClient } from '@aws-sdk/client-kinesis';
import { type SourceError, sourceError } from '../source/SourceStatus';
import { recordTextOf } from '../source/textLines';
import type { BlockStore } from '../storage/BlockStore';
import type { RetryPolicy } from './awsClients';
import { GET_RECORDS_LIMIT, getRecordsPage, isKinesisRetryable, openShardIterator } from './kinesisCalls';

/**
 * One shard's range in a batch, as the coordinator fixed it (see `KinesisSource`): the records after `after`
 * (or from the source's start), cut batch by batch by arrival time. A batch takes the shard's records, in
 * sequence order, up to the first one whose ApproximateArrivalTimestamp is after its cut, and at most
 * `maxRecords`; the next batch starts right after.
 */
export interface KinesisShardRange {
  readonly shardId: string;
  /** The last sequence number of an earlier batch whose end is known; absent: the shard's start. */
  readonly after?: string;
  /** With no `after` and `startAt: 'LATEST'`: the shard is read from this time (ms since the epoch). */
  readonly sinceMs?: number;
  /**
   * The cuts of the batches between `after` and this one whose last record is not known yet (their task had
   * not reported when this batch was planned): their records are read past by the same rule, not taken.
   */
  readonly skipCutsMs: readonly number[];
  /**
   * The cap of each of those batches, when a rate limit made it differ from the part's `maxRecords`. Absent in plans
   * written before: every batch then had the part's cap.
   */
  readonly skipMaxRecords?: readonly number[];
  /** This batch's cut, in ms since the epoch (the coordinator's clock when it planned the batch). */
  readonly cutMs: number;
}

/** What one task of a Kinesis batch reads: some shards' ranges, in shard-id order. */
export interface KinesisReadPart {
  readonly streamName: string;
  readonly shards: readonly KinesisShardRange[];
  /** At most this many records per shard and batch. */
  readonly maxRecords: number;
  /**
   * How long after a cut a record that arrived before it may still be invisible to GetRecords: a task that reaches
   * a shard's tip before `cutMs + settleMs` waits and reads again, so no later read finds more.
   */
  readonly settleMs: number;
  /** Where the task writes its {@link KinesisReport}: a store URL and a key in it. */
  readonly report: { readonly storeUrl: string; readonly key: string };
}

/** What a task reports after reading its part: where each shard's batch ended. */
export interface KinesisReport {
  readonly shards: ReadonlyArray<{
    readonly shardId: string;
    /** The last record up to this batch's end (taken or read past); absent when there was none after `after`. */
    readonly last?: string;
    /** True when the shard is closed (a reshard) and its end was reached inside this batch. */
    readonly closed: boolean;
    /** How many records the batch took from the shard (for the metrics). */
    readonly records: number;
  }>;
  /** GetRecords calls the task made, for the batch's cost report (the coordinator makes none). */
  readonly getRecordsCalls?: number;
  /**
   * The latest trouble the read recovered from (a throttled call retried, an expired iterator renewed), for the
   * Streaming UI's input streams; absent when there was none.
   */
  readonly trouble?: SourceError;
}

/** What a read of an expired iterator means: a slow read, renewed from where it got to. */
export function expiredIterator(shardId: string): SourceError {
  return sourceError(`ExpiredIteratorException: the iterator of ${shardId} expired; a fresh one was taken`);
}

/** Empty answers in a row, while Kinesis says the shard is behind, after which the task fails (and is retried). */
const MAX_EMPTY_BEHIND = 1000;

/**
 * Reads Kinesis parts inside a task (the worker's GetRecords): the same part always gives the same records,
 * because the range's end is a rule on the records themselves, never on when the task ran.
 */
export class KinesisRangeReader {
  private readonly retry: RetryPolicy;

  constructor(
    private readonly client: KinesisClient,
    private readonly storeOf: (url: string) => Promise<BlockStore>,
    retry: Pick<RetryPolicy, 'retries' | 'baseBackoffMs' | 'maxBackoffMs' | 'onRetry'> = {},
  ) {
    this.retry = {
      retries: 8,
      maxBackoffMs: 5000,
      ...retry,
      isRetryable: isKinesisRetryable,
    };
  }

  /** The part's records, shard by shard; the report is written before they are returned. */
  async read(part: KinesisReadPart): Promise<string[]> {
    const records: string[] = [];
    const report: KinesisReport['shards'][number][] = [];
    // Counted per read, not per reader: a reader serves concurrent tasks in one process.
    const calls: ReadCalls = { getRecords: 0, trouble: undefined, retry: this.retry };
    // Each retry (logged by the worker's onRetry, as before) is also the read's latest trouble, for its report.
    calls.retry = {
      ...this.retry,
      onRetry: (error, retry, delayMs) => {
        calls.trouble = sourceError(error);
        this.retry.onRetry?.(error, retry, delayMs);
      },
    };
    for (const range of part.shards) {
      const read = await this.readRange(part, range, calls);
      for (const record of read.records) records.push(record);
      report.push({
        shardId: range.shardId,
        ...(read.last !== undefined ? { last: read.last } : {}),
        closed: read.closed,
        records: read.records.length,
      });
    }
    const store = await this.storeOf(part.report.storeUrl);
    const written = {
      shards: report,
      getRecordsCalls: calls.getRecords,
      ...(calls.trouble ? { trouble: calls.trouble } : {}),
    } satisfies KinesisReport;
    await store.put(part.report.key, JSON.stringify(written));
    return records;
  }

  private async readRange(
    part: KinesisReadPart,
    range: KinesisShardRange,
    calls: ReadCalls,
  ): Promise<{ records: string[]; last: string | undefined; closed: boolean }> {
    const cuts = [...range.skipCutsMs, range.cutMs];
    const caps = [
      ...range.skipCutsMs.map((_, i) => range.skipMaxRecords?.[i] ?? part.maxRecords),
      part.maxRecords,
    ];
    let cutIndex = 0;
    let taken = 0;
    let records: string[] = [];
    let last = range.after;
    let iterator = await this.iterator(part.streamName, range, last, calls.retry);
    let emptyBehind = 0;
    // Records read but not yet placed: a GetRecords page can span several batches' cuts.
    let page: _Record[] = [];
    // Past the last record: the range ends there, and `closed` says whether the shard itself ended.
    const end = (closed: boolean) => ({ records: cutIndex === cuts.length - 1 ? records : [], last, closed });
    // Ends this batch of the chain, and the next one starts at the next record; false when it was the last.
    const nextBatch = () => {
      if (cutIndex === cuts.length - 1) return false;
      cutIndex++;
      taken = 0;
      records = [];
      return true;
    };
    let shardEnded = false;
    for (;;) {
      while (page.length > 0) {
        const record = page[0]!;
        const arrivedMs = record.ApproximateArrivalTimestamp?.getTime() ?? 0;
        if (arrivedMs > cuts[cutIndex]! || taken >= caps[cutIndex]!) {
          // This batch of the chain ends here; the next cut's batch starts at this record.
          if (!nextBatch()) return { records, last, closed: false };
          continue;
        }
        page.shift();
        last = record.SequenceNumber;
        taken++;
        records.push(recordTextOf(record.Data));
      }
      if (shardEnded || iterator === undefined) return end(shardEnded);
      // A batch whose cap is reached ends here, whatever the next record is: no need to read it.
      while (taken >= caps[cutIndex]!) if (!nextBatch()) return { records, last, closed: false };
      // Ask for no more than the chain can still take: a page of 10,000 records (up to 10 MB, five seconds of
      // the shard's read throughput) for a batch capped at 15 would be read and thrown away every batch.
      let wanted = caps[cutIndex]! - taken;
      for (let i = cutIndex + 1; i < caps.length; i++) wanted += caps[i]!;
      const limit = Math.min(GET_RECORDS_LIMIT, wanted);
      const out = await getRecordsPage(this.client, calls.retry, iterator, limit, () => {
        calls.getRecords++;
      });
      if (!out) {
        // The iterator expired: a slow task takes a fresh one from where it got to.
        calls.trouble = expiredIterator(range.shardId);
        iterator = await this.iterator(part.streamName, range, last, calls.retry);
        continue;
      }
      page = [...(out.Records ?? [])];
      // No next iterator: a reshard closed the shard and this page is its end (every later batch of it is empty).
      shardEnded = out.NextShardIterator === undefined || out.NextShardIterator === null;
      iterator = out.NextShardIterator ?? undefined;
      if (page.length > 0 || shardEnded) {
        emptyBehind = 0;
        continue;
      }
      if (out.MillisBehindLatest) {
        // Kinesis may answer empty while behind (a sparse shard): records are still to come, read on.
        if (++emptyBehind >= MAX_EMPTY_BEHIND) {
          throw new Error(
            `shard ${range.shardId} of ${part.streamName} answered empty ${MAX_EMPTY_BEHIND} times while behind: ` +
              'the task is retried',
          );
        }
        continue;
      }
      // At the tip. A record that arrived before the cut may not be visible yet: wait out the settle time once.
      const settledAt = cuts[cuts.length - 1]! + part.settleMs;
      if (Date.now() < settledAt) {
        await new Promise((resolve) => setTimeout(resolve, settledAt - Date.now()));
        continue;
      }
      // Settled and nothing past the cut yet: every batch of the chain ends at the tip.
      return end(false);
    }
  }

  private iterator(
    streamName: string,
    range: KinesisShardRange,
    after: string | undefined,
    retry: RetryPolicy,
  ): Promise<string | undefined> {
    const start =
      after !== undefined
        ? { after }
        : range.sinceMs !== undefined
          ? { atMs: range.sinceMs }
          : ({ oldest: true } as const);
    return openShardIterator(this.client, retry, streamName, range.shardId, start);
  }
}

/** What one read counts and learns across its shards: its GetRecords calls and its latest trouble. */
interface ReadCalls {
  getRecords: number;
  trouble: SourceError | undefined;
  /** The reader's retries, noting each in `trouble`. */
  retry: RetryPolicy;
}
