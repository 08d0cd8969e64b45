/**
 * The transformations and output operations of `DStream`, with Spark Streaming's names and semantics. Like
 * `DatasetOps`, they are installed on the prototype here because they construct the subclasses, which extend
 * `DStream`; one module holding both would be an import cycle.
 */
import { firstValueOf } from '../dataset/checkedReducer';
import type { Dataset } from '../dataset/Dataset';
import { collectAsJson, type PartitionFn, type Partitioning } from '../dataset/DatasetOps';
import { defineMethod } from '../dataset/defineMethod';
import { saveTextFolder } from '../dataset/TextFileOps';
import { StreamGraphError } from '../errors';
import { formatRecordOf } from '../executor/formatRecord';
import { keyedPairShape, sameShape } from '../executor/ValueShape';
import { outputPathProblem, outputSuffixProblem } from '../job/outputPathProblem';
import { crashPoint } from '../scheduler/crashPoint';
import { checkPartitioning } from './checkPartitioning';
import { DStream } from './DStream';
import { ForEachDStream, type OutputFn } from './ForEachDStream';
import { MappedDStream } from './MappedDStream';
import { ShuffledDStream } from './ShuffledDStream';
import { TransformedDStream } from './TransformedDStream';
import { UnionDStream } from './UnionDStream';

/** An output batch as listeners and the programmatic runner receive it. */
export interface OutputEvent {
  /** The output's name (JSON `outputs[i].name`, or the operation and stream). */
  readonly output: string;
  /** `print`, `jsonl`, `saveAsTextFiles`, `foreachRDD` or `collect`. */
  readonly type: string;
  readonly batchTime: number;
  /** The records the output saw (print: the first n; saveAsTextFiles: none, see `count`). */
  readonly records: readonly unknown[];
  /** How many records the output wrote. */
  readonly count: number;
}

