import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { sliceBounds } from '../dataset/Dataset';
import type { PlanContext, PlannedSource, ReadPlan } from '../source/Source';
import { concatLines, linesOf } from '../source/textLines';
import type { BlockStore } from '../storage/BlockStore';
import { withRetries } from './awsClients';

/** Settings of an {@link S3PrefixSource}. */
export interface S3PrefixSourceOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Objects under this prefix are the input. */
  readonly prefix: string;
  /** At most this many new objects per batch; the rest wait for the next batch. Default 1,000. */
  readonly maxObjectsPerBatch?: number;
  /**
   * When reading must end, in epoch ms (asked at each batch): the listing stops paging at the deadline, and the
   * batch takes the new objects of the pages it listed (keys come in order, so none is skipped: the next batch
   * lists on). Default: no deadline.
   */
  readonly readDeadlineMs?: () => number | undefined;
  /** Keys per ListObjectsV2 page (S3's `MaxKeys`, at most 1,000). Default 1,000. */
  readonly listPageSize?: number;
  /**
   * Tasks read the objects themselves (the serverless runtime): the source lists and plans each batch's keys, and
   * never reads an object; each task reports its line count into `storeUrl` (the job's store, as a URL the
   * workers can open). Default: none, the source reads the objects and the engine stores an input block.
   */
  readonly direct?: { readonly storeUrl: string };
}

/** What one task of an S3 batch reads: these objects, in this order, as lines. */
export interface S3ReadPart {
  readonly bucket: string;
  readonly keys: readonly string[];
  /** Where the task writes how many lines it read (`{"records": n}`), for the batch's metrics. */
  readonly report?: { readonly storeUrl: string; readonly key: string };
}

/**
 * New objects under an S3 prefix, as lines of text (Spark's textFileStream, on S3): each batch takes the
 * objects that appeared since the previous batch, in key order, and every object belongs to exactly one batch.
 * The keys already taken are the source's position in the metadata checkpoint; a crash re-reads nothing and
 * misses nothing, because the batch's lines are stored as its input block before it runs, or, with `direct`,
 * its keys are recorded in the batch's plan and the tasks read the objects.
 */
export class S3PrefixSource implements PlannedSource<string> {
  readonly replayable = false;
  /** True when tasks read the objects (the `direct` option) and the source only plans keys. */
  readonly readsDirectly: boolean;
  readonly description: string;
  private readonly seen = new Set<string>();
  private readonly maxObjects: number;

  constructor(private readonly options: S3PrefixSourceOptions) {
    this.description = `s3(${options.bucket}/${options.prefix})`;
    this.maxObjects = options.maxObjectsPerBatch ?? 1000;
    this.readsDirectly = options.direct !== undefined;
    if (!Number.isInteger(this.maxObjects) || this.maxObjects < 1) {
      throw new RangeError(`maxObjectsPerBatch must be a positive whole number, got ${this.maxObjects}`);
    }
  }

  /** The keys already handed out, for the metadata checkpoint. */
  checkpointPosition(): string[] {
    return [...this.seen].sort();
  }

  /** After a restart: exactly the keys handed out before count as seen. */
  restorePosition(position: unknown): void {
    this.seen.clear();
    for (const key of position as string[]) this.seen.add(key);
  }

  async recordsFor(): Promise<string[]> {
    const fresh = await this.takeFresh();
    return readLines(this.options.client, this.options.bucket, fresh);
  }

  /**
   * Direct reads: the batch's new keys, in key order, dealt to the partitions in contiguous runs; the tasks read
   * the objects. The checkpoint records the keys, so a recomputed task reads the same objects. The plan costs the
   * listing alone, whatever the objects hold.
   */
  async planBatch(
    _batchTime: number,
    _intervalMs: number,
    partitions: number,
    ctx: PlanContext,
  ): Promise<ReadPlan> {
    const fresh = await this.takeFresh();
    const storeUrl = this.options.direct?.storeUrl;
    const parts: S3ReadPart[] = Array.from({ length: partitions }, (_, p) => {
      const [from, to] = sliceBounds(fresh.length, partitions, p);
      return {
        bucket: this.options.bucket,
        keys: fresh.slice(from, to),
        ...(storeUrl !== undefined ? { report: { storeUrl, key: `${ctx.folder}read-${p}.json` } } : {}),
      };
    });
    return { reader: 's3', parts };
  }

