import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { errorText } from '../errors';
import { Slots } from '../scheduler/Slots';
import { maxPartBytesOf, planByteRanges } from '../source/ByteRangePlanner';
import { fileRangeLines } from '../source/fileRangeLines';
import { type LineRange, type RangeBytes, readRangeLines } from '../source/LineRangeReader';
import type { PlanContext, PlannedSource, ReadPlan } from '../source/Source';
import { concatLines, linesOf, withoutByteOrderMark } from '../source/textLines';
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
  /**
   * With `direct`, the most bytes one task reads: a batch of more than `partitions` times this gets more tasks.
   * Default `MAX_PART_BYTES` (128 MiB).
   */
  readonly maxPartBytes?: number;
}

/**
 * One byte range of an object (see `readRangeLines`): the lines that start in it. `etag` is the object's as
 * listed, so every read of the range, retried or recomputed, reads the object the batch was planned over.
 */
export interface S3ObjectRange extends LineRange {
  readonly key: string;
  readonly etag?: string;
}

/** What one task of an S3 batch reads: these ranges, in this order, as lines. */
export interface S3ReadPart {
  readonly bucket: string;
  readonly ranges?: readonly S3ObjectRange[];
  /**
   * Whole objects, in this order: the plan of a batch checkpointed before batches were planned as byte ranges,
   * read as it was planned when the job resumes.
   */
  readonly keys?: readonly string[];
  /** Where the task writes how many lines it read (`{"records": n}`), for the batch's metrics. */
  readonly report?: { readonly storeUrl: string; readonly key: string };
}

/** A listed object that is not taken yet. */
interface ListedObject {
  readonly name: string;
  readonly sizeBytes: number;
  readonly etag?: string;
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
  /** A JSON job's `type`. */
  readonly kind = 's3Prefix';
  /** The bucket and prefix: its position's keys are of that bucket. */
  readonly readsFrom: string;
  private readonly seen = new Set<string>();
  private readonly maxObjects: number;
  private readonly maxPartBytes: number;

