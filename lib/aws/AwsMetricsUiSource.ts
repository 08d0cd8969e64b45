import type { DeadLetter } from '../dataset/TaskContext';
import { DelayTrend } from '../scheduler/DelayTrend';
import type { BatchInfo } from '../scheduler/StreamingListener';
import type { BlockStore } from '../storage/BlockStore';
import type { ActiveBatch } from '../ui/ActiveBatches';
import {
  type BatchDetail,
  batchRow,
  type InputStreamName,
  inputStreamsOf,
  type StreamingSummary,
  type StreamingUiSource,
  withLiveStatus,
} from '../ui/StreamingUiState';
import { deadLetterKey, JOBS_PREFIX, jobStorePrefix } from './bucketLayout';
import { readKeptMetrics } from './JobRecords';

/** Dead letters a batch page shows; the rest are counted. */
const LETTERS_SHOWN = 100;

/** What the coordinator writes to `jobs/<job>/active.json` each time it writes its kept metrics. */
export interface ActiveSnapshot {
  /** When it was written, ms since the epoch. */
  readonly writtenAtMs: number;
  /** The batches generated and not completed then, newest first. */
  readonly active: readonly ActiveBatch[];
  /**
   * The input streams' state and latest error then (a socket retrying, a Kinesis call throttled), newer than the
   * kept batches'; absent in what a coordinator of an earlier version wrote.
   */
  readonly inputs?: readonly InputStreamName[];
}

/** An object of the bucket as read: its parsed JSON, or absent, or why it could not be read as expected. */
type Read<T> = { readonly value?: T; readonly unreadable?: string };

/**
 * The Streaming UI's view of a job on AWS, read-only (`sluice ui --bucket B --job J`): the batches the coordinator
 * keeps in `jobs/<job>/metrics.json`, the batches it was running or queueing when it last wrote them from
 * `jobs/<job>/active.json`, the job's batch interval from `jobs/<job>/job.json`, and a batch's dead letters from
 * its store's `dead-letter/<batch time>.jsonl`. Everything is read on each request, so the page follows a
 * running job; nothing is written. An object that is not what the coordinator writes (cut short by a copy, edited
 * by hand, of another version) is left out and named in the summary's `unreadable`, so the rest still shows.
 *
 * @example
 * const source = new AwsMetricsUiSource(new S3BlockStore({ client: s3Client(), bucket }), 'hashtags');
 * const server = await UiServer.start(source, 4040);
 */
export class AwsMetricsUiSource implements StreamingUiSource {
  /** @param root the bucket, from its root (not a job's store) */
  constructor(
    private readonly root: BlockStore,
    private readonly job: string,
  ) {}

  async summary(): Promise<StreamingSummary> {
    const jobKey = `${JOBS_PREFIX}${this.job}/job.json`;
    const [kept, doc, snapshot] = await Promise.all([this.batches(), this.json(jobKey), this.active()]);
    if (doc.value === undefined && doc.unreadable === undefined) {
      throw new Error(`no job ${this.job} in this bucket: ${jobKey} is missing`);
    }
    const batches = kept.value ?? [];
    // The coordinator writes metrics.json, then active.json: read in between (or after an invocation that ended
    // between the two), a batch that completed is in both. It is done, and must not be shown as still running.
    const completed = new Set(batches.map((b) => b.batchTime));
    const active = (snapshot.value?.active ?? []).filter((a) => !completed.has(a.batchTime));
    const batchIntervalMs = intervalOf(doc.value, batches);
    const trend = new DelayTrend(batchIntervalMs);
    for (const b of batches) trend.observe(b);
    const unreadable = [doc, kept, snapshot].flatMap((read) => read.unreadable ?? []);
    return {
      jobName: this.job,
      batchIntervalMs,
      // The coordinator keeps stream time, not wall time: the kept batches' span is what the header can say.
      startedAtMs: Date.now() - (batches.at(-1)?.batchTime ?? 0),
      readOnly: true,
      // The coordinator drives batches on the real clock only.
      wallClock: true,
      completedBatches: batches.length,
      records: batches.reduce((n, b) => n + b.records, 0),
      delayGrowingFor: trend.growingFor,
      active,
      ...(snapshot.value ? { activeAsOfMs: snapshot.value.writtenAtMs } : {}),
      // As the coordinator last saw them, which may be after the newest kept batch (see `ActiveSnapshot.inputs`).
      inputStreams: withLiveStatus(inputStreamsOf(batches), snapshot.value?.inputs ?? []),
      batches: batches.map(batchRow),
      ...(unreadable.length > 0 ? { unreadable } : {}),
    };
  }

