import type { BatchInfo } from '../scheduler/StreamingListener';
import type { ActiveBatches } from '../ui/ActiveBatches';
import type { InputStreamName } from '../ui/StreamingUiState';
import { withBatch } from './JobRecords';
import type { S3BlockStore } from './S3BlockStore';

/** How often a running coordinator refreshes the metrics that status events read. */
const METRICS_EVERY_MS = 5000;

/**
 * Writes a driven job's kept metrics (`jobs/<name>/metrics.json`, for status events) and its active batches
 * (`active.json`, for the Streaming UI) every few seconds, not once per batch; writes are chained, so that they
 * land in order. `active.json` carries the input streams' state and latest error as they are then, so that the
 * UI shows a change of them before the next batch completes, at no request of its own.
 */
export class JobMetricsWriter {
  private changed = false;
  private writtenAtMs = Date.now();
  private writes = Promise.resolve();

  constructor(
    private readonly root: S3BlockStore,
    private readonly name: string,
    /** The last batches' metrics, read once: this invocation adds its batches and rewrites them. */
    private kept: BatchInfo[],
    /** The batches generated and not completed. */
    private readonly active: ActiveBatches,
    /** Whether the coordinator was fenced: its metrics would then overwrite its successor's. */
    private readonly fenced: () => boolean,
    /** The job's input streams with their state and latest error now (see `liveInputStreams`); default none. */
    private readonly inputs: () => readonly InputStreamName[] = () => [],
  ) {}

  /** Keeps a completed batch, and refreshes the files when their time came. */
  add(batch: BatchInfo): void {
    this.kept = withBatch(this.kept, batch);
    this.changed = true;
    this.refresh();
  }

  /** Status events read the kept metrics: refreshed every few seconds. */
  refresh(): void {
    if (Date.now() - this.writtenAtMs < METRICS_EVERY_MS) return;
    this.writtenAtMs = Date.now();
    this.write();
    // A failed refresh is not the batch's failure; the final write reports its own.
    this.writes = this.writes.catch(() => {});
  }

  /** Writes both files now (the kept metrics only when they changed), after the writes before. */
  write(): void {
    if (this.fenced()) return;
    const text = this.changed ? JSON.stringify(this.kept) : undefined;
    const activeText = JSON.stringify({
      writtenAtMs: Date.now(),
      active: this.active.snapshot(),
      inputs: this.inputs(),
    });
    this.changed = false;
    this.writes = this.writes.then(async () => {
      if (text !== undefined) await this.root.put(`jobs/${this.name}/metrics.json`, text);
      await this.root.put(`jobs/${this.name}/active.json`, activeText);
    });
  }

  /** The writes started so far, settled. */
  settled(): Promise<void> {
    return this.writes;
  }
}
