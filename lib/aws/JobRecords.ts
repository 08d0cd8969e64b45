import type { BatchInfo } from '../scheduler/StreamingListener';
import { JOBS_PREFIX, jobStorePrefix, STATIC_PREFIX } from './bucketLayout';
import type { SleepMark } from './JobSleep';
import { S3BlockStore, type S3BlockStoreOptions } from './S3BlockStore';

/** What the coordinator keeps per job in the bucket, under `jobs/<name>/`. */
export interface JobControl {
  readonly state: 'running' | 'stopped';
  /** Stop after this batch of stream time, when set. */
  readonly maxBatches?: number;
  /** Set while the job sleeps for want of input: no coordinator runs, and the tick checks for records. */
  readonly asleep?: SleepMark;
  /** Batches at or before this batch time were slept through: they read no input, even when run again. */
  readonly emptyThrough?: number;
  /**
   * The `jobVersion` of the document the last start recorded: a coordinator driving another version hands
   * over to one that builds this one. Absent in records written before it was kept.
   */
  readonly documentVersion?: string;
  readonly updatedAt: string;
}

/**
 * `control` stopped: the state and `updatedAt` are the stop's, every other field stays (`emptyThrough` above all:
 * dropped, a job stopped while catching up after sleep read input in the batches it slept through once started
 * again), but for a sleep mark, which the stop ends: a stopped job's stream time stands still while it is down, and
 * a start does not catch up on the batches since (see `wakePlan`). Undefined (no record, or a damaged one) stops
 * with nothing to keep.
 */
export function stoppedControl(control: JobControl | undefined): JobControl {
  const { asleep: _, ...kept } = control ?? {};
  return { ...kept, state: 'stopped', updatedAt: new Date().toISOString() };
}

/** A control record as read, with the ETag that a conditional write of it names. */
export interface TaggedControl {
  readonly control: JobControl | undefined;
  readonly etag: string | undefined;
}

/** A job's kept batch metrics, and what of `metrics.json` could not be read as batches. */
export interface KeptMetrics {
  readonly batches: BatchInfo[];
  /** A sentence naming the object and what was left out of it; absent when it is sound or absent. */
  readonly damaged?: string;
}

/** Batches kept in `metrics.json` for status events and the Streaming UI: Spark's UI keeps 1,000 too. */
const METRICS_KEPT = 1000;
/**
 * Of those, the newest batches that keep their output operations (stages, tasks) for the UI's batch page: the
 * file is rewritten every few seconds, and a thousand batches' task lists would make each write megabytes.
 */
const DETAILS_KEPT = 100;

/**
 * The per-job records the control plane and the batch driver share in the bucket: the job's document, its control
 * state (`jobs/<name>/control.json`), its kept metrics, and the store under its prefix.
 */
export class JobRecords {
  /** The whole bucket, unprefixed: the `jobs/` records and the lease live here. */
  readonly root: S3BlockStore;

  constructor(
    private readonly s3: S3BlockStoreOptions['client'],
    readonly bucket: string,
  ) {
    this.root = new S3BlockStore({ client: s3, bucket });
  }

  /** `s3://bucket/static/`: where relative static dataset paths point. */
  get staticBase(): string {
    return `s3://${this.bucket}/${STATIC_PREFIX}`;
  }

  /** The store under the job's prefix: its blocks, checkpoint, state and dead letters. */
  jobStore(
    name: string,
    options: Omit<S3BlockStoreOptions, 'client' | 'bucket' | 'prefix'> = {},
  ): S3BlockStore {
    return new S3BlockStore({
      client: this.s3,
      bucket: this.bucket,
      prefix: jobStorePrefix(name),
      ...options,
    });
  }

  async control(name: string): Promise<JobControl | undefined> {
    return (await this.taggedControl(name)).control;
  }

  /**
   * The control record with its ETag, the condition of a write that must not undo what was written since (see
   * {@link putControlIf}): both undefined when there is none. A damaged record throws a {@link DamagedJobRecordError},
   * or with `damaged` `none` reads as no record, with the damaged object's ETag (see {@link updateControl}).
   */
  async taggedControl(name: string, damaged: 'throw' | 'none' = 'throw'): Promise<TaggedControl> {
    const key = controlKey(name);
    const read = await this.root.getWithEtag(key);
    if (read === undefined) return { control: undefined, etag: undefined };
    try {
      return {
        control: this.parse(key, Buffer.from(read.bytes).toString('utf8')) as JobControl,
        etag: read.etag,
      };
    } catch (error) {
      if (damaged === 'throw' || !(error instanceof DamagedJobRecordError)) throw error;
      // No record to keep, written anew on the condition that it is still the damaged object read here.
      return { control: undefined, etag: read.etag };
    }
  }

