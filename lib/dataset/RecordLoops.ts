import type { AnyFn } from './FnScope';
import type { KeyedMap } from './KeyedMap';
import type { MapKind } from './MapPartitionsDataset';
import { pairOf } from './pairOf';

/**
 * The loops that touch every record of a stage: the fused pass of per-record operators (Spark's chain of
 * MapPartitionsRDD iterators) and the aggregator's folds of a shuffle.
 *
 * They live in a module of their own so that each stage can have its own copy of it (see `StageCode`). V8 keeps
 * what it learns about a call (which function it calls, which shapes it sees) per function in the source, shared
 * by every closure made from it. One copy for all stages let the tiny stages of a job (the reduce side of
 * `count()`, a few hundred records) teach the map side's calls to expect several functions: the map tasks of
 * WordCount then ran 15% slower in every thread that had also run one of them.
 */

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
export function recordStep(
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
export function stepAll(
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

/** Folds raw `[key, value]` records into `into`, one combiner per key (the map side, or a reduce side without one). */
export function combineValues(
  createCombiner: AnyFn,
  mergeValue: AnyFn,
  records: readonly unknown[],
  into: KeyedMap<unknown>,
  fail: (r: unknown, e: unknown, index: number) => void,
): void {
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    try {
      const [key, value] = pairOf(record);
      const current = into.get(key);
      into.set(key, current === undefined ? createCombiner(value) : mergeValue(current, value));
    } catch (error) {
      fail(record, error, i);
    }
  }
}

/**
 * A function that folds one raw value at a time into `into` (the streaming map side), and counts them. It is the
 * pass's last step, called once per word in WordCount: one closure, with the functions in its own variables,
 * rather than a method behind another closure, is one call fewer per record.
 */
export function folder(
  createCombiner: AnyFn,
  mergeValue: AnyFn,
  into: KeyedMap<unknown>,
  fail: (r: unknown, e: unknown) => void,
): { readonly fold: (record: unknown) => undefined; readonly folded: () => number } {
  let folded = 0;
  const fold = (record: unknown): undefined => {
    folded++;
    try {
      const pair = pairOf(record);
      const key = pair[0];
      const current = into.get(key);
      into.set(key, current === undefined ? createCombiner(pair[1]) : mergeValue(current, pair[1]));
    } catch (error) {
      fail(record, error);
    }
    return undefined;
  };
  return { fold, folded: () => folded };
}

/** Folds `[key, combiner]` records from map tasks into `into` (the reduce side). */
export function combineCombiners(
  mergeCombiners: AnyFn,
  records: readonly unknown[],
  into: KeyedMap<unknown>,
  fail: (r: unknown, e: unknown) => void,
): void {
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    try {
      const [key, combiner] = pairOf(record);
      const current = into.get(key);
      into.set(key, current === undefined ? combiner : mergeCombiners(current, combiner));
    } catch (error) {
      fail(record, error);
    }
  }
}
