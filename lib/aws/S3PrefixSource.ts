import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Source } from '../source/Source';
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
}

/**
 * New objects under an S3 prefix, as lines of text (Spark's textFileStream, on S3): each batch takes the
 * objects that appeared since the previous batch, in key order, and every object belongs to exactly one batch.
 * The keys already taken are the source's position in the metadata checkpoint; a crash re-reads nothing and
 * misses nothing, because the batch's lines are stored as its input block before it runs.
 */
export class S3PrefixSource implements Source<string> {
  readonly replayable = false;
  readonly description: string;
  private readonly seen = new Set<string>();
  private readonly maxObjects: number;

  constructor(private readonly options: S3PrefixSourceOptions) {
    this.description = `s3(${options.bucket}/${options.prefix})`;
    this.maxObjects = options.maxObjectsPerBatch ?? 1000;
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
    const { keys: listed, complete } = await this.list();
    // Keys that are gone no longer need remembering: the position stays the size of what is under the prefix.
    // Only a complete listing tells which are gone; a listing cut at the deadline keeps every key seen.
    if (complete) for (const key of this.seen) if (!listed.has(key)) this.seen.delete(key);
    const fresh = [...listed]
      .filter((key) => !this.seen.has(key))
      .sort()
      .slice(0, this.maxObjects);
    const texts = await Promise.all(fresh.map((key) => this.read(key)));
    for (const key of fresh) this.seen.add(key);
    const lines: string[] = [];
    for (const text of texts) {
      const split = text.split('\n');
      if (split.at(-1) === '') split.pop();
      for (const line of split) lines.push(line.replace(/\r$/, ''));
    }
    return lines;
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

  private async read(key: string): Promise<string> {
    const out = await withRetries(() =>
      this.options.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key })),
    );
    return (await out.Body?.transformToString('utf8')) ?? '';
  }
}