declare module './DStream' {
  interface DStream<T> {
    /** Applies `f` to every record. */
    map<U>(f: (t: T) => U | Promise<U>): DStream<U>;
    /** Applies `f` to every record and flattens the results. */
    flatMap<U>(f: (t: T) => Iterable<U> | Promise<Iterable<U>>): DStream<U>;
    /** Keeps the records for which `f` is true. */
    filter(f: (t: T) => unknown): DStream<T>;
    /**
     * Applies `f` to each whole partition of each batch; `f` may return a promise, and dead-letters a record
     * itself with `fail(record, error)`.
     */
    mapPartitions<U>(f: PartitionFn<T, U>): DStream<U>;
    /** Turns each partition into one record holding the array of its records. */
    glom(): DStream<T[]>;
    /** The records of this stream and the others; all must share the slide interval. */
    union(...others: DStream<T>[]): DStream<T>;
    /** Spreads each batch evenly over `numPartitions` partitions. */
    repartition(numPartitions: number): DStream<T>;
    /** One record per batch: the number of records (0 for an empty batch). */
    count(): DStream<number>;
    /** One record per non-empty batch: all records combined with an associative function. */
    reduce(f: (a: T, b: T) => T): DStream<T>;
    /** `[value, count]` for every distinct value of each batch. */
    countByValue(partitioning?: Partitioning): DStream<[T, number]>;
    /**
     * The datasets of the batches from fromMs to toMs, both floored to a batch time as in Spark. Keep older batches
     * with `ssc.remember`: a forgotten one is computed again where its source replays it, else refused.
     */
    slice(fromMs: number, toMs: number): Promise<Dataset<T>[]>;
    /** Any dataset-to-dataset function, applied every batch; it must return a dataset. */
    transform<U>(f: (dataset: Dataset<T>, batchTime: number) => Dataset<U>): DStream<U>;
    /** A function of this stream's and another's datasets of the same batch. */
    transformWith<U, V>(
      other: DStream<U>,
      f: (mine: Dataset<T>, theirs: Dataset<U>, batchTime: number) => Dataset<V>,
    ): DStream<V>;
    /** Maps the value of every `[key, value]` record. */
    mapValues<K, V, W>(this: DStream<[K, V]>, f: (v: V) => W): DStream<[K, W]>;
    /** Maps the value of every `[key, value]` record to several values. */
    flatMapValues<K, V, W>(this: DStream<[K, V]>, f: (v: V) => Iterable<W>): DStream<[K, W]>;
    /** Groups the values of each key, per batch. */
    groupByKey<K, V>(this: DStream<[K, V]>, partitioning?: Partitioning): DStream<[K, V[]]>;
    /** Combines the values of each key with an associative function, per batch. */
    reduceByKey<K, V>(
      this: DStream<[K, V]>,
      f: (a: V, b: V) => V,
      partitioning?: Partitioning,
    ): DStream<[K, V]>;
    /** Spark's combineByKey, per batch; `mapSideCombine` defaults to true. */
    combineByKey<K, V, C>(
      this: DStream<[K, V]>,
      createCombiner: (v: V) => C,
      mergeValue: (c: C, v: V) => C,
      mergeCombiners: (a: C, b: C) => C,
      partitioning?: Partitioning,
      mapSideCombine?: boolean,
    ): DStream<[K, C]>;
    /** Inner join of two keyed streams, per batch: `[key, [v, w]]`. */
    join<K, V, W>(
      this: DStream<[K, V]>,
      other: DStream<[K, W]>,
      partitioning?: Partitioning,
    ): DStream<[K, [V, W]]>;
    /** Left outer join: a missing right value is null. */
    leftOuterJoin<K, V, W>(
      this: DStream<[K, V]>,
      other: DStream<[K, W]>,
      partitioning?: Partitioning,
    ): DStream<[K, [V, W | null]]>;
    /** Right outer join: a missing left value is null. */
    rightOuterJoin<K, V, W>(
      this: DStream<[K, V]>,
      other: DStream<[K, W]>,
      partitioning?: Partitioning,
    ): DStream<[K, [V | null, W]]>;
    /** Full outer join: a missing value on either side is null. */
    fullOuterJoin<K, V, W>(
      this: DStream<[K, V]>,
      other: DStream<[K, W]>,
      partitioning?: Partitioning,
    ): DStream<[K, [V | null, W | null]]>;
    /** The pairs of each batch whose key the other stream's batch does not have (Spark's `subtractByKey`). */
    subtractByKey<K, V, W>(
      this: DStream<[K, V]>,
      other: DStream<[K, W]>,
      partitioning?: Partitioning,
    ): DStream<[K, V]>;
    /** `[key, [values of this, values of other]]` per batch. */
    cogroup<K, V, W>(
      this: DStream<[K, V]>,
      other: DStream<[K, W]>,
      partitioning?: Partitioning,
    ): DStream<[K, [V[], W[]]]>;
    /**
     * Each batch's records ordered by `f(record)` (keys of mixed kinds too, see `compareValues`), in one partition
     * (for printing a top N); a record whose key function throws is a dead letter.
     */
    sortBy(f: (t: T) => unknown, ascending?: boolean): DStream<T>;
    /** Prints the first `num` records of every batch (default 10) under Spark's `Time: … ms` header. */
    print(num?: number, name?: string): ForEachDStream<T>;
    /**
     * Writes every batch to a folder `prefix-<batchTime>[.suffix]` of part files and a `_SUCCESS` marker; with an empty
     * prefix, `<batchTime>[.suffix]`, as in Spark.
     */
    saveAsTextFiles(prefix: string, suffix?: string, name?: string): ForEachDStream<T>;
    /** Runs a function in the driver with every batch's dataset. */
    foreachRDD(f: OutputFn<T>, name?: string): ForEachDStream<T>;
    /** One JSON line per batch, `{"output","batchTime","records"}`, to stdout or to a file. */
    jsonl(options?: { path?: string; name?: string }): ForEachDStream<T>;
    /** Hands every batch's records to the listeners (tests and the programmatic runner). */
    collectBatches(name?: string): ForEachDStream<T>;
  }
}

const define = (name: string, method: (this: DStream<any>, ...args: any[]) => unknown) =>
  defineMethod(DStream.prototype, name, method);

for (const kind of ['map', 'flatMap', 'filter', 'mapPartitions', 'mapValues', 'flatMapValues'] as const) {
  define(kind, function (f: (...args: any[]) => unknown) {
    return new MappedDStream(this, kind, f);
  });
}

define('glom', function () {
  return new MappedDStream(this, 'glom', undefined);
});

define('union', function (...others: DStream<any>[]) {
  const union = new UnionDStream([this, ...others]);
  // Groups stay groups, and a join's Options Options, when every input's values have the same shape.
  const alike = others.every((other) => sameShape(other.valueShape, this.valueShape));
  if (alike) union.valueShape = this.valueShape;
  return union;
});

define('transform', function (f: (ds: Dataset<any>, t: number) => Dataset<any>) {
  return new TransformedDStream([this], ([ds], t) => f(ds!, t));
});

define(
  'transformWith',
  function (other: DStream<any>, f: (a: Dataset<any>, b: Dataset<any>, t: number) => Dataset<any>) {
    return new TransformedDStream([this, other], ([a, b], t) => f(a!, b!, t));
  },
);

