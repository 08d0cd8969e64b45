import { preview, SluiceError } from '../errors';

/**
 * What a rate-limited batch may take from its source (see {@link RateLimit}): a source holds back what is over it,
 * and a later batch takes it.
 */
export interface BatchLimit {
  /**
   * The most records one shard may give the batch; a source that is not sharded (socket, folder, generator, queue)
   * is one shard. Infinity while no bound applies (backpressure on, no estimate yet and no `maxRatePerSec`).
   */
  maxRecords(shards?: number): number;
}

/** Settings of a {@link RateLimit}. */
export interface RateLimitOptions {
  /** The user's cap in records per second, per shard (a source that is not sharded is one). Default: none. */
  readonly maxRatePerSec?: number;
  /** With backpressure: the rate of the batches before the first estimate, for the whole source. Default: none. */
  readonly initialRatePerSec?: number;
}

/**
 * The rate limiter of one input stream (Spark's receiver RateLimiter with `spark.streaming.receiver.maxRate`, and
 * the direct Kafka stream's per-partition bound): the user's fixed cap, `maxRatePerSec`, per shard, and the bound
 * backpressure sets after each batch for the whole source, which is shared among its shards. A batch ending at t
 * may take floor(rate·t/1000) − floor(rate·(t − interval)/1000) records per shard: exactly the rate over time, a
 * rate below one record per interval included.
 *
 * @example
 * const limit = new RateLimit({ maxRatePerSec: 500 });
 * limit.forBatch(2000, 1000).maxRecords(); // 500
 * limit.update(300);                        // backpressure's estimate
 * limit.forBatch(3000, 1000).maxRecords(); // 300
 */
export class RateLimit {
  /** The user's cap per shard, records per second; undefined: none. */
  readonly maxRatePerSec: number | undefined;
  private estimatedRatePerSec: number | undefined;

  /** A limit with the user's cap and backpressure's starting rate; both checked now. */
  constructor(options: RateLimitOptions = {}) {
    this.maxRatePerSec = positiveRate('maxRatePerSec', options.maxRatePerSec);
    this.estimatedRatePerSec = positiveRate('initialRatePerSec', options.initialRatePerSec);
  }

  /** Backpressure's new estimate for the whole source, records per second (Spark's `updateRate`). */
  update(ratePerSec: number): void {
    this.estimatedRatePerSec = positiveRate('the estimated rate', ratePerSec);
  }

  /** Backpressure's latest estimate for the whole source (its `initialRatePerSec` before one); undefined: none. */
  get estimatedRate(): number | undefined {
    return this.estimatedRatePerSec;
  }

  /** What the batch ending at `batchTime` may take, per shard. */
  forBatch(batchTime: number, intervalMs: number): BatchLimit {
    return {
      maxRecords: (shards = 1) => {
        const rate = this.perShard(Math.max(1, shards));
        if (rate === undefined) return Number.POSITIVE_INFINITY;
        return Math.floor((rate * batchTime) / 1000) - Math.floor((rate * (batchTime - intervalMs)) / 1000);
      },
    };
  }

  private perShard(shards: number): number | undefined {
    const estimated = this.estimatedRatePerSec === undefined ? undefined : this.estimatedRatePerSec / shards;
    if (estimated === undefined) return this.maxRatePerSec;
    return this.maxRatePerSec === undefined ? estimated : Math.min(estimated, this.maxRatePerSec);
  }
}

function positiveRate(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new SluiceError(`${name} must be a positive number of records per second, got ${String(value)}`);
  }
  return value;
}

/**
 * Whether a rate-limited source's checkpointed `{ [taken]: count, arrived: count }` held records back (took fewer
 * than had arrived), or undefined when it does not say how many had arrived: positions written before sources
 * recorded it, or not such a position at all.
 */
export function heldBackAt(position: unknown, taken: string): boolean | undefined {
  const fields = position as Record<string, unknown> | null;
  const [took, arrived] = [fields?.[taken], fields?.arrived];
  if (!Number.isSafeInteger(took) || !Number.isSafeInteger(arrived)) return undefined;
  return (took as number) < (arrived as number);
}

/** The `arrived` count of such a position, or undefined where {@link heldBackAt} cannot tell. */
export function restoredArrived(position: unknown, taken: string): number | undefined {
  return heldBackAt(position, taken) === undefined ? undefined : (position as { arrived: number }).arrived;
}

/**
 * The count a rate-limited source checkpointed as `{ [field]: count }` (how far its stream was taken), checked
 * before the source continues from it: the generator and the queue keep their position this way.
 */
export function restoredCount(position: unknown, field: string, what: string, description: string): number {
  const count = (position as Record<string, unknown> | null)?.[field];
  if (!Number.isSafeInteger(count) || (count as number) < 0) {
    throw new SluiceError(
      `cannot restore ${description}: position.${field} must be ${what}, got ${preview(count)}`,
    );
  }
  return count as number;
}
