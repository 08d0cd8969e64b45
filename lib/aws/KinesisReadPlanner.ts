import type { PlanContext } from '../source/Source';
import type { UnreportedBatch } from './KinesisPosition';
import type { KinesisReadPart, KinesisReport, KinesisShardRange } from './KinesisRangeReader';

/** The part of a `KinesisSource`'s position that the tasks' reports move: the source owns it, the planner edits it. */
export interface ShardProgress {
  /** The last sequence number known read, per shard not finished. */
  readonly sequenceNumbers: Map<string, string>;
  /** Closed shards read to their end. */
  readonly finishedShards: Set<string>;
}

/** Where a batch's ranges end, and where they start for the shards it has no position of. */
export interface BatchCut {
  /** The batch's cut, the coordinator's clock when it is planned, in ms since the epoch. */
  readonly cutMs: number;
  /** With `startAt: 'LATEST'`: a shard never read is read from this time, in ms since the epoch. */
  readonly sinceMs: number | undefined;
  /** The last sequence number known read, per shard. */
  readonly sequenceNumbers: ReadonlyMap<string, string>;
}

/** How a planned batch's shards are read by its tasks: where they write their reports, how long a tip settles. */
export interface DirectReadSettings {
  /** The job's store, as a URL the workers can open: the tasks report where they ended into it. */
  readonly storeUrl: string;
  /**
   * How long after its arrival a record may still be invisible to GetRecords (Kinesis's propagation delay, well
   * under a second): a task at a shard's tip waits until this long after the cut before it ends a range there.
   * Default 1000 ms.
   */
  readonly settleMs?: number;
}

/**
 * Direct reads of a `KinesisSource` (the serverless runtime): each batch's ranges of every shard are planned
 * without reading a record, the tasks read them and report where each shard's range ended, and the next plans
 * start after those ends. The planner keeps, per shard, the batches planned whose report is not in yet (they are
 * part of the checkpoint), and takes the reports in as they come.
 */
export class KinesisReadPlanner {
  /** Per shard, the batches planned after its known position whose task has not reported yet. */
  private unreported = new Map<string, UnreportedBatch[]>();
  /** The reports read and still of use, by key. */
  private readonly reports = new Map<string, Promise<KinesisReport | undefined>>();
  /** How the reports of planned batches are read (from the last plan's context). */
  private readReport: PlanContext['readReport'] | undefined;

  /** Plans the batches of `streamName`, at most `maxRecordsPerShard` records per shard each. */
  constructor(
    private readonly streamName: string,
    private readonly maxRecordsPerShard: number,
  ) {}

  /** The reports of the batches planned from now on are read with `readReport` (the newest plan's context). */
  readReportsWith(readReport: PlanContext['readReport']): void {
    this.readReport = readReport;
  }

  /**
   * The batch's read parts, one per partition: each shard of `ready` (dealt to partitions in order, round robin)
   * gets a range from just after its known sequence number (or from `cut.sinceMs` for a shard never read),
   * through the batches whose end is not known yet, to `cut.cutMs`. Each shard's batch is remembered as unreported.
   */
  plan(
    ready: readonly string[],
    partitions: number,
    ctx: PlanContext,
    cut: BatchCut,
    settings: DirectReadSettings,
  ): KinesisReadPart[] {
    const { cutMs, sinceMs, sequenceNumbers } = cut;
    // A rate limit (maxRatePerSec, backpressure) is per shard: the source's bound is shared by the shards read.
    const maxRecords = Math.min(this.maxRecordsPerShard, ctx.limit?.maxRecords(ready.length) ?? Infinity);
    const ranges: KinesisShardRange[][] = Array.from({ length: partitions }, () => []);
    for (const [i, shardId] of ready.entries()) {
      const partition = i % partitions;
      const after = sequenceNumbers.get(shardId);
      const unreported = this.unreported.get(shardId) ?? [];
      ranges[partition]!.push({
        shardId,
        ...(after !== undefined ? { after } : {}),
        ...(after === undefined && sinceMs !== undefined ? { sinceMs } : {}),
        skipCutsMs: unreported.map((u) => u.cutMs),
        // Each batch read past is cut by its own cap, as its own task cut it.
        skipMaxRecords: unreported.map((u) => u.maxRecords ?? this.maxRecordsPerShard),
        cutMs,
      });
      const batch: UnreportedBatch = {
        cutMs,
        report: reportKey(ctx.folder, partition),
        ...(maxRecords < this.maxRecordsPerShard ? { maxRecords } : {}),
      };
      this.unreported.set(shardId, [...unreported, batch]);
    }
    return ranges.map((shardRanges, partition) => ({
      streamName: this.streamName,
      shards: shardRanges,
      maxRecords,
      settleMs: settings.settleMs ?? 1000,
      report: { storeUrl: settings.storeUrl, key: reportKey(ctx.folder, partition) },
    }));
  }

