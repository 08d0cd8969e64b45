import { preview, SluiceError } from '../errors';
import { makeGenerator } from './generatedRecords';
import { type BatchLimit, heldBackAt, restoredArrived, restoredCount } from './RateLimit';
import type { DirectSource } from './Source';

/** The kinds of records a {@link GeneratorSource} can make. */
export type GeneratorKind = 'tweets' | 'lines' | 'kv';

/** A synthetic tweet, for hashtag counts and spam-list joins. */
export interface Tweet {
  /** The record's global running index, unique within a stream. */
  readonly id: number;
  /** `user1`..`user<users>`, or `spammer1`..`spammer5` for about one tweet in twenty. */
  readonly user: string;
  /** A few lowercase words followed by zero to three hashtags such as `#spark`. */
  readonly text: string;
  /** A language code such as `en`, skewed towards English. */
  readonly lang: string;
}

/** A synthetic keyed measurement, for reduceByKey and windowed aggregations. */
export interface KeyValueRecord {
  /** `k1`..`k<keys>`, uniformly distributed. */
  readonly key: string;
  /** A small integer from 1 to 10. */
  readonly value: number;
  /** When the record arrived, in ms since the stream started; within its batch's (start, end]. */
  readonly ts: number;
}

/** The record type each kind produces. */
export interface GeneratedRecords {
  /** See {@link Tweet}. */
  tweets: Tweet;
  /** A line of exactly `lineBytes` ASCII bytes: lowercase words separated by single spaces. */
  lines: string;
  /** See {@link KeyValueRecord}. */
  kv: KeyValueRecord;
}

/** Settings of a {@link GeneratorSource}. */
export interface GeneratorSourceOptions<K extends GeneratorKind = GeneratorKind> {
  /** What to generate. */
  readonly kind: K;
  /** Records per second of stream time; any positive number, fractions allowed. */
  readonly ratePerSec: number;
  /** Selects the pseudo-random sequence; an integer. Default `1`. */
  readonly seed?: number;
  /** How many distinct non-spammer users, for tweets. Default `1000`. */
  readonly users?: number;
  /** Size of the hashtag pool, for tweets. Default `50`. */
  readonly hashtags?: number;
  /** How many distinct keys, for kv. Default `100`. */
  readonly keys?: number;
  /** Exact length of every line, in bytes, for lines. Default `100`. */
  readonly lineBytes?: number;
  /**
   * Cycle through the first this-many records instead of making each one: record `i` is record `i mod
   * poolRecords`, and the pool is made once per process, on first use. For measuring a job rather than the
   * generator, whose cost per record is otherwise part of every task. Default `0`: every record is made.
   */
  readonly poolRecords?: number;
}

/**
 * A deterministic synthetic source for examples and benchmarks: tweets, text lines or key/value records at
 * a fixed rate of stream time.
 *
 * The batch ending at `t` holds the records with global index `i` in
 * `[floor(rate × (t − interval) / 1000), floor(rate × t / 1000))`, and record `i` is a pure function of the
 * seed, the options and `i` (a counter-based hash, not a stateful PRNG). So any batch can be regenerated on
 * its own, in any order, after a crash or on another machine, and yields the same records.
 *
 * @example
 * const source = new GeneratorSource({ kind: 'lines', ratePerSec: 100_000, lineBytes: 80 });
 * const lines = await source.recordsFor(1000, 1000); // 100 000 strings of 80 characters
 */
