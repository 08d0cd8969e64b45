import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { MissingBlockError, SluiceError } from '../errors';
import type { BlockStore } from '../storage/BlockStore';
import {
  attemptsOf,
  errorName,
  httpStatusOf,
  isTransientAwsError,
  type RetryPolicy,
  withRetries,
} from './awsClients';

/** Settings of an {@link S3BlockStore}. */
export interface S3BlockStoreOptions {
  /** The S3 client; {@link s3Client} gives the process's shared one. */
  readonly client: S3Client;
  /** The bucket, which must exist. */
  readonly bucket: string;
  /** A folder of the bucket that holds the store's keys, such as `jobs/hashtags/`; `/` is added if missing. Default `''`. */
  readonly prefix?: string;
  /**
   * Retries of a throttled or 5xx call after the SDK's own attempts ran out (see `awsClients.ts` for the whole
   * policy). Default: 5 retries, full jitter from a 200 ms cap doubling up to 10 s.
   */
  readonly retry?: Pick<RetryPolicy, 'retries' | 'baseBackoffMs' | 'maxBackoffMs' | 'onRetry'>;
  /**
   * Keys (relative to `prefix`) written with an object tag, in the same PutObject, for a lifecycle rule to
   * expire: the runtime's temporary data. Default: no tags.
   */
  readonly temporary?: {
    readonly prefixes: readonly string[];
    readonly tag: { readonly key: string; readonly value: string };
  };
}

/** S3 deletes at most this many keys per DeleteObjects request. */
const DELETE_BATCH = 1000;

/**
 * The block store of the serverless runtime: one S3 object per block, under a prefix of a bucket. It keeps
 * the {@link BlockStore} contract of the local store (a whole-object write is atomic on S3, and so is a rewrite),
 * and adds the conditional writes the coordinator's lease needs.
 *
 * @example
 * const store = new S3BlockStore({ client: s3Client(), bucket: 'sluice-data', prefix: 'jobs/hashtags' });
 * await store.put('input/1000/0', 'hello');
 * const bytes = await store.get('input/1000/0');
 */
export class S3BlockStore implements BlockStore {
  /** The bucket. */
  readonly bucket: string;
  /** The key prefix inside the bucket, `''` or ending in `/`. */
  readonly prefix: string;
  /** HTTP requests sent to S3 so far, SDK retries included: S3 bills per request. */
  requests = 0;
  /**
   * Of {@link requests}, those S3 bills at the GET rate (GET, HEAD). The rest are billed as PUT, COPY, POST or
   * LIST requests (DeleteObjects is a POST: counted there, the conservative side).
   */
  readRequests = 0;
  private readonly client: S3Client;
  private readonly retry: RetryPolicy;
  private readonly temporary: S3BlockStoreOptions['temporary'];
  private readonly tagging: string | undefined;

  /** A store over `bucket` (which must exist) under `prefix`; nothing is called until the first operation. */
  constructor(options: S3BlockStoreOptions) {
    const { client, bucket, prefix = '' } = options;
    if (typeof bucket !== 'string' || bucket === '') {
      throw new SluiceError(`S3BlockStore bucket must be a non-empty string, got ${JSON.stringify(bucket)}`);
    }
    if (typeof prefix !== 'string' || prefix.startsWith('/')) {
      throw new SluiceError(
        `S3BlockStore prefix must be a string not starting with "/", got ${JSON.stringify(prefix)}`,
      );
    }
    this.client = client;
    this.bucket = bucket;
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.retry = { ...options.retry };
    this.temporary = options.temporary;
    this.tagging = options.temporary
      ? new URLSearchParams([[options.temporary.tag.key, options.temporary.tag.value]]).toString()
      : undefined;
  }

