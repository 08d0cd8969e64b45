/** A store that can write conditionally, as S3 does with If-None-Match and If-Match. */
export interface ConditionalStore {
  getWithEtag(key: string): Promise<{ bytes: Uint8Array; etag: string } | undefined>;
  putIfAbsent(key: string, bytes: Uint8Array | string): Promise<boolean>;
  putIfMatch(key: string, bytes: Uint8Array | string, etag: string): Promise<boolean>;
}

interface LeaseBody {
  readonly owner: string;
  readonly expiresAtMs: number;
}

/**
 * The lease that makes exactly one coordinator drive a job: an object written with conditional writes, so
 * two coordinators can never both believe they hold it. A holder renews it every batch; a crashed holder's
 * lease expires and the next coordinator takes it over.
 */
export class S3Lease {
  private etag: string | undefined;

  private constructor(
    private readonly store: ConditionalStore,
    private readonly key: string,
    /** Who holds it: an invocation id. */
    readonly owner: string,
    private readonly ttlMs: number,
  ) {}

  /** Takes the lease if it is free or expired; undefined when another live coordinator holds it. */
  static async acquire(
    store: ConditionalStore,
    key: string,
    owner: string,
    ttlMs: number,
  ): Promise<S3Lease | undefined> {
    const lease = new S3Lease(store, key, owner, ttlMs);
    const current = await store.getWithEtag(key);
    if (!current) {
      if (!(await store.putIfAbsent(key, lease.body()))) return undefined;
      lease.etag = (await store.getWithEtag(key))?.etag;
      return lease;
    }
    const held = JSON.parse(Buffer.from(current.bytes).toString('utf8')) as LeaseBody;
    if (held.owner !== owner && held.expiresAtMs > Date.now()) return undefined;
    if (!(await store.putIfMatch(key, lease.body(), current.etag))) return undefined;
    lease.etag = (await store.getWithEtag(key))?.etag;
    return lease;
  }

  /** Extends the lease; false when it was lost (another coordinator took it), and the holder must stop. */
  async renew(): Promise<boolean> {
    if (!this.etag) return false;
    if (!(await this.store.putIfMatch(this.key, this.body(), this.etag))) return false;
    this.etag = (await this.store.getWithEtag(this.key))?.etag;
    return this.etag !== undefined;
  }

  /** Gives the lease up at once, so the next coordinator need not wait for it to expire. */
  async release(): Promise<void> {
    if (this.etag)
      await this.store.putIfMatch(this.key, JSON.stringify({ owner: '', expiresAtMs: 0 }), this.etag);
    this.etag = undefined;
  }

  private body(): string {
    return JSON.stringify({ owner: this.owner, expiresAtMs: Date.now() + this.ttlMs } satisfies LeaseBody);
  }
}