export class GeneratorSource<K extends GeneratorKind = GeneratorKind>
  implements DirectSource<GeneratedRecords[K]>
{
  /** Such as `generator(tweets, 1000/s, seed 1)`. */
  readonly description: string;
  /** Always true: a batch's records are a function of its batch time. */
  readonly replayable = true;
  /** The validated settings, defaults filled in. */
  readonly options: Readonly<Required<GeneratorSourceOptions<K>>>;
  private readonly generate: (index: number) => GeneratedRecords[K];
  /** Rate-limited: the index of the next record to hand out; undefined until a limited batch took one. */
  private nextIndex: number | undefined;
  /**
   * Rate-limited: the index past the newest record that had arrived by the last batch that took some (`nextIndex`
   * below it: the cap held records back); undefined until then, or restored from a position written before it was
   * recorded.
   */
  private arrived: number | undefined;

  /** Validates every option now so a bad job fails at build time, not at the first batch. */
  constructor(options: GeneratorSourceOptions<K>) {
    if (options === null || typeof options !== 'object') {
      throw new SluiceError(`GeneratorSource options must be an object, got ${show(options)}`);
    }
    const { kind, ratePerSec } = options;
    if (kind !== 'tweets' && kind !== 'lines' && kind !== 'kv') {
      throw new SluiceError(`GeneratorSource kind must be 'tweets', 'lines' or 'kv', got ${show(kind)}`);
    }
    if (typeof ratePerSec !== 'number' || !Number.isFinite(ratePerSec) || ratePerSec <= 0) {
      throw new SluiceError(`ratePerSec must be a positive number, got ${show(ratePerSec)}`);
    }
    const seed = options.seed ?? 1;
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
      throw new SluiceError(`seed must be an integer, got ${show(seed)}`);
    }
    this.options = {
      kind,
      ratePerSec,
      seed,
      users: positiveInteger('users', options.users ?? 1000),
      hashtags: positiveInteger('hashtags', options.hashtags ?? 50),
      keys: positiveInteger('keys', options.keys ?? 100),
      lineBytes: positiveInteger('lineBytes', options.lineBytes ?? 100),
      // 0 is no pool, and is what `directSpec` hands a task when none was asked for.
      poolRecords:
        options.poolRecords === undefined || options.poolRecords === 0
          ? 0
          : positiveInteger('poolRecords', options.poolRecords),
    };
    this.description = `generator(${kind}, ${ratePerSec}/s, seed ${seed}${this.options.poolRecords > 0 ? `, a pool of ${this.options.poolRecords}` : ''})`;
    const make = makeGenerator(this.options) as (index: number) => GeneratedRecords[K]; // kind is K, checked above
    this.generate = this.options.poolRecords > 0 ? pooled(make, this.options.poolRecords) : make;
  }

  /** Record number `index` of the stream (0-based, counted from the stream's start). */
  recordAt(index: number): GeneratedRecords[K] {
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new SluiceError(`record index must be a non-negative integer, got ${show(index)}`);
    }
    return this.generate(index);
  }

  /**
   * The options each batch's records follow from, with its time, as JSON (see `Source.replaySpec`): only those its
   * kind reads, so that a setting its records never depend on (`users` of a `kv` generator) refuses no resume.
   */
  get replaySpec(): string {
    const { kind, ratePerSec, seed, users, hashtags, keys, lineBytes, poolRecords } = this.options;
    const ofKind = kind === 'tweets' ? { users, hashtags } : kind === 'kv' ? { keys } : { lineBytes };
    return JSON.stringify({ kind, ratePerSec, seed, ...ofKind, poolRecords });
  }

  /** The JSON that rebuilds this generator in a task (see `DirectSource`). */
  get directSpec(): { kind: 'generator'; options: Readonly<Record<string, unknown>> } {
    return { kind: 'generator', options: this.options as unknown as Record<string, unknown> };
  }

  /** The record indexes of the batch ending at `batchTime`: those that arrived in (t − interval, t]. */
  indexRange(batchTime: number, intervalMs: number): { first: number; end: number } {
    const rate = this.options.ratePerSec;
    return {
      first: Math.max(0, Math.floor((rate * (batchTime - intervalMs)) / 1000)),
      end: Math.floor((rate * batchTime) / 1000),
    };
  }

  /**
   * Rate-limited: the indexes from where the previous batch stopped up to `limit.maxRecords()` further, but never
   * past what arrived by `batchTime`. The records over the limit are not dropped: they wait, and the batches that
   * follow take them first, in order.
   */
  takeRange(batchTime: number, intervalMs: number, limit: BatchLimit): { first: number; end: number } {
    const arrived = this.indexRange(batchTime, intervalMs);
    const first = this.nextIndex ?? arrived.first;
    const end = Math.max(first, Math.min(arrived.end, first + limit.maxRecords()));
    this.nextIndex = end;
    this.arrived = arrived.end;
    return { first, end };
  }

  /**
   * Rate-limited: the index of the next record to hand out and the index past the newest that had arrived, for the
   * metadata checkpoint; otherwise none.
   */
  checkpointPosition(): { nextIndex: number; arrived?: number } | undefined {
    if (this.nextIndex === undefined) return undefined;
    return this.arrived === undefined
      ? { nextIndex: this.nextIndex }
      : { nextIndex: this.nextIndex, arrived: this.arrived };
  }

  /** Whether batches had handed out fewer records than had arrived at a {@link checkpointPosition}. */
  heldBackAt(position: unknown): boolean | undefined {
    return heldBackAt(position, 'nextIndex');
  }

  /** Continues a rate-limited stream from a {@link checkpointPosition}. */
  restorePosition(position: unknown): void {
    this.nextIndex = restoredCount(position, 'nextIndex', 'a record index', this.description);
    this.arrived = restoredArrived(position, 'nextIndex');
  }

  /** The records that arrived in (batchTime − intervalMs, batchTime] at `ratePerSec`. */
  async recordsFor(batchTime: number, intervalMs: number): Promise<GeneratedRecords[K][]> {
    const { first, end } = this.indexRange(batchTime, intervalMs);
    const records: GeneratedRecords[K][] = [];
    for (let index = first; index < end; index++) records.push(this.generate(index));
    return records;
  }
}

/**
 * Record `i` is `make(i mod size)`, the pool made on first use: made in the constructor it would be made again
 * each time a job is only validated or planned, and by the driver, which never reads a direct source's records.
 */
function pooled<T>(make: (index: number) => T, size: number): (index: number) => T {
  let pool: T[] | undefined;
  return (index) => {
    pool ??= Array.from({ length: size }, (_, i) => make(i));
    return pool[index % size]!;
  };
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new SluiceError(`${name} must be a positive integer, got ${show(value)}`);
  }
  return value;
}

/** `preview`, except that numbers print as themselves: JSON would show NaN and Infinity as `null`. */
function show(value: unknown): string {
  return typeof value === 'number' ? String(value) : preview(value);
}