define('repartition', function (numPartitions: number) {
  const repartitioned = this.transform((ds) => ds.repartition(numPartitions));
  repartitioned.name = 'repartition';
  repartitioned.valueShape = this.valueShape;
  checkPartitioning(repartitioned, numPartitions);
  return repartitioned;
});

define('sortBy', function (f: (t: unknown) => unknown, ascending = true) {
  const fnId = this.ssc.graphScope.register(f);
  const sorted = this.transform((ds) => ds.sortBy({ fnId }, ascending));
  sorted.name = 'sortBy';
  return sorted;
});

define('count', function () {
  // As in Spark: a zero record is unioned in, so an empty batch still counts 0.
  return this.map(() => [null, 1] as [null, number])
    .transform((ds) => ds.union(ds.ctx!.parallelizeDataset([[null, 0] as [null, number]], 1, ds.scope!)))
    .reduceByKey((a: number, b: number) => a + b, 1)
    .map(([, n]) => n);
});

define('reduce', function (f: (a: unknown, b: unknown) => unknown) {
  return this.map((x) => [null, x] as [null, unknown])
    .reduceByKey(f, 1)
    .map(([, v]) => v);
});

define('countByValue', function (partitioning?: Partitioning) {
  return this.map((x) => [x, 1] as [unknown, number]).reduceByKey(
    (a: number, b: number) => a + b,
    partitioning,
  );
});

define('slice', async function (fromMs: number, toMs: number) {
  const slide = this.slideMs;
  // As Spark's DStream.slice, both ends are floored to the stream's batch times.
  const from = Math.floor(fromMs / slide) * slide;
  const to = Math.floor(toMs / slide) * slide;
  const out: Dataset<any>[] = [];
  for (let t = from; t <= to; t += slide) {
    const ds = await this.getOrCompute(t);
    if (ds) out.push(ds);
  }
  return out;
});

define('reduceByKey', function (f: (a: unknown, b: unknown) => unknown, partitioning?: Partitioning) {
  // A reducer that checks first values (the built-ins do) creates each key's running value with that check.
  return new ShuffledDStream(
    this,
    [firstValueOf(f) ?? 'builtin:identity', f, f],
    partitioning,
    true,
    'reduceByKey',
  );
});

define('groupByKey', function (partitioning?: Partitioning) {
  const grouped = new ShuffledDStream(
    this,
    ['builtin:groupCreate', 'builtin:groupMerge', 'builtin:groupCombine'],
    partitioning,
    false,
    'groupByKey',
  );
  grouped.valueShape = { group: this.valueShape };
  return grouped;
});

define(
  'combineByKey',
  function (
    createCombiner: (v: unknown) => unknown,
    mergeValue: (c: unknown, v: unknown) => unknown,
    mergeCombiners: (a: unknown, b: unknown) => unknown,
    partitioning?: Partitioning,
    mapSideCombine = true,
  ) {
    return new ShuffledDStream(
      this,
      [createCombiner, mergeValue, mergeCombiners],
      partitioning,
      mapSideCombine,
    );
  },
);

for (const join of ['join', 'leftOuterJoin', 'rightOuterJoin', 'fullOuterJoin', 'subtractByKey'] as const) {
  define(join, function (other: DStream<any>, partitioning?: Partitioning) {
    // Spark Streaming's joins hash into the default parallelism where the user names no partitioning, whatever
    // partitioner a batch has (a Dataset's join would take its parents' partitioner).
    const parts = partitioning ?? this.ssc.defaultPartitions;
    const t = new TransformedDStream([this, other], ([a, b]) => (a as any)[join](b, parts));
    t.name = join;
    t.valueShape = keyedPairShape(join, this.valueShape, other.valueShape);
    checkPartitioning(t, partitioning);
    return t;
  });
}

define('cogroup', function (other: DStream<any>, partitioning?: Partitioning) {
  const parts = partitioning ?? this.ssc.defaultPartitions; // as the joins' above
  const t = new TransformedDStream([this, other], ([a, b]) => a!.cogroup([b!], parts));
  t.name = 'cogroup';
  t.valueShape = keyedPairShape('cogroup', this.valueShape, other.valueShape);
  checkPartitioning(t, partitioning);
  return t;
});

function outputName(stream: DStream<any>, type: string, name: string | undefined): string {
  return name ?? `${type}(${stream.name})`;
}

define('foreachRDD', function (f: OutputFn<any>, name?: string) {
  return new ForEachDStream(this, f, outputName(this, 'foreachRDD', name));
});

