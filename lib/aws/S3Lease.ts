/** A store that can write conditionally, as S3 does with If-None-Match and If-Match. */
export interface ConditionalStore {
  getWithEtag(key: string): Promise<{ bytes: Uint8Array; etag: string } | undefined>;
  /** Writes `If-Match: ifMatch` (or `If-None-Match: *` when undefined); the new ETag, undefined when refused. */
  putConditional(
    key: string,
    bytes: Uint8Array | string,
    ifMatch: string | undefined,
  ): Promise<string | undefined>;
}

/** The lease object's body. */
export interface LeaseBody {
  readonly owner: string;
  /**
   * Incremented at each take-over (and at a reset), never reused: the fencing token. A coordinator writes its
   * epoch into the metadata checkpoint it claims, so what each epoch wrote can be told apart.
   */
  readonly epoch: number;
  readonly expiresAtMs: number;
}

/**
 * The lease that makes exactly one coordinator drive a job: an object written with conditional writes, so
 * two coordinators can never both believe they hold it. A holder renews it once a third of its time-to-live has
 * passed (`renewalDue`, asked after every batch: with 1 s batches and the default 5 s TTL, every other batch); a
 * crashed holder's lease expires and the next coordinator takes it over with the next epoch. Each write is one
 * PUT: the ETag it answers is the condition of the next, so renewing reads nothing.
 *
 * The lease alone does not stop a holder that is slow rather than dead (frozen, or past its invocation's
 * timeout): it learns it lost the lease only at its next renewal. What fences such a holder is the metadata
 * checkpoint, claimed by each new epoch with a conditional write (see `FencedStore`).
 */
export class S3Lease {
  private etag: string | undefined;
  /** When this holder last wrote the lease (Date.now()). */
  private writtenAtMs = 0;

  private constructor(
    private readonly store: ConditionalStore,
    private readonly key: string,
    /** Who holds it: an invocation id. */
    readonly owner: string,
    /** This holder's epoch: one more than the lease's previous one. */
    readonly epoch: number,
    private readonly ttlMs: number,
  ) {}

  /** Takes the lease if it is free or expired; undefined when another live coordinator holds it. */
  static async acquire(
    store: ConditionalStore,
    key: string,
    owner: string,
    ttlMs: number,
  ): Promise<S3Lease | undefined> {
    const current = await store.getWithEtag(key);
    const held = current ? parseLease(current.bytes) : undefined;
    if (held && held.owner !== owner && held.expiresAtMs > Date.now()) return undefined;
    const epoch = held ? held.epoch + 1 : current ? damagedLeaseEpoch() : 1;
    const lease = new S3Lease(store, key, owner, epoch, ttlMs);
    return (await lease.write(current?.etag)) ? lease : undefined;
  }

  /** Whether a live holder has the lease now: one that has not released it and whose time-to-live has not run out. */
  static async isHeld(store: ConditionalStore, key: string): Promise<boolean> {
    const current = await store.getWithEtag(key);
    const held = current ? parseLease(current.bytes) : undefined;
    return held !== undefined && held.owner !== '' && held.expiresAtMs > Date.now();
  }

  /**
   * Ends whatever lease a job has, live or not, and moves the epoch on: the holder's next renewal fails. For a
   * reset; true when written (false: the lease changed in between, try again).
   */
  static async breakLease(store: ConditionalStore, key: string): Promise<boolean> {
    const current = await store.getWithEtag(key);
    const epoch = current ? (parseLease(current.bytes)?.epoch ?? damagedLeaseEpoch()) : 0;
    const body = JSON.stringify({ owner: '', epoch: epoch + 1, expiresAtMs: 0 } satisfies LeaseBody);
    return (await store.putConditional(key, body, current?.etag)) !== undefined;
  }

  /** Extends the lease; false when it was lost (another coordinator took it), and the holder must stop. */
  async renew(): Promise<boolean> {
    if (!this.etag) return false;
    return this.write(this.etag);
  }

  /**
   * Whether a third of the time-to-live has passed since this holder last wrote the lease. Renewing no more often
   * keeps at least two thirds of the TTL in hand, yet costs a PUT only every few batches; it never weakens
   * fencing, which rests on the metadata checkpoint's conditional writes, not on the lease's timing.
   */
  renewalDue(nowMs = Date.now()): boolean {
    return nowMs - this.writtenAtMs >= this.ttlMs / 3;
  }

  /** Gives the lease up at once, so the next coordinator need not wait for it to expire. */
  async release(): Promise<void> {
    if (this.etag) {
      const body = JSON.stringify({ owner: '', epoch: this.epoch, expiresAtMs: 0 } satisfies LeaseBody);
      await this.store.putConditional(this.key, body, this.etag);
    }
    this.etag = undefined;
  }

  /** Writes this holder's lease on the condition `ifMatch`, keeping the ETag S3 answers; false when refused. */
  private async write(ifMatch: string | undefined): Promise<boolean> {
    const writtenAtMs = Date.now();
    this.etag = await this.store.putConditional(this.key, this.body(), ifMatch);
    if (this.etag === undefined) return false;
    this.writtenAtMs = writtenAtMs;
    return true;
  }

  private body(): string {
    return JSON.stringify({
      owner: this.owner,
      epoch: this.epoch,
      expiresAtMs: Date.now() + this.ttlMs,
    } satisfies LeaseBody);
  }
}

/**
 * The lease's body, one written before epochs existed counting as epoch 0; undefined when the object is damaged
 * (not a JSON object).
 */
function parseLease(bytes: Uint8Array): LeaseBody | undefined {
  let body: Partial<LeaseBody>;
  try {
    body = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<LeaseBody>;
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  return {
    owner: String(body.owner ?? ''),
    epoch: Number.isInteger(body.epoch) ? (body.epoch as number) : 0,
    expiresAtMs: Number(body.expiresAtMs ?? 0),
  };
}

/**
 * The epoch of the lease written over a damaged one (not JSON), whose own epoch is lost. Any number would fence
 * (the checkpoint's ETag chain does, see FencedStore), but epochs should go on counting up for the logs that
 * name them: they count from 1, one a hand-over, so the clock's milliseconds are above all of them. A damaged
 * lease is taken over at once: it has no expiry to wait for.
 */
function damagedLeaseEpoch(): number {
  return Date.now();
}