  /** How many lines the tasks of a planned batch read: the sum of their reports (a missing one counts 0). */
  async recordsRead(plan: ReadPlan, ctx: PlanContext): Promise<number> {
    let records = 0;
    for (const part of plan.parts as (S3ReadPart | null)[]) {
      if (!part?.report || part.keys.length === 0) continue;
      const bytes = await ctx.readReport(part.report.key);
      if (bytes) records += (JSON.parse(new TextDecoder().decode(bytes)) as { records: number }).records;
    }
    return records;
  }

  /** The keys of the next batch, marked seen. */
  private async takeFresh(): Promise<string[]> {
    const { keys: listed, complete } = await this.list();
    // Keys that are gone no longer need remembering: the position stays the size of what is under the prefix.
    // Only a complete listing tells which are gone; a listing cut at the deadline keeps every key seen.
    if (complete) for (const key of this.seen) if (!listed.has(key)) this.seen.delete(key);
    const fresh = [...listed]
      .filter((key) => !this.seen.has(key))
      .sort()
      .slice(0, this.maxObjects);
    for (const key of fresh) this.seen.add(key);
    return fresh;
  }

  /**
   * Whether a batch cut now would take an object, without taking one: the wake-up check of a job asleep. One
   * listing of the prefix (one LIST request per 1,000 keys); nothing moves.
   */
  async hasNewRecords(): Promise<boolean> {
    const { keys } = await this.list();
    for (const key of keys) if (!this.seen.has(key)) return true;
    return false;
  }

  private async list(): Promise<{ keys: Set<string>; complete: boolean }> {
    const keys = new Set<string>();
    let token: string | undefined;
    do {
      const deadline = this.options.readDeadlineMs?.();
      // Past the deadline: the pages listed so far (the keys before the others, in order) make the batch.
      if (keys.size > 0 && deadline !== undefined && Date.now() >= deadline) return { keys, complete: false };
      const page = await withRetries(() =>
        this.options.client.send(
          new ListObjectsV2Command({
            Bucket: this.options.bucket,
            Prefix: this.options.prefix,
            ContinuationToken: token,
            ...(this.options.listPageSize ? { MaxKeys: this.options.listPageSize } : {}),
          }),
        ),
      );
      for (const o of page.Contents ?? []) if (o.Key && !o.Key.endsWith('/')) keys.add(o.Key);
      token = page.NextContinuationToken;
    } while (token);
    return { keys, complete: true };
  }
}

/** Reads one part of a planned S3 batch inside a task: its objects' lines, in key order. */
export async function readS3Part(
  client: S3Client,
  part: S3ReadPart,
  storeOf: (url: string) => Promise<BlockStore>,
): Promise<string[]> {
  const lines = await readLines(client, part.bucket, part.keys);
  if (part.report && part.keys.length > 0) {
    const store = await storeOf(part.report.storeUrl);
    await store.put(part.report.key, JSON.stringify({ records: lines.length }));
  }
  return lines;
}

/**
 * The lines of the objects, in the order of `keys`, decoded as the folder source's are (`linesOf`): a line that is
 * not UTF-8 becomes a dead letter with its bytes, where decoding the whole object as text replaced its bytes with
 * U+FFFD unseen, and an object past V8's longest string is decoded a chunk at a time.
 */
async function readLines(client: S3Client, bucket: string, keys: readonly string[]): Promise<string[]> {
  const objects = await Promise.all(keys.map((key) => readObject(client, bucket, key)));
  return concatLines(objects.map((bytes) => linesOf(bytes)));
}

/** An object's bytes. */
async function readObject(client: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const out = await withRetries(() => client.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
  return (await out.Body?.transformToByteArray()) ?? new Uint8Array();
}
