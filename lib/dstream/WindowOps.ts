/**
 * Window operations of `DStream`, with Spark Streaming's names, arguments and semantics. Installed on the
 * prototype like `DStreamOps` (the subclasses they build extend `DStream`).
 */
import type { Partitioning } from '../dataset/DatasetOps';
import { defineMethod } from '../dataset/defineMethod';
import { ambientOpOrigin, userCallSite } from '../dataset/OpOrigin';
import { StreamGraphError } from '../errors';
import { DStream } from './DStream';
import { ReducedWindowedDStream } from './ReducedWindowedDStream';
import { WindowedDStream } from './WindowedDStream';

type Reduce<V> = (a: V, b: V) => V;

declare module './DStream' {
  interface DStream<T> {
    /** The records of the batches in (t − windowMs, t], every `slideMs` (default: this stream's slide). */
    window(windowMs: number, slideMs?: number): DStream<T>;
    /** The number of records in each window (incremental: counts entering and leaving batches). */
    countByWindow(windowMs: number, slideMs: number): DStream<number>;
    /** All records of each window combined with an associative function. */
    reduceByWindow(f: Reduce<T>, windowMs: number, slideMs: number): DStream<T>;
    /** Incremental reduceByWindow: `invF` takes leaving values out of the previous window's result. */
    reduceByWindow(f: Reduce<T>, invF: Reduce<T>, windowMs: number, slideMs: number): DStream<T>;
    /** The values of each key combined over each window (reduceByKey, window, reduceByKey). */
    reduceByKeyAndWindow<K, V>(
      this: DStream<[K, V]>,
      f: Reduce<V>,
      windowMs: number,
      slideMs?: number,
      partitioning?: Partitioning,
    ): DStream<[K, V]>;
    /**
     * Incremental reduceByKeyAndWindow: work proportional to the batches entering and leaving the window. Keys
     * whose value goes back to zero stay until `filterFn` returns false for them.
     */
    reduceByKeyAndWindow<K, V>(
      this: DStream<[K, V]>,
      f: Reduce<V>,
      invF: Reduce<V>,
      windowMs: number,
      slideMs?: number,
      partitioning?: Partitioning,
      filterFn?: (pair: [K, V]) => boolean,
    ): DStream<[K, V]>;
    /** `[value, count]` over each window; values whose count drops to zero are removed. */
    countByValueAndWindow(
      windowMs: number,
      slideMs?: number,
      partitioning?: Partitioning,
    ): DStream<[T, number]>;
    /** The values of each key over each window. */
    groupByKeyAndWindow<K, V>(
      this: DStream<[K, V]>,
      windowMs: number,
      slideMs?: number,
      partitioning?: Partitioning,
    ): DStream<[K, V[]]>;
  }
}

const define = (name: string, method: (this: DStream<any>, ...args: any[]) => unknown) =>
  defineMethod(DStream.prototype, name, method);

const add = (a: number, b: number) => a + b;
const subtract = (a: number, b: number) => a - b;

define('window', function (windowMs: number, slideMs?: number) {
  return new WindowedDStream(this, windowMs, slideMs ?? this.slideMs);
});

define('countByWindow', function (windowMs: number, slideMs: number) {
  return this.map(() => 1).reduceByWindow(add, subtract, windowMs, slideMs);
});

define('reduceByWindow', function (f: Reduce<unknown>, ...rest: unknown[]) {
  if (typeof rest[0] === 'function') {
    const [invF, windowMs, slideMs] = rest as [Reduce<unknown>, number, number];
    return this.map((x) => [0, x] as [number, unknown])
      .reduceByKeyAndWindow(f, invF, windowMs, slideMs, 1)
      .map(([, v]) => v);
  }
  const [windowMs, slideMs] = rest as [number, number];
  return this.reduce(f).window(windowMs, slideMs).reduce(f);
});

define('reduceByKeyAndWindow', function (f: Reduce<unknown>, ...rest: unknown[]) {
  if (typeof rest[0] === 'function') {
    const [invF, windowMs, slideMs, partitioning, filterFn] = rest as [
      Reduce<unknown>,
      number,
      number | undefined,
      Partitioning | undefined,
      ((pair: [unknown, unknown]) => boolean) | undefined,
    ];
    if (filterFn !== undefined && typeof filterFn !== 'function')
      refuseFilter(`must be a function of [key, value], got ${typeof filterFn}`);
    return new ReducedWindowedDStream(
      this,
      f,
      invF,
      windowMs,
      slideMs ?? this.slideMs,
      partitioning,
      filterFn,
    );
  }
  const [windowMs, slideMs, partitioning, filterFn] = rest as [
    number,
    number | undefined,
    Partitioning | undefined,
    unknown,
  ];
  // Only the incremental form drops pairs (Spark has no other overload with a filter); here it was ignored.
  if (filterFn !== undefined)
    refuseFilter('applies to the incremental form only, which needs invF (the inverse of f)');
  return this.reduceByKey(f, partitioning)
    .window(windowMs, slideMs ?? this.slideMs)
    .reduceByKey(f, partitioning);
});

define('countByValueAndWindow', function (windowMs: number, slideMs?: number, partitioning?: Partitioning) {
  return this.map((x) => [x, 1] as [unknown, number]).reduceByKeyAndWindow(
    add,
    subtract,
    windowMs,
    slideMs ?? this.slideMs,
    partitioning,
    ([, count]: [unknown, number]) => count !== 0,
  );
});

define('groupByKeyAndWindow', function (windowMs: number, slideMs?: number, partitioning?: Partitioning) {
  const grouped = this.groupByKey(partitioning)
    .window(windowMs, slideMs ?? this.slideMs)
    .combineByKey(
      (vs: unknown[]) => [...vs],
      (c: unknown[], vs: unknown[]) => {
        for (const v of vs) c.push(v);
        return c;
      },
      (a: unknown[], b: unknown[]) => {
        for (const v of b) a.push(v);
        return a;
      },
      partitioning,
    );
  grouped.valueShape = { group: this.valueShape };
  return grouped;
});

/** Refuses reduceByKeyAndWindow's filter argument, at the call, as a job document's `filter` field is refused. */
function refuseFilter(why: string): never {
  const message = `the filter of reduceByKeyAndWindow ${why}`;
  const site = userCallSite();
  const origin = ambientOpOrigin() ?? (site === undefined ? undefined : `${site} (reduceByKeyAndWindow)`);
  throw new StreamGraphError(message, origin, [{ field: 'filter', message }]);
}