  /**
   * Reads the reports of the batches planned but not reported yet (through `readReport` when none was set
   * before), and moves each shard's known position in `progress()` to the newest report: any report names an
   * absolute sequence number, so one missing report costs nothing but a longer range for the next plan (its
   * task reads past the unreported batches by the same rule).
   */
  async takeInReports(progress: () => ShardProgress, readReport?: PlanContext['readReport']): Promise<void> {
    this.readReport ??= readReport;
    const read = this.readReport;
    if (!read) return;
    // Every report first, then the position changes at once, with no await in between: a plan made meanwhile (a
    // forgotten batch's folder is read from a cleanup, beside the batches) never sees a half-moved position.
    // `progress` is asked after the reads, so the changes go to the source's position as it is then.
    const keys = new Set([...this.unreported.values()].flat().map((u) => u.report));
    const loaded = new Map(
      await Promise.all(
        [...keys].map(async (key) => [key, await this.report(key, read).catch(() => undefined)] as const),
      ),
    );
    const { sequenceNumbers, finishedShards } = progress();
    for (const [shardId, unreported] of [...this.unreported]) {
      let through = -1;
      for (const [i, batch] of unreported.entries()) {
        const entry = loaded.get(batch.report)?.shards.find((s) => s.shardId === shardId);
        if (!entry) continue;
        through = i;
        if (entry.last !== undefined) sequenceNumbers.set(shardId, entry.last);
        if (entry.closed) {
          finishedShards.add(shardId);
          sequenceNumbers.delete(shardId);
          break;
        }
      }
      const rest = finishedShards.has(shardId) ? [] : unreported.slice(through + 1);
      if (rest.length > 0) this.unreported.set(shardId, rest);
      else this.unreported.delete(shardId);
    }
    // A report is needed no more once no shard waits for it; one not found yet is asked again next time.
    const waitedFor = new Set([...this.unreported.values()].flat().map((u) => u.report));
    for (const key of keys)
      if (!waitedFor.has(key) || loaded.get(key) === undefined) this.reports.delete(key);
  }

  /** A task's report, read once (the batch's count and the next plan both need it). */
  report(key: string, readReport: PlanContext['readReport']): Promise<KinesisReport | undefined> {
    let report = this.reports.get(key);
    if (!report) {
      report = readReport(key).then((bytes) =>
        bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as KinesisReport) : undefined,
      );
      this.reports.set(key, report);
      // A failed read is asked again next time.
      report.catch(() => this.reports.delete(key));
    }
    return report;
  }

  /** The unreported batches per shard, sorted by shard id, for the checkpoint; undefined when there are none. */
  unreportedPosition(): Record<string, UnreportedBatch[]> | undefined {
    if (this.unreported.size === 0) return undefined;
    return Object.fromEntries([...this.unreported].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  /** Continues from a checkpoint's unreported batches. */
  restore(unreported: Record<string, UnreportedBatch[]> | undefined): void {
    this.unreported = new Map(Object.entries(unreported ?? {}));
  }

  /** Forgets the shards not `listed` (aged out of the stream's retention). */
  keepListed(listed: ReadonlySet<string | undefined>): void {
    this.unreported = new Map([...this.unreported].filter(([id]) => listed.has(id)));
  }
}

/** Where the task of `partition` reports, in the batch's folder. */
function reportKey(folder: string, partition: number): string {
  return `${folder}read-${partition}.json`;
}