  async batch(batchTime: number): Promise<BatchDetail | undefined> {
    const kept = await this.batches();
    const info = kept.value?.find((b) => b.batchTime === batchTime);
    if (!info) return undefined;
    const doc = await this.json(`${JOBS_PREFIX}${this.job}/job.json`);
    const key = `${jobStorePrefix(this.job)}${deadLetterKey(batchTime)}`;
    const bytes = await this.root.get(key);
    const lines = bytes ? Buffer.from(bytes).toString('utf8').split('\n').filter(Boolean) : [];
    const letters = lines.flatMap((line) => parsed(line) ?? []) as DeadLetter[];
    const skipped = lines.length - letters.length;
    return {
      info,
      batchIntervalMs: intervalOf(doc.value, kept.value ?? []),
      deadLetters: letters.slice(0, LETTERS_SHOWN),
      deadLettersNotShown: Math.max(0, letters.length - LETTERS_SHOWN),
      ...(skipped > 0
        ? { unreadable: [`${key}: ${skipped} of ${lines.length} lines left out, not JSON`] }
        : {}),
    };
  }

  /**
   * The kept batches, without those that lack what the page charts (a record of another version): read as `status`
   * reads them (see `readKeptMetrics`), so that the page and `status` count the same batches.
   */
  private async batches(): Promise<Read<BatchInfo[]>> {
    const key = `${JOBS_PREFIX}${this.job}/metrics.json`;
    const bytes = await this.root.get(key);
    const { batches, damaged } = readKeptMetrics(bytes, key);
    return {
      ...(bytes !== undefined ? { value: batches } : {}),
      ...(damaged !== undefined ? { unreadable: damaged } : {}),
    };
  }

  private async active(): Promise<Read<ActiveSnapshot>> {
    const key = `${JOBS_PREFIX}${this.job}/active.json`;
    const read = await this.json(key);
    if (read.value === undefined) return read as Read<ActiveSnapshot>;
    const snapshot = read.value as Partial<ActiveSnapshot> | null;
    if (
      typeof snapshot?.writtenAtMs !== 'number' ||
      !Array.isArray(snapshot.active) ||
      !snapshot.active.every(isActiveBatch) ||
      !(
        snapshot.inputs === undefined ||
        (Array.isArray(snapshot.inputs) && snapshot.inputs.every(isInputStream))
      )
    ) {
      return { unreadable: `${key} is not the coordinator's active batches: none is shown` };
    }
    return { value: snapshot as ActiveSnapshot };
  }

  /** An object's JSON; not a failure when it is missing or not JSON (a sentence then says which and why). */
  private async json(key: string): Promise<Read<unknown>> {
    const bytes = await this.root.get(key);
    if (!bytes) return {};
    const text = Buffer.from(bytes).toString('utf8');
    const value = parsed(text);
    return value === undefined
      ? { unreadable: `${key} is not JSON (${bytes.length} bytes, cut short or not written by Sluice)` }
      : { value };
  }
}

/** `text` parsed as JSON, or undefined when it is not JSON. */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Whether an active batch has what the Active Batches table shows. */
function isActiveBatch(a: unknown): a is ActiveBatch {
  const batch = a as Partial<ActiveBatch> | null;
  return (
    typeof batch === 'object' &&
    batch !== null &&
    [batch.batchTime, batch.records, batch.dueAtMs, batch.schedulingDelayMs, batch.outputOpsTotal].every(
      Number.isFinite,
    )
  );
}

/** Whether an input stream of `active.json` has the id and name the page needs, and a state and error it can show. */
function isInputStream(i: unknown): i is InputStreamName {
  const stream = i as Partial<InputStreamName> | null;
  return (
    typeof stream === 'object' &&
    stream !== null &&
    typeof stream.id === 'string' &&
    typeof stream.name === 'string' &&
    (stream.state === undefined || stream.state === 'connected' || stream.state === 'retrying') &&
    (stream.lastError === undefined ||
      // null too is refused here, not read through: a malformed file is named, never a TypeError
      (typeof stream.lastError === 'object' &&
        stream.lastError !== null &&
        Number.isFinite(stream.lastError.atMs) &&
        typeof stream.lastError.message === 'string'))
  );
}

/**
 * The job's batch interval: its document's, or for a job module (whose document names only the module) the
 * spacing of the kept batches. The stability signal judges waits against it, so a 10 s module job must not be
 * judged against a default of 1 s.
 */
function intervalOf(doc: unknown, batches: readonly BatchInfo[]): number {
  const declared = (doc as { batchIntervalMs?: unknown } | undefined)?.batchIntervalMs;
  if (typeof declared === 'number' && declared > 0) return declared;
  let spacing = Number.POSITIVE_INFINITY;
  for (let i = 1; i < batches.length; i++) {
    const gap = batches[i]!.batchTime - batches[i - 1]!.batchTime;
    if (gap > 0 && gap < spacing) spacing = gap;
  }
  return Number.isFinite(spacing) ? spacing : 1000;
}