  /**
   * Writes the control record only if it is still the one read with `etag` (`If-Match`; `If-None-Match: *` when
   * there was none): false when something wrote it in between, a user's start or stop that must not be undone.
   */
  async putControlIf(name: string, control: JobControl, etag: string | undefined): Promise<boolean> {
    return (await this.root.putConditional(controlKey(name), JSON.stringify(control), etag)) !== undefined;
  }

  /**
   * Writes the control record that `change` makes of the one there, read again and changed again when a
   * coordinator wrote it in between (its sleep mark, its wake, its own stop): a user's start or stop always lands,
   * and keeps what the coordinator wrote that it does not own. `damaged` says what a damaged record reads as:
   * thrown (a {@link DamagedJobRecordError}), or no record, to be written anew.
   */
  async updateControl(
    name: string,
    change: (current: JobControl | undefined) => JobControl,
    damaged: 'throw' | 'none' = 'throw',
  ): Promise<JobControl> {
    for (;;) {
      const { control, etag } = await this.taggedControl(name, damaged);
      const next = change(control);
      if (await this.putControlIf(name, next, etag)) return next;
    }
  }

  /**
   * What an answer says of a job whose record is not `running`: `stopped`; for a state Sluice never writes
   * (something else edited `control.json`), `unknown` with the value recorded and what to do, rather than that
   * value as if it were a state: no coordinator drives such a job, whatever the word says; `unknown` alone when
   * there is no record.
   */
  notRunning(name: string, control: JobControl | undefined): Record<string, unknown> {
    if (control === undefined) return { state: 'unknown' };
    if (control.state === 'stopped') return { state: 'stopped' };
    // (typed as one of the two, but read from an object anything may have written)
    const recorded: unknown = (control as { state?: unknown }).state ?? null;
    return {
      state: 'unknown',
      recordedState: recorded,
      note: `s3://${this.bucket}/jobs/${name}/control.json records the state ${JSON.stringify(recorded)}, which is not one Sluice writes (running or stopped), so no coordinator drives the job: send {"action": "stop", "job": "${name}"} to record it stopped, or start it again`,
    };
  }

  /** Whether a job of that name was ever started (its records exist, damaged or not). */
  async exists(name: string): Promise<boolean> {
    return (
      (await this.root.get(controlKey(name))) !== undefined ||
      (await this.root.get(`jobs/${name}/job.json`)) !== undefined
    );
  }

  async putControl(name: string, control: JobControl): Promise<void> {
    await this.root.put(controlKey(name), JSON.stringify(control));
  }

  /** The job document the last start recorded. */
  async document(name: string): Promise<Record<string, unknown>> {
    const key = `jobs/${name}/job.json`;
    return this.parse(key, await this.text(key)) as Record<string, unknown>;
  }

  /**
   * The last {@link METRICS_KEPT} batches' metrics, oldest first, read as the Streaming UI reads them (see
   * {@link readKeptMetrics}), so that `status` and the page count the same batches. What could not be read is left
   * out, with `damaged` saying so: it is a report of batches the checkpoint already holds, so the coordinator
   * writes it anew at its next batch, where throwing stopped the job and its `status` over a report.
   */
  async keptMetrics(name: string): Promise<KeptMetrics> {
    const where = `s3://${this.bucket}/jobs/${name}/metrics.json`;
    const kept = readKeptMetrics(await this.root.get(`jobs/${name}/metrics.json`), where);
    if (kept.damaged === undefined) return kept;
    return {
      batches: kept.batches,
      damaged: `${kept.damaged}; the metrics it held of them are lost, the job's checkpoint and outputs are not, and the coordinator writes it anew at the next batch the job completes`,
    };
  }

  async runningJobs(): Promise<string[]> {
    const keys = await this.root.list(JOBS_PREFIX);
    const names = keys.filter((k) => k.endsWith('/control.json')).map((k) => k.split('/')[1]!);
    const running: string[] = [];
    for (const name of names) {
      // A damaged record is listed too: driving it reports the damage, where throwing here stopped every job.
      const state = await this.control(name).then(
        (control) => control?.state,
        (error) => (error instanceof DamagedJobRecordError ? 'damaged' : Promise.reject(error)),
      );
      if (state === 'running' || state === 'damaged') running.push(name);
    }
    return running;
  }