  constructor(private readonly options: S3PrefixSourceOptions) {
    this.description = `s3(${options.bucket}/${options.prefix})`;
    this.readsFrom = `s3://${options.bucket}/${options.prefix}`;
    this.maxObjects = options.maxObjectsPerBatch ?? 1000;
    this.readsDirectly = options.direct !== undefined;
    this.maxPartBytes = maxPartBytesOf(options.maxPartBytes);
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

  /** The batch's new objects' lines, read here, each object a piece at a time as a task reads its ranges. */
  async recordsFor(): Promise<string[]> {
    const fresh = await this.takeFresh();
    const ranges = fresh.map((object) => wholeObject(object));
    return readRanges(this.options.client, this.options.bucket, ranges, PIECE_BYTES);
  }

  /**
   * Direct reads: the batch's new objects, in key order, split by bytes as a folder batch's files are (see
   * `planByteRanges`): over at least `partitions` tasks, none reading more than `maxPartBytes`, so a large object
   * is read by several tasks at once and a task never holds more than a bounded part of the batch. The
   * checkpoint records the ranges and each object's ETag, so a recomputed task reads the same bytes. The plan
   * costs the listing alone, whatever the objects hold.
   */
  async planBatch(
    _batchTime: number,
    _intervalMs: number,
    partitions: number,
    ctx: PlanContext,
  ): Promise<ReadPlan> {
    const fresh = await this.takeFresh();
    const storeUrl = this.options.direct?.storeUrl;
    const planned = planByteRanges(fresh, partitions, this.maxPartBytes);
    const parts: S3ReadPart[] = planned.map((ranges, p) => ({
      bucket: this.options.bucket,
      ranges: ranges.map(({ file, startByte, endByte }) => ({ ...wholeObject(file), startByte, endByte })),
      ...(storeUrl !== undefined ? { report: { storeUrl, key: `${ctx.folder}read-${p}.json` } } : {}),
    }));
    return { reader: 's3', parts };
  }

  /** How many lines the tasks of a planned batch read: the sum of their reports (a missing one counts 0). */
  async recordsRead(plan: ReadPlan, ctx: PlanContext): Promise<number> {
    let records = 0;
    for (const part of plan.parts as (S3ReadPart | null)[]) {
      if (!part?.report || !readsAnything(part)) continue;
      const bytes = await ctx.readReport(part.report.key);
      if (bytes) records += (JSON.parse(new TextDecoder().decode(bytes)) as { records: number }).records;
    }
    return records;
  }

  /** The objects a planned batch read, by key, with their byte ranges (see `fileRangeLines`). */
  async describeRead(plan: ReadPlan): Promise<readonly string[]> {
    const parts = (plan.parts as (S3ReadPart | null)[]).filter((part) => part !== null);
    // A plan checkpointed before batches were byte ranges names whole objects.
    const keys = parts.flatMap((part) => part.keys ?? []);
    const ranges = parts.flatMap((part) => part.ranges ?? []).map((r) => ({ ...r, name: r.key }));
    return [...keys, ...fileRangeLines(ranges)];
  }

  /** The objects of the next batch, in key order, marked seen. */
  private async takeFresh(): Promise<ListedObject[]> {
    const { keys: listed, complete } = await this.list();
    // Keys that are gone no longer need remembering: the position stays the size of what is under the prefix.
    // Only a complete listing tells which are gone; a listing cut at the deadline keeps every key seen.
    if (complete) for (const key of this.seen) if (!listed.has(key)) this.seen.delete(key);
    const fresh = [...listed.values()]
      .filter((object) => !this.seen.has(object.name))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .slice(0, this.maxObjects);
    for (const object of fresh) this.seen.add(object.name);
    return fresh;
  }

  /**
   * Whether a batch cut now would take an object, without taking one: the wake-up check of a job asleep. One
   * listing of the prefix (one LIST request per 1,000 keys); nothing moves.
   */
  async hasNewRecords(): Promise<boolean> {
    const { keys } = await this.list();
    for (const key of keys.keys()) if (!this.seen.has(key)) return true;
    return false;
  }

  private async list(): Promise<{ keys: Map<string, ListedObject>; complete: boolean }> {
    const keys = new Map<string, ListedObject>();
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
      for (const o of page.Contents ?? []) {
        if (!o.Key || o.Key.endsWith('/')) continue;
        keys.set(o.Key, { name: o.Key, sizeBytes: o.Size ?? 0, ...(o.ETag ? { etag: o.ETag } : {}) });
      }
      token = page.NextContinuationToken;
    } while (token);
    return { keys, complete: true };
  }
}

/** How much of a range one GET reads: a few requests per task, each small enough to retry whole. */
const PIECE_BYTES = 16 * 1024 * 1024;

/** True when a part names some bytes to read. */
function readsAnything(part: S3ReadPart): boolean {
  return (part.ranges?.length ?? 0) > 0 || (part.keys?.length ?? 0) > 0;
}

/**
 * Reads one part of a planned S3 batch inside a task: the lines of its ranges, in order, read `pieceBytes` at a
 * time with ranged GETs (a part of an older plan: its whole objects).
 */
export async function readS3Part(
  client: S3Client,
  part: S3ReadPart,
  storeOf: (url: string) => Promise<BlockStore>,
  pieceBytes = PIECE_BYTES,
): Promise<string[]> {
  const runs = [await readRanges(client, part.bucket, part.ranges ?? [], pieceBytes)];
  if (part.keys) runs.push(await readLines(client, part.bucket, part.keys));
  const lines = concatLines(runs);
  if (part.report && readsAnything(part)) {
    const store = await storeOf(part.report.storeUrl);
    await store.put(part.report.key, JSON.stringify({ records: lines.length }));
  }
  return lines;
}

/**
 * Ranges a task reads at once. A part is often many small objects, and read one after another each would wait for
 * its first byte from S3 in turn (whole objects were all fetched at once); the bytes in flight stay within the
 * part's own, at most `maxPartBytes`.
 */
export const CONCURRENT_RANGES = 16;

