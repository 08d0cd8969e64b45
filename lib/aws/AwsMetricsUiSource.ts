import type { DeadLetter } from '../dataset/TaskContext';
import { DelayTrend } from '../scheduler/DelayTrend';
import type { BatchInfo } from '../scheduler/StreamingListener';
import type { BlockStore } from '../storage/BlockStore';
import type { ActiveBatch } from '../ui/ActiveBatches';
import {
  type BatchDetail,
  batchRow,
  inputStreamsOf,
  type StreamingSummary,
  type StreamingUiSource,
} from '../ui/StreamingUiState';
import { JOBS_PREFIX, jobStorePrefix } from './bucketLayout';

/** Dead letters a batch page shows; the rest are counted. */
const LETTERS_SHOWN = 100;

/** What the coordinator writes to `jobs/<job>/active.json` each time it writes its kept metrics. */
export interface ActiveSnapshot {
  /** When it was written, ms since the epoch. */
  readonly writtenAtMs: number;
  /** The batches generated and not completed then, newest first. */
  readonly active: readonly ActiveBatch[];
}

/**
 * The Streaming UI's view of a job on AWS, read-only (`sluice ui --bucket B --job J`): the batches the coordinator
 * keeps in `jobs/<job>/metrics.json`, the batches it was running or queueing when it last wrote them from
 * `jobs/<job>/active.json`, the job's batch interval from `jobs/<job>/job.json`, and a batch's dead letters from
 * its store's `dead-letter/<batch time>.jsonl`. Everything is read on each request, so the page follows a
 * running job; nothing is written.
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
    const [batches, doc, active] = await Promise.all([
      this.batches(),
      this.json(`${JOBS_PREFIX}${this.job}/job.json`),
      this.json(`${JOBS_PREFIX}${this.job}/active.json`) as Promise<ActiveSnapshot | undefined>,
    ]);
    if (doc === undefined) {
      throw new Error(`no job ${this.job} in this bucket: ${JOBS_PREFIX}${this.job}/job.json is missing`);
    }
    const batchIntervalMs = intervalOf(doc, batches);
    const trend = new DelayTrend(batchIntervalMs);
    for (const b of batches) trend.observe(b);
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
      active: active?.active ?? [],
      ...(active ? { activeAsOfMs: active.writtenAtMs } : {}),
      inputStreams: inputStreamsOf(batches),
      batches: batches.map(batchRow),
    };
  }

  async batch(batchTime: number): Promise<BatchDetail | undefined> {
    const batches = await this.batches();
    const info = batches.find((b) => b.batchTime === batchTime);
    if (!info) return undefined;
    const doc = await this.json(`${JOBS_PREFIX}${this.job}/job.json`);
    const bytes = await this.root.get(`${jobStorePrefix(this.job)}dead-letter/${batchTime}.jsonl`);
    const lines = bytes ? Buffer.from(bytes).toString('utf8').split('\n').filter(Boolean) : [];
    return {
      info,
      batchIntervalMs: intervalOf(doc, batches),
      deadLetters: lines.slice(0, LETTERS_SHOWN).map((line) => JSON.parse(line) as DeadLetter),
      deadLettersNotShown: Math.max(0, lines.length - LETTERS_SHOWN),
    };
  }

  private async batches(): Promise<BatchInfo[]> {
    return ((await this.json(`${JOBS_PREFIX}${this.job}/metrics.json`)) as BatchInfo[] | undefined) ?? [];
  }

  private async json(key: string): Promise<unknown> {
    const bytes = await this.root.get(key);
    return bytes ? JSON.parse(Buffer.from(bytes).toString('utf8')) : undefined;
  }
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
