import { preview } from '../errors';
import type { AnyFn } from './FnScope';
import { toJsonNumber } from './jsonNumber';
import { pairOf } from './pairOf';
import { StatCounter } from './StatCounter';
import { compareValues } from './valueOrder';

/** Orders a partition of `[key, record]` pairs by key (see {@link compareValues}) and gives the records. */
function sortedByKey(sign: 1 | -1): AnyFn {
  return (pairs: Array<[unknown, unknown]>) => {
    pairs.sort(([a], [b]) => sign * compareValues(a, b));
    return pairs.map(([, record]) => record);
  };
}

/**
 * The `n` pairs of a partition of `[key, record]` pairs with the smallest keys (`sign` 1) or the largest (-1),
 * in that order, keys kept: a partition's share of `top` and `takeOrdered`, which the driver merges.
 */
export function firstByKey(sign: 1 | -1, n: number): AnyFn {
  return (pairs: Array<[unknown, unknown]>) => {
    pairs.sort(([a], [b]) => sign * compareValues(a, b));
    return pairs.slice(0, n);
  };
}

/**
 * `zipWithIndex`'s partition function: each record paired with its index in the whole dataset, the partition's
 * records numbered from its offset (the count of the records of the partitions before it).
 */
export function zippedWithIndex(offsets: readonly number[]): AnyFn {
  return (records: readonly unknown[], partition: number) => {
    const offset = offsets[partition];
    if (offset === undefined) {
      throw new RangeError(`zipWithIndex counted ${offsets.length} partitions, not partition ${partition}`);
    }
    return records.map((record, i) => [record, offset + i]);
  };
}

/**
 * Functions the engine itself passes to datasets (grouping, join flattening). They have fixed ids under
 * `builtin:` so every process knows them without building anything.
 */
export const builtinFunctions: Readonly<Record<string, AnyFn>> = {
  'builtin:groupCreate': (v: unknown) => [v],
  'builtin:groupMerge': (c: unknown[], v: unknown) => {
    c.push(v);
    return c;
  },
  'builtin:groupCombine': (a: unknown[], b: unknown[]) => {
    for (const v of b) a.push(v);
    return a;
  },
  'builtin:identity': (v: unknown) => v,
  'builtin:sum': (a: number, b: number) => a + b,
  'builtin:joinInner': ([left, right]: [unknown[], unknown[]]) => {
    const out: unknown[] = [];
    for (const l of left) for (const r of right) out.push([l, r]);
    return out;
  },
  'builtin:joinLeft': ([left, right]: [unknown[], unknown[]]) => {
    const out: unknown[] = [];
    for (const l of left) {
      if (right.length === 0) out.push([l, null]);
      else for (const r of right) out.push([l, r]);
    }
    return out;
  },
  'builtin:joinRight': ([left, right]: [unknown[], unknown[]]) => {
    const out: unknown[] = [];
    for (const r of right) {
      if (left.length === 0) out.push([null, r]);
      else for (const l of left) out.push([l, r]);
    }
    return out;
  },
  'builtin:joinFull': ([left, right]: [unknown[], unknown[]]) => {
    const out: unknown[] = [];
    if (left.length === 0) for (const r of right) out.push([null, r]);
    else if (right.length === 0) for (const l of left) out.push([l, null]);
    else for (const l of left) for (const r of right) out.push([l, r]);
    return out;
  },
  // The left values of a key the right side lacks (Spark's SubtractedRDD keeps the same).
  'builtin:subtractByKey': ([left, right]: [unknown[], unknown[]]) => (right.length === 0 ? left : []),
  // distinct's steps, as Spark's: `map(x => (x, null)).reduceByKey((x, _) => x).map(_._1)`.
  'builtin:pairWithNull': (record: unknown) => [record, null],
  'builtin:keepFirst': (a: unknown) => a,
  // keys() and values() as well: a record that is not a pair throws, so it is a dead letter, where
  // destructuring a string would take its first character as the key.
  'builtin:pairKey': (record: unknown) => pairOf(record)[0],
  'builtin:pairValue': (record: unknown) => pairOf(record)[1],
  // collectAsMap's check that every record is a pair, so one that is not is a dead letter.
  'builtin:pair': (record: unknown) => pairOf(record),
  // countByKey's `mapValues(_ => 1L)`.
  'builtin:one': () => 1,
  // intersection's filter on the cogrouped `[record, [[nulls of this], [nulls of other]]]`: on both sides.
  'builtin:onBothSides': ([, [mine, theirs]]: [unknown, [unknown[], unknown[]]]) =>
    mine.length > 0 && theirs.length > 0,
  'builtin:sortedByKey:asc': sortedByKey(1),
  'builtin:sortedByKey:desc': sortedByKey(-1),
  // A partition's share of `sum()` (Spark's `fold(0.0)(_ + _)`) and of `stats()` (its StatCounter, when it saw a
  // number): a record that is no finite number is a dead letter, and the partition goes on without it.
  'builtin:partitionSum': (records: readonly unknown[], _partition: number, fail: FailFn) => {
    let sum = 0;
    for (const record of records) if (isNumber(record, 'sum', fail)) sum += record;
    return [toJsonNumber(sum)];
  },
  'builtin:partitionStats': (records: readonly unknown[], _partition: number, fail: FailFn) => {
    const counter = new StatCounter();
    for (const record of records) if (isNumber(record, 'stats', fail)) counter.add(record);
    return counter.count === 0 ? [] : [counter.toParts()];
  },
};

type FailFn = (record: unknown, error: unknown) => void;

/**
 * True for a finite number; anything else is failed as a dead letter. Spark's numeric actions take an RDD of
 * doubles, which a JS dataset cannot promise; NaN and the infinities are refused too, because one such record would
 * decide the whole result (a sum or mean of a NaN a failed parse made is NaN). A sum that overflows is Spark's
 * Infinity, which reaches the driver by name (see `toJsonNumber`).
 */
function isNumber(record: unknown, action: string, fail: FailFn): record is number {
  if (typeof record === 'number' && Number.isFinite(record)) return true;
  const what = typeof record === 'number' ? String(record) : `${typeof record} ${preview(record, 40)}`;
  fail(record, new TypeError(`${action}() needs finite numbers, got ${what}${hintFor(record, action)}`));
  return false;
}

/**
 * What a Spark user most likely meant, where Scala's types would have told them: `rdd.sum()` of a pair RDD or of
 * text lines does not compile there, and here every record of such a dataset is a dead letter and the sum is 0.
 */
function hintFor(record: unknown, action: string): string {
  if (Array.isArray(record) && record.length === 2)
    return `; of [key, value] pairs, take values().${action}()`;
  if (typeof record === 'string' && record.trim() !== '' && Number.isFinite(Number(record)))
    return `; of text, map(Number) first`;
  return '';
}
