import { Dataset, type DatasetOrigin, type DatasetSpec } from './Dataset';
import type { AnyFn } from './FnScope';
import { letterKey, pairOf } from './pairOf';
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
    if (this.perRecord) {
      const out: T[] = [];
      const origins: unknown[] = [];
      const cursor: RecordCursor = { origin: undefined };
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
    }
    const input = await tc.partitionOf(this.depSpecs[0]!.parent, partition);
    if (this.kind === 'glom') return [input as T];
    const fail = (record: unknown, error: unknown) =>
      tc.deadLetter(this.toString(), this.fnId, record, error, this.origin);
    return Array.from(await tc.fn(this.fnId)(input, partition, fail)) as T[];
  }

  /**
   * Streams the partition's records to `emit` in one pass through this and every fusable parent, without the
   * array each operator would otherwise build (most of WordCount's time was the garbage of those arrays).
   * The pass stays synchronous until a function (or `emit`) returns a promise, and awaits only that one.
   * `cursor.origin` is, while a record goes through the pass, the stage-input record it came from.
   */
  async forEachRecord(
    partition: number,
    tc: TaskContext,
    emit: Emit,
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
    const step = recordStep(this.kind, tc.fn(this.fnId), emit, fail);
    const parentId = this.depSpecs[0]!.parent;
    const parent = tc.fusable(parentId);
    if (parent) {
      await parent.forEachRecord(partition, tc, step, cursor);
      return;
    }
    // An input that reads or makes its records a chunk at a time hands them over so; each is its own origin.
    if (await tc.forEachChunk(parentId, partition, (chunk) => stepAll(step, chunk, chunk, cursor))) return;
    const input = await tc.partitionOf(parentId, partition);
    await stepAll(step, input, tc.originsOf(parentId, partition) ?? input, cursor);
  }

  /** The key a per-key kind's dead letter names, when the record it shows (the stage input) is not the pair. */
  private keyFor(origin: unknown, refused: unknown): unknown {
    const perKey = this.kind === 'mapValues' || this.kind === 'flatMapValues';
    return perKey ? letterKey(origin, refused) : undefined;
  }
}

/** Where a fused pass is: the stage-input record of the record going through it now. */
export interface RecordCursor {
  origin: unknown;
}

/**
 * What a step of a pass returns: undefined when it is done with the record, or a promise when a function on
 * the way returned one (Beam's worker operators return their `ProcessResult` the same way).
 */
// biome-ignore lint/suspicious/noConfusingVoidType: an emit that returns nothing (void) is the common, synchronous case
export type Pending = void | Promise<unknown>;

/** Where a step hands each record it makes; it may return a promise, which the step passes back. */
export type Emit = (record: unknown) => Pending;

/** What a refused record settles to: the record went to the dead letters. */
const FAILED = Symbol('failed');

/**
 * One operator of a pass: applies the function of `kind` to a record and hands what it made to `emit`. A
 * record the function throws on, or rejects, goes to `fail` and the pass goes on; a failure of `emit` is not
 * the function's and fails the pass. Each kind is its own closure, with its own `try` around its own call of
 * `fn`, so that V8 sees one function and one emit at each call site of the hot, synchronous path: the call
 * inside a helper that every kind shared saw every function of the job, and cost WordCount's map side 15%.
 */
