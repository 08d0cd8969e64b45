import { Dataset, type DatasetOrigin, type DatasetSpec } from './Dataset';
import type { AnyFn } from './FnScope';
import { keyOfPair, pairOf } from './pairOf';
import type { TaskContext } from './TaskContext';

/** The record-level transformations that keep partitioning as it is (Spark's MapPartitionsRDD). */
export type MapKind = 'map' | 'flatMap' | 'filter' | 'mapPartitions' | 'glom' | 'mapValues' | 'flatMapValues';

/**
 * Applies a function within each partition. A function that throws on a record (malformed JSON, a wrong type)
 * sends that record to the dead-letter output and the partition goes on; functions may return promises
 * (inline expressions do). A dead letter holds the record as it entered the stage (the source's line), not what
 * the ops before the failing one made of it: each output record's origin is kept beside it, per partition.
 * A `mapPartitions` function gets a third argument, `fail(record, error)`, to dead-letter a record itself.
 */
export class MapPartitionsDataset<T = unknown> extends Dataset<T> {
  readonly type = 'mapPartitions';

  /** Per computed partition, the stage-input record each output record came from (same index). */
  private readonly recordOrigins = new Map<number, unknown[]>();

  constructor(
    origin: DatasetOrigin,
    readonly kind: MapKind,
    readonly fnId: string,
  ) {
    super(origin);
  }

  /** Rebuilds the dataset inside a task. */
  static fromSpec(spec: DatasetSpec): MapPartitionsDataset {
    return new MapPartitionsDataset({ spec }, spec.args.kind as MapKind, spec.args.fn as string);
  }

  protected args(): Record<string, unknown> {
    return { kind: this.kind, fn: this.fnId };
  }

  /** True for the kinds that handle one record at a time, which can be fused into one pass. */
  get perRecord(): boolean {
    return this.kind !== 'glom' && this.kind !== 'mapPartitions';
  }

  /** The stage-input record of each record of a partition this task computed, when known (see `compute`). */
  originsOf(partition: number): readonly unknown[] | undefined {
    return this.recordOrigins.get(partition);
  }

  async compute(partition: number, tc: TaskContext): Promise<T[]> {
    const parentId = this.depSpecs[0]!.parent;
    if (this.perRecord && tc.fusable(parentId)) {
      const mark = tc.deadLetterMark();
      const out: T[] = [];
      const origins: unknown[] = [];
      const cursor: RecordCursor = { origin: undefined };
      try {
        await this.forEachRecord(
          partition,
          tc,
          (record) => {
            out.push(record as T);
            origins.push(cursor.origin);
          },
          cursor,
        );
        this.recordOrigins.set(partition, origins);
        return out;
      } catch (error) {
        if (!(error instanceof AsyncFunctionInFusedPass)) throw error;
        tc.deadLetterReset(mark); // the materialized pass below reports them again
      }
    }
    const input = await tc.partitionOf(parentId, partition);
    const fn = this.kind === 'glom' ? undefined : tc.fn(this.fnId);
    switch (this.kind) {
      case 'glom':
        return [input as T];
      case 'mapPartitions': {
        const fail = (record: unknown, error: unknown) =>
          tc.deadLetter(this.toString(), this.fnId, record, error, this.origin);
        return Array.from(await (fn as AnyFn)(input, partition, fail)) as T[];
      }
      default: {
        const inputOrigins = tc.originsOf(parentId, partition) ?? input;
        const fail = (origin: unknown, error: unknown, refused: unknown) =>
          tc.deadLetter(this.toString(), this.fnId, origin, error, this.origin, this.keyFor(origin, refused));
        const { out, origins } = await applyPerRecord(this.kind, fn as AnyFn, input, inputOrigins, fail);
        this.recordOrigins.set(partition, origins);
        return out as T[];
      }
    }
  }

  /**
   * Streams the partition's records to `emit` in one pass through this and every fusable parent, without the
   * array each operator would otherwise build (most of WordCount's time was the garbage of those arrays).
   * Throws `AsyncFunctionInFusedPass` when a function returns a promise; callers fall back to `compute`.
   * `cursor.origin` is, while a record goes through the pass, the stage-input record it came from.
   */
  async forEachRecord(
    partition: number,
    tc: TaskContext,
    emit: (record: unknown) => void,
    cursor: RecordCursor = { origin: undefined },
  ): Promise<void> {
    const fail = (refused: unknown, error: unknown) =>
      tc.deadLetter(
        this.toString(),
        this.fnId,
        cursor.origin,
        error,
        this.origin,
        this.keyFor(cursor.origin, refused),
      );
    const step = fusedStep(this.kind, tc.fn(this.fnId), emit, fail);
    const parentId = this.depSpecs[0]!.parent;
    const parent = tc.fusable(parentId);
    if (parent) {
      await parent.forEachRecord(partition, tc, step, cursor);
      return;
    }
    const input = await tc.partitionOf(parentId, partition);
    const origins = tc.originsOf(parentId, partition) ?? input;
    for (let i = 0; i < input.length; i++) {
      cursor.origin = origins[i];
      step(input[i]);
    }
  }