  /** Writes (or overwrites) a whole block with one PutObject. */
  async put(key: string, bytes: Uint8Array | string): Promise<void> {
    await this.send((s3) =>
      s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(key),
          Body: bytes,
          ...(this.isTemporary(key) ? { Tagging: this.tagging } : {}),
        }),
      ),
    );
  }

  private isTemporary(key: string): boolean {
    return this.temporary?.prefixes.some((p) => key.startsWith(p)) ?? false;
  }

  /** A whole block, or undefined when there is none (NoSuchKey). */
  async get(key: string): Promise<Uint8Array | undefined> {
    return (await this.getWithEtag(key))?.bytes;
  }

  /** Bytes [start, end) of a block, with a ranged GetObject; fails when the block is missing or shorter. */
  async getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start) {
      throw new SluiceError(`invalid byte range [${start}, ${end}) of block ${key}`);
    }
    if (start === end) {
      // S3 has no empty range. As in the local store, an empty range of an existing block is empty; the HEAD
      // still fails for a missing block.
      await this.send(
        (s3) => s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(key) })),
        undefined,
        'read',
      ).catch((error: unknown) => {
        throw errorName(error) === 'NotFound' ? new MissingBlockError(key) : error;
      });
      return new Uint8Array(0);
    }
    let bytes: Uint8Array;
    try {
      const out = await this.send(
        (s3) =>
          s3.send(
            new GetObjectCommand({
              Bucket: this.bucket,
              Key: this.key(key),
              Range: `bytes=${start}-${end - 1}`,
            }),
          ),
        undefined,
        'read',
      );
      bytes = await readBody(out.Body);
    } catch (error) {
      // 416: the range starts at or past the end of the block.
      if (errorName(error) === 'InvalidRange') throw shortBlock(key, start, end, 0);
      // A range is read of a block a plan named, which the store held when planned: gone, something deleted it.
      if (errorName(error) === 'NoSuchKey') throw new MissingBlockError(key);
      throw error;
    }
    if (bytes.length !== end - start) throw shortBlock(key, start, end, bytes.length);
    return bytes;
  }

  /** The keys under a prefix (relative to the store's prefix), sorted, from every ListObjectsV2 page. */
  list(prefix: string): Promise<string[]> {
    return this.listRange(prefix);
  }

  /**
   * The keys under `prefix` (relative to the store's prefix) after `startAfter` and up to `through`, in S3's
   * order (lexicographic): S3 starts the listing there (`StartAfter`), and paging stops at the first page that
   * passes `through`, so the keys outside the range cost no request. Default: the whole prefix.
   */
  async listRange(prefix: string, startAfter?: string, through?: string): Promise<string[]> {
    const keys: string[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await this.send((s3) =>
        s3.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            ContinuationToken: continuationToken,
            ...(startAfter === undefined ? {} : { StartAfter: this.prefix + startAfter }),
          }),
        ),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) keys.push(object.Key.slice(this.prefix.length));
      }
      const passed = through !== undefined && (keys.at(-1) ?? '') > through;
      continuationToken = page.IsTruncated && !passed ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
    // S3 orders keys by UTF-8 bytes, JavaScript by UTF-16 units; sort so every store agrees.
    keys.sort();
    return through === undefined ? keys : keys.filter((key) => key <= through);
  }

  /** Deletes every block under a prefix, 1,000 keys per DeleteObjects request. */
  async deletePrefix(prefix: string): Promise<void> {
    await this.deleteKeys(await this.list(prefix), prefix);
  }

  /** Deletes exactly these blocks (a missing one is not an error), 1,000 keys per DeleteObjects request. */
  async deleteKeys(keys: readonly string[], describedAs = keys[0] ?? ''): Promise<void> {
    const prefix = describedAs;
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const out = await this.send((s3) =>
        s3.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((key) => ({ Key: this.key(key) })), Quiet: true },
          }),
        ),
      );
      // DeleteObjects answers 200 even when some keys failed; those are listed in Errors.
      const failed = out.Errors ?? [];
      if (failed.length > 0) {
        const first = failed[0];
        throw new SluiceError(
          `could not delete ${failed.length} block(s) under ${this.describe(prefix)}: ` +
            `${first?.Key}: ${first?.Code} ${first?.Message}`,
        );
      }
    }
  }

  /**
   * Writes a block only if there is none yet (`If-None-Match: *`): true when this call created it, false when
   * the key already existed. Two writers racing for the same key: exactly one gets true.
   *
   * @example
   * const leader = await store.putIfAbsent('coordinator/lease', JSON.stringify({ owner, expiresAt }));
   */
  async putIfAbsent(key: string, bytes: Uint8Array | string): Promise<boolean> {
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: this.key(key),
      Body: bytes,
      IfNoneMatch: '*',
    });
    return this.conditionalPut(command);
  }

  /**
   * Rewrites a block only if it still has the ETag `etag` (`If-Match`), as returned by {@link getWithEtag}:
   * true when written, false when the block changed in between or no longer exists.
   */
  async putIfMatch(key: string, bytes: Uint8Array | string, etag: string): Promise<boolean> {
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: this.key(key),
      Body: bytes,
      IfMatch: etag,
    });
    return this.conditionalPut(command);
  }

  /** A whole block with its ETag (an opaque version tag for {@link putIfMatch}), or undefined when there is none. */
  async getWithEtag(key: string): Promise<{ bytes: Uint8Array; etag: string } | undefined> {
    try {
      const out = await this.send(
        (s3) => s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) })),
        undefined,
        'read',
      );
      return { bytes: await readBody(out.Body), etag: out.ETag ?? '' };
    } catch (error) {
      if (errorName(error) === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  /**
   * A conditional write that answers the new ETag: `ifMatch` an ETag, or absent (`If-None-Match: *`) when
   * undefined. Undefined when the condition failed. The ETag comes from the PutObject answer itself, so no other
   * writer can slip in between the write and the reading of its tag (a fencing token must be exactly one's own).
   */
  async putConditional(
    key: string,
    bytes: Uint8Array | string,
    ifMatch: string | undefined,
  ): Promise<string | undefined> {
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: this.key(key),
      Body: bytes,
      ...(ifMatch === undefined ? { IfNoneMatch: '*' } : { IfMatch: ifMatch }),
    });
    try {
      const out = await this.send((s3) => s3.send(command), isConditionalRetryable);
      if (!out.ETag) throw new SluiceError(`S3 answered no ETag for the conditional write of ${key}`);
      return out.ETag;
    } catch (error) {
      if (conditionFailed(error)) return undefined;
      throw error;
    }
  }

  private async conditionalPut(command: PutObjectCommand): Promise<boolean> {
    try {
      await this.send((s3) => s3.send(command), isConditionalRetryable);
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw error;
    }
  }

  /** Sends one command with the store's retries, counting every HTTP request it took, by S3's billing class. */
  private async send<Output extends object>(
    request: (client: S3Client) => Promise<Output>,
    isRetryable: (error: unknown) => boolean = isTransientAwsError,
    billedAs: 'write' | 'read' = 'write',
  ): Promise<Output> {
    const count = (attempts: number) => {
      this.requests += attempts;
      if (billedAs === 'read') this.readRequests += attempts;
    };
    return withRetries(
      async () => {
        try {
          const out = await request(this.client);
          count(attemptsOf(out));
          return out;
        } catch (error) {
          count(attemptsOf(error));
          throw error;
        }
      },
      { ...this.retry, isRetryable },
    );
  }

  private key(key: string): string {
    if (typeof key !== 'string' || key === '') {
      throw new SluiceError(`block key must be a non-empty string, got ${JSON.stringify(key)}`);
    }
    return this.prefix + key;
  }

  private describe(prefix: string): string {
    return `s3://${this.bucket}/${this.prefix}${prefix}`;
  }
}

/**
 * 409 ConditionalRequestConflict: another conditional write of the same key was in flight; AWS asks for a
 * retry, which then sees the winner's object and fails its condition with 412.
 */
function isConditionalRetryable(error: unknown): boolean {
  return errorName(error) === 'ConditionalRequestConflict' || isTransientAwsError(error);
}

async function readBody(body: unknown): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array(0);
  return (body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
}

function shortBlock(key: string, start: number, end: number, got: number): SluiceError {
  return new SluiceError(`block ${key} is shorter than expected: wanted bytes ${start}-${end}, got ${got}`);
}

/** Whether a conditional write was refused for its condition: 412, or 404 for If-Match on a block deleted meanwhile. */
function conditionFailed(error: unknown): boolean {
  const name = errorName(error);
  return httpStatusOf(error) === 412 || name === 'PreconditionFailed' || name === 'NoSuchKey';
}