function recordStep(
  kind: MapKind,
  fn: AnyFn,
  emit: Emit,
  fail: (record: unknown, error: unknown) => void,
): (record: unknown) => Pending {
  // One `instanceof Promise` per call on the synchronous path: each one walks a result's prototype chain.
  switch (kind) {
    case 'map': {
      const onValue = (y: unknown) => (y === FAILED ? undefined : emit(y));
      return (record) => {
        let y: unknown;
        try {
          y = fn(record);
        } catch (error) {
          fail(record, error);
          return undefined;
        }
        return y instanceof Promise ? settled(y, record, fail).then(onValue) : emit(y);
      };
    }
    case 'filter': {
      const onKeep = (keep: unknown, record: unknown) => (keep !== FAILED && keep ? emit(record) : undefined);
      return (record) => {
        let keep: unknown;
        try {
          keep = fn(record);
        } catch (error) {
          fail(record, error);
          return undefined;
        }
        return keep instanceof Promise
          ? settled(keep, record, fail).then((k) => onKeep(k, record))
          : onKeep(keep, record);
      };
    }
    case 'flatMap': {
      const onValues = (ys: unknown, record: unknown) => {
        const list = listOf(ys, record, fail);
        return list === FAILED ? undefined : emitEach(list, 0, emit, undefined, false);
      };
      return (record) => {
        let ys: unknown;
        try {
          ys = fn(record);
        } catch (error) {
          fail(record, error);
          return undefined;
        }
        return ys instanceof Promise
          ? settled(ys, record, fail).then((v) => onValues(v, record))
          : onValues(ys, record);
      };
    }
    // The pair kinds destructure inside the `try`, so a record that is not a pair is dead-lettered.
    case 'mapValues': {
      const onValue = (y: unknown, record: unknown) =>
        y === FAILED ? undefined : emit([(record as [unknown, unknown])[0], y]);
      return (record) => {
        let y: unknown;
        try {
          y = fn(pairOf(record)[1]);
        } catch (error) {
          fail(record, error);
          return undefined;
        }
        return y instanceof Promise
          ? settled(y, record, fail).then((v) => onValue(v, record))
          : onValue(y, record);
      };
    }
    case 'flatMapValues': {
      const onValues = (ys: unknown, record: unknown) => {
        const list = listOf(ys, record, fail);
        const key = (record as [unknown, unknown])[0];
        return list === FAILED ? undefined : emitEach(list, 0, emit, key, true);
      };
      return (record) => {
        let ys: unknown;
        try {
          ys = fn(pairOf(record)[1]);
        } catch (error) {
          fail(record, error);
          return undefined;
        }
        return ys instanceof Promise
          ? settled(ys, record, fail).then((v) => onValues(v, record))
          : onValues(ys, record);
      };
    }
    default:
      throw new Error(`${kind} is not a per-record operation`);
  }
}

/** A function's promise, whose rejection sends the record to `fail` and settles to FAILED. */
function settled(
  y: Promise<unknown>,
  record: unknown,
  fail: (record: unknown, error: unknown) => void,
): Promise<unknown> {
  return y.catch((error: unknown) => {
    fail(record, error);
    return FAILED;
  });
}

const NONE: unknown[] = [];

/**
 * A flatMap function's result as an array: null and undefined are no records, an iterable is drained here, so
 * that one failing half-way dead-letters its record and hands on none of what it made.
 */
function listOf(
  ys: unknown,
  record: unknown,
  fail: (record: unknown, error: unknown) => void,
): unknown[] | typeof FAILED {
  if (Array.isArray(ys) || ys === FAILED) return ys;
  if (ys == null) return NONE;
  try {
    return Array.from(ys as Iterable<unknown>);
  } catch (error) {
    fail(record, error);
    return FAILED;
  }
}

/**
 * Steps `input` from `at.index` on until a step returns a promise, which it returns (with `at.index` past that
 * record), or to the end. A plain loop, apart from the caller's `await`: a loop holding an `await` ran the
 * synchronous case measurably slower.
 */
function stepWhileSync(
  step: (record: unknown) => Pending,
  input: readonly unknown[],
  origins: readonly unknown[],
  at: { index: number },
  cursor: RecordCursor,
): Pending {
  for (let i = at.index; i < input.length; i++) {
    cursor.origin = origins[i];
    const pending = step(input[i]);
    if (pending) {
      at.index = i + 1;
      return pending;
    }
  }
  at.index = input.length;
  return undefined;
}

/** Steps every record of `input`: synchronously to the end unless a step returns a promise (see stepWhileSync). */
function stepAll(
  step: (record: unknown) => Pending,
  input: readonly unknown[],
  origins: readonly unknown[],
  cursor: RecordCursor,
): Pending {
  const at = { index: 0 };
  const pending = stepWhileSync(step, input, origins, at, cursor);
  return pending ? stepRest(step, input, origins, at, cursor, pending) : undefined;
}

async function stepRest(
  step: (record: unknown) => Pending,
  input: readonly unknown[],
  origins: readonly unknown[],
  at: { index: number },
  cursor: RecordCursor,
  pending: Promise<unknown>,
): Promise<void> {
  await pending;
  while (at.index < input.length) {
    const next = stepWhileSync(step, input, origins, at, cursor);
    if (next) await next;
  }
}

/** Hands `ys[from..]` to `emit` in order, waiting for any promise `emit` returns before the next record. */
function emitEach(ys: unknown[], from: number, emit: Emit, key: unknown, paired: boolean): Pending {
  for (let i = from; i < ys.length; i++) {
    const pending = emit(paired ? [key, ys[i]] : ys[i]);
    if (pending) return pending.then(() => emitEach(ys, i + 1, emit, key, paired));
  }
  return undefined;
}