  /** The key a per-key kind's dead letter names, when the record it shows (the stage input) is not the pair. */
  private keyFor(origin: unknown, refused: unknown): unknown {
    const perKey = this.kind === 'mapValues' || this.kind === 'flatMapValues';
    return perKey && origin !== refused ? keyOfPair(refused) : undefined;
  }
}

/** Where a fused pass is: the stage-input record of the record going through it now. */
export interface RecordCursor {
  origin: unknown;
}

/** A function returned a promise inside a fused, synchronous pass. */
export class AsyncFunctionInFusedPass extends Error {}

/** What `attempt` returns when the function threw: the record went to the dead letters. */
const FAILED = Symbol('failed');

/**
 * Applies `fn` to `arg` for `record`: a throw sends the record to the dead letters (FAILED), a promise aborts
 * the fused pass. One place for what every per-record operator does around its function.
 */
function attempt(
  fn: AnyFn,
  arg: unknown,
  record: unknown,
  fail: (record: unknown, error: unknown) => void,
): unknown {
  try {
    const y = fn(arg);
    if (y instanceof Promise) {
      // The pass is abandoned and the materialized pass calls the function again; this promise's rejection
      // (an expression that fails on this record) has no one left to await it, and unhandled it kills the process.
      y.catch(ignoreRejection);
      throw new AsyncFunctionInFusedPass();
    }
    return y;
  } catch (error) {
    if (error instanceof AsyncFunctionInFusedPass) throw error;
    fail(record, error);
    return FAILED;
  }
}

function ignoreRejection(): void {}

/** One operator of a fused pass: applies `fn` to a record and hands the results to `emit`. */
function fusedStep(
  kind: MapKind,
  fn: AnyFn,
  emit: (record: unknown) => void,
  fail: (record: unknown, error: unknown) => void,
): (record: unknown) => void {
  // The pair operators destructure inside the guarded call, so a record that is not a pair is dead-lettered.
  let key: unknown;
  const ofValue = (record: unknown) => {
    const [k, v] = pairOf(record);
    key = k;
    return fn(v);
  };
  const emitAll = (ys: unknown, key: unknown, paired: boolean) => {
    if (ys == null) return;
    if (Array.isArray(ys)) for (let i = 0; i < ys.length; i++) emit(paired ? [key, ys[i]] : ys[i]);
    else for (const y of ys as Iterable<unknown>) emit(paired ? [key, y] : y);
  };
  switch (kind) {
    case 'map':
      return (record) => {
        const y = attempt(fn, record, record, fail);
        if (y !== FAILED) emit(y);
      };
    case 'filter':
      return (record) => {
        const keep = attempt(fn, record, record, fail);
        if (keep !== FAILED && keep) emit(record);
      };
    case 'flatMap':
      return (record) => {
        const ys = attempt(fn, record, record, fail);
        if (ys !== FAILED) emitAll(ys, undefined, false);
      };
    case 'mapValues':
      return (record) => {
        const y = attempt(ofValue, record, record, fail);
        if (y !== FAILED) emit([key, y]);
      };
    case 'flatMapValues':
      return (record) => {
        const ys = attempt(ofValue, record, record, fail);
        if (ys !== FAILED) emitAll(ys, key, true);
      };
    default:
      throw new Error(`${kind} is not a per-record operation`);
  }
}

/**
 * The per-record loop of the materialized pass (functions may return promises here): the output records, and
 * beside each the origin of the input record it came from. A failure dead-letters the input's origin.
 */
async function applyPerRecord(
  kind: MapKind,
  fn: AnyFn,
  input: unknown[],
  inputOrigins: readonly unknown[],
  fail: (origin: unknown, error: unknown, refused: unknown) => void,
): Promise<{ out: unknown[]; origins: unknown[] }> {
  const out: unknown[] = [];
  const origins: unknown[] = [];
  for (let i = 0; i < input.length; i++) {
    const record = input[i];
    const before = out.length;
    try {
      switch (kind) {
        case 'map': {
          let y = fn(record);
          if (y instanceof Promise) y = await y;
          out.push(y);
          break;
        }
        case 'filter': {
          let keep = fn(record);
          if (keep instanceof Promise) keep = await keep;
          if (keep) out.push(record);
          break;
        }
        case 'flatMap': {
          let ys = fn(record);
          if (ys instanceof Promise) ys = await ys;
          if (ys != null) for (const y of ys) out.push(y);
          break;
        }
        case 'mapValues': {
          const [k, v] = pairOf(record);
          let y = fn(v);
          if (y instanceof Promise) y = await y;
          out.push([k, y]);
          break;
        }
        case 'flatMapValues': {
          const [k, v] = pairOf(record);
          let ys = fn(v);
          if (ys instanceof Promise) ys = await ys;
          if (ys != null) for (const y of ys) out.push([k, y]);
          break;
        }
        default:
          throw new Error(`unknown map kind ${kind}`);
      }
    } catch (error) {
      out.length = before; // a flatMap that failed half-way keeps none of the record's outputs
      fail(inputOrigins[i], error, record);
    }
    for (let j = before; j < out.length; j++) origins.push(inputOrigins[i]);
  }
  return { out, origins };
}