/** The lines that start in `ranges` of a bucket's objects, in order, several ranges read at once. */
async function readRanges(
  client: S3Client,
  bucket: string,
  ranges: readonly S3ObjectRange[],
  pieceBytes: number,
): Promise<string[]> {
  const slots = new Slots(CONCURRENT_RANGES);
  const runs = await Promise.all(
    ranges.map(async (range) => {
      await slots.acquire();
      try {
        const lines: string[][] = [];
        await readRangeLines(objectBytes(client, bucket, range), range, lines, pieceBytes);
        return concatLines(lines);
      } finally {
        slots.release();
      }
    }),
  );
  return concatLines(runs);
}

/** The range of all of a listed object. */
function wholeObject(object: ListedObject): S3ObjectRange {
  return {
    key: object.name,
    startByte: 0,
    endByte: object.sizeBytes,
    sizeBytes: object.sizeBytes,
    ...(object.etag !== undefined ? { etag: object.etag } : {}),
  };
}

/**
 * A planned object's bytes, a ranged GET a piece, each asked for the ETag the listing saw. While a piece is split
 * into lines the next one is already on its way, so the task waits for S3 about once, not once a piece.
 */
function objectBytes(client: S3Client, bucket: string, range: S3ObjectRange): RangeBytes {
  const get = (from: number, to: number) =>
    withRetries(async () => {
      const out = await client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: range.key,
          Range: `bytes=${from}-${to - 1}`,
          ...(range.etag !== undefined ? { IfMatch: range.etag } : {}),
        }),
      );
      return (await out.Body?.transformToByteArray()) ?? new Uint8Array();
    }).catch((error: unknown) => {
      throw plannedObjectError(error, bucket, range);
    });
  return {
    async *pieces(start, end, pieceBytes, readAhead) {
      let position = start;
      let next: Promise<Uint8Array> | undefined;
      try {
        while (position < end) {
          const piece = await (next ?? get(position, Math.min(end, position + pieceBytes)));
          next = undefined;
          if (piece.length === 0) return;
          position += piece.length;
          if (readAhead && position < end) next = get(position, Math.min(end, position + pieceBytes));
          yield piece;
        }
      } finally {
        next?.catch(() => undefined); // asked ahead and no longer wanted: its failure is no one's
      }
    },
  };
}

/**
 * The failure of a planned read, naming the object (S3's own messages do not): what to do when it is gone or was
 * rewritten, and S3's message otherwise (access denied, an archived storage class, throttling past the retries).
 */
function plannedObjectError(error: unknown, bucket: string, range: S3ObjectRange): Error {
  const name = (error as { name?: string }).name;
  const where = `s3://${bucket}/${range.key}`;
  if (name === 'NoSuchKey') {
    return new Error(
      `object ${where} is gone, but its batch was planned to read it: an s3Prefix source's objects must stay ` +
        'until their batch completed (its tasks read them, and read them again when a task is retried or the job ' +
        'restarts); put it back as it was and start the job again, and delete objects only once their batch has ' +
        'completed',
      { cause: error },
    );
  }
  if (name === 'PreconditionFailed' || name === 'InvalidRange') {
    return new Error(
      `object ${where} is not the one its batch was planned over (ETag ${range.etag ?? 'unknown'}, ` +
        `${range.sizeBytes} bytes): an s3Prefix source reads each object as it was when first listed, so objects ` +
        'must not be overwritten until their batch completed; write a new key instead',
      { cause: error },
    );
  }
  return new Error(`reading object ${where} failed: ${errorText(error)}`, { cause: error });
}

/**
 * The lines of whole objects, in the order of `keys`, each read in one GET: the parts of plans checkpointed before
 * batches were planned as byte ranges. Decoded as every line is (`linesOf`, after a byte order mark): a line that
 * is not UTF-8 becomes a dead letter with its bytes.
 */
async function readLines(client: S3Client, bucket: string, keys: readonly string[]): Promise<string[]> {
  const objects = await Promise.all(keys.map((key) => readObject(client, bucket, key)));
  return concatLines(objects.map((bytes) => linesOf(withoutByteOrderMark(bytes))));
}

/** An object's bytes. */
async function readObject(client: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const out = await withRetries(() => client.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
  return (await out.Body?.transformToByteArray()) ?? new Uint8Array();
}