  /** A record's JSON, or a {@link DamagedJobRecordError} that names it. */
  private parse(key: string, text: string): unknown {
    try {
      const value = JSON.parse(text) as unknown;
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
    } catch {
      // reported below
    }
    throw new DamagedJobRecordError(`s3://${this.bucket}/${key}`, JSON.stringify(text.slice(0, 40)));
  }

  private async text(key: string): Promise<string> {
    const text = await this.maybeText(key);
    if (text === undefined) {
      throw new Error(
        `s3://${this.bucket}/${key} is missing (something deleted it): start the job again with its document ({"action": "start", "job": {…}}) to resume it from its checkpoint, or stop it`,
      );
    }
    return text;
  }

  private async maybeText(key: string): Promise<string | undefined> {
    const bytes = await this.root.get(key);
    return bytes ? Buffer.from(bytes).toString('utf8') : undefined;
  }
}

/** The key of a job's control record in the bucket. */
function controlKey(name: string): string {
  return `jobs/${name}/control.json`;
}

/**
 * `metrics.json` (its bytes, undefined when missing) as every reader reads it: `status` and the coordinator (through
 * {@link JobRecords.keptMetrics}) and the Streaming UI (`AwsMetricsUiSource`). The batches are its entries that have
 * what every reader relies on (a batch time, records and delays: the page's rows and charts, the stability signal
 * and idleness the coordinator carries over); the rest are left out, and `damaged` names `where` and says how many,
 * or that the object is not JSON or not a list, when nothing is read from it.
 */
export function readKeptMetrics(bytes: Uint8Array | undefined, where: string): KeptMetrics {
  if (bytes === undefined) return { batches: [] };
  let entries: unknown;
  try {
    entries = JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
  } catch {
    return {
      batches: [],
      damaged: `${where} is not JSON (${bytes.length} bytes, cut short or not written by Sluice)`,
    };
  }
  if (!Array.isArray(entries)) {
    return { batches: [], damaged: `${where} is not a list of batches: no batch is read from it` };
  }
  const batches = entries.filter(isBatchInfo);
  const left = entries.length - batches.length;
  if (left === 0) return { batches };
  return {
    batches,
    damaged: `${where}: ${left} of ${entries.length} batches left out, without a batch time, records or delays`,
  };
}

/** Whether a kept entry has what every reader of the metrics relies on: its batch time, records and delays. */
function isBatchInfo(value: unknown): value is BatchInfo {
  const batch = value as Partial<BatchInfo> | null;
  return (
    typeof batch === 'object' &&
    batch !== null &&
    [
      batch.batchTime,
      batch.records,
      batch.schedulingDelayMs,
      batch.processingTimeMs,
      batch.totalDelayMs,
    ].every(Number.isFinite)
  );
}

/**
 * The kept metrics with one more batch: a batch computed again after a restart replaces its earlier entry, only
 * the last {@link METRICS_KEPT} batches stay, and only the last {@link DETAILS_KEPT} keep their output operations and inputs.
 */
export function withBatch(kept: readonly BatchInfo[], batch: BatchInfo): BatchInfo[] {
  const all = [...kept.filter((b) => b.batchTime !== batch.batchTime), batch]
    .sort((a, b) => a.batchTime - b.batchTime)
    .slice(-METRICS_KEPT);
  return all.map((b, i) => {
    if (i >= all.length - DETAILS_KEPT || (b.outputOps === undefined && b.inputs === undefined)) return b;
    // What each input took is a batch page's detail too; the UI names the streams from the newest batch.
    const { outputOps: _, inputs: __, ...summary } = b;
    return summary;
  });
}

/**
 * A job's record in the bucket (`control.json`, `job.json`) that is not the JSON object Sluice writes: something
 * else changed it. `reset` (or a start with `"fresh": true`) writes the job's records anew.
 */
export class DamagedJobRecordError extends Error {
  override name = 'DamagedJobRecordError';
  constructor(where: string, starts: string) {
    super(
      `${where} is damaged (it is not the JSON object Sluice writes; it starts ${starts}): send {"action": "reset"} for the job, or start it with "fresh": true, to write its records anew`,
    );
  }
}