define('print', function (num = 10, name?: string) {
  const output = outputName(this, 'print', name);
  const printed = new ForEachDStream(
    this,
    async (ds, batchTime) => {
      // Like Spark: take one more than shown, to know whether to print the ellipsis.
      const first = await ds.take(num + 1);
      const dashes = '-------------------------------------------';
      const shown = first.slice(0, num).map((record) => formatRecordOf(record, this.valueShape));
      const lines = [dashes, `Time: ${batchTime} ms`, dashes, ...shown];
      if (first.length > num) lines.push('...');
      // Spark ends each batch with an empty line.
      this.ssc.env().print(`${lines.join('\n')}\n\n`);
      this.ssc.emitOutput({
        output,
        type: 'print',
        batchTime,
        records: first.slice(0, num),
        count: first.length,
      });
    },
    output,
    true,
  );
  // Refused when the job is built, as a job document's `num` is: print(-1) printed `...` for every batch, even
  // an empty one (Spark's take(num + 1) and `length > num` do the same), and print(2.5) showed 3 records.
  // print(0) stays allowed, as in Spark: the header, then `...` when the batch holds a record.
  if (!Number.isInteger(num) || num < 0) {
    const message = `print shows a whole number of records, 0 or more, got ${String(num)}`;
    throw new StreamGraphError(message, printed.origin, [{ field: 'num', message, value: num }]);
  }
  return printed;
});

define('saveAsTextFiles', function (prefix: string, suffix?: string, name?: string) {
  const output = outputName(this, 'saveAsTextFiles', name);
  const saved = new ForEachDStream(
    this,
    async (ds, batchTime) => {
      // Spark's rddToFileName: an empty prefix names the folder by the batch time alone, not `-1000`.
      const path = `${prefix ? `${prefix}-` : ''}${batchTime}${suffix ? `.${suffix}` : ''}`;
      const counts = await saveTextFolder(ds, path, this.valueShape);
      const count = counts.reduce((a, b) => a + b, 0);
      this.ssc.emitOutput({ output, type: 'saveAsTextFiles', batchTime, records: [], count });
    },
    output,
    true,
  );
  // Refused when the job is built, as a job document's prefix is (and saveAsTextFile's path when it is called):
  // an absolute prefix or one climbing out with `..` wrote outside the output folder.
  const problem = typeof prefix === 'string' ? outputPathProblem(prefix, false) : 'must be a string';
  if (problem !== undefined) {
    const message = `saveAsTextFiles' prefix ${JSON.stringify(prefix) ?? String(prefix)} ${problem}`;
    throw new StreamGraphError(message, saved.origin, [{ field: 'prefix', message, value: prefix }]);
  }
  const suffixProblem = typeof suffix === 'string' ? outputSuffixProblem(suffix) : undefined;
  if (suffixProblem !== undefined) {
    const message = `saveAsTextFiles' suffix ${JSON.stringify(suffix)} ${suffixProblem}`;
    throw new StreamGraphError(message, saved.origin, [{ field: 'suffix', message, value: suffix }]);
  }
  return saved;
});

define('jsonl', function (options: { path?: string; name?: string } = {}) {
  const output = outputName(this, 'jsonl', options.name);
  if (options.path !== undefined) this.ssc.jsonlPaths.add(options.path);
  const written = new ForEachDStream(
    this,
    async (ds, batchTime) => {
      const records = await collectAsJson(ds);
      await this.ssc
        .env()
        .appendJsonl(options.path, JSON.stringify({ output, batchTime, records }), batchTime);
      crashPoint('output', batchTime);
      this.ssc.emitOutput({ output, type: 'jsonl', batchTime, records, count: records.length });
    },
    output,
    true,
  );
  // Refused when the job is built, as a job document's path is: an absolute path wrote wherever it named, outside
  // the output folder, locally, and an object key that began with a / on S3.
  const { path } = options;
  const problem =
    path === undefined
      ? undefined
      : typeof path === 'string'
        ? outputPathProblem(path, true)
        : 'must be a string';
  if (problem !== undefined) {
    const message = `jsonl's path ${JSON.stringify(path) ?? String(path)} ${problem}`;
    throw new StreamGraphError(message, written.origin, [{ field: 'path', message, value: path }]);
  }
  return written;
});

define('collectBatches', function (name?: string) {
  const output = outputName(this, 'collect', name);
  return new ForEachDStream(
    this,
    async (ds, batchTime) => {
      const records = await ds.collect();
      this.ssc.emitOutput({ output, type: 'collect', batchTime, records, count: records.length });
    },
    output,
    true,
  );
});
