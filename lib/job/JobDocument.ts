import type { StorageLevel } from '../dataset/StorageLevel';
import type { DeadLetterPolicyOptions } from '../scheduler/DeadLetterPolicy';
import type { BackpressureOptions } from '../scheduler/RateController';
import type { SpeculationOptions } from '../scheduler/SpeculationPolicy';
import type { ShuffleOptions } from '../shuffle/ShuffleOptions';
import type { ExpressionBudget } from './ExpressionBudget';

/**
 * A job as a JSON document: exactly what a user sends as a Lambda event or keeps in `events/*.json`. The
 * schema in `job.schema.json` describes the same shape for editors and for Ajv; `validateJob` checks a document
 * against both, and `buildJob` turns a valid one into a stream graph.
 *
 * @example
 * const job: JobDocument = {
 *   name: 'word-counts',
 *   batchIntervalMs: 1000,
 *   sources: { lines: { type: 'queue', batches: [['a b'], ['b c']] } },
 *   streams: { counts: { from: 'lines', ops: [{ op: 'flatMap', fn: 'splitWords' }, { op: 'countByValue' }] } },
 *   outputs: [{ stream: 'counts', type: 'print' }],
 * };
 */
export interface JobDocument {
  /** The job's name, for logs and run records. */
  readonly name: string;
  /** A link to the schema, for editors; ignored by Sluice. */
  readonly $schema?: string;
  /** Free text for the humans who read the job. */
  readonly description?: string;
  /** The batch interval in milliseconds (Spark's batchDuration). */
  readonly batchIntervalMs: number;
  /** Partitions of input blocks and shuffles when an op names none. Default 2. */
  readonly defaultPartitions?: number;
  /** Output jobs run at once. Default 1. */
  readonly concurrentJobs?: number;
  /** Attempts per task before its batch fails. Default 4. */
  readonly maxTaskAttempts?: number;
  /**
   * On AWS: after this many batches in a row without a record the job sleeps (runs no Lambda) until the
   * scheduled tick finds new input; the batches slept through then run as empty batches. Default 30.
   */
  readonly idleAfterBatches?: number;
  /**
   * How often stateful streams (incremental windows, updateStateByKey, mapWithState) checkpoint, in ms; rounded
   * up to a multiple of each stream's slide. Default: the smallest multiple of the slide that is at least 10 s.
   */
  readonly checkpointIntervalMs?: number;
  /**
   * Speculative copies of straggling tasks (see `SpeculationPolicy`). Default: on with Lambda workers, off
   * locally; quantile 0.75, multiplier 1.4, minTaskRuntimeMs 100.
   */
  readonly speculation?: SpeculationOptions;
  /**
   * How shuffles are carried (see `ShuffleOptions`): when a large shuffle gets a combining step, and the inline
   * limit. Default: combine from 256 map × reduce pairs, at most 4 merge tasks, 64 KiB inline.
   */
  readonly shuffle?: ShuffleOptions;
  /**
   * Backpressure (see `RateController`): a PID controller caps every source's rate after each batch so batches keep
   * up. Default: off; when on, minRatePerSec 100, proportional 1.0, integral 0.2, derivative 0.
   */
  readonly backpressure?: BackpressureOptions;
  /**
   * What an inline JSONata expression may spend on one record (see `ExpressionBudget`); a record that exceeds it
   * is a dead letter. Default: 1000 ms, depth 500, 100,000 items.
   */
  readonly expressionBudget?: Partial<ExpressionBudget>;
  /**
   * When a flood of bad records fails its batch instead of dead-lettering them (see `DeadLetterPolicy`): more than
   * `maxShare` of its records, and at least `minCount` (default 10) letters. Default: never.
   */
  readonly deadLetters?: DeadLetterPolicyOptions;
  /** A module of user functions, relative to the job file; see `FunctionRegistry.loadModule`. */
  readonly functions?: string;
  /** The input streams, by name. */
  readonly sources: Readonly<Record<string, SourceSpec>>;
  /** Static datasets that ops join or union every batch with, by name. */
  readonly datasets?: Readonly<Record<string, StaticDatasetSpec>>;
  /** Derived streams, by name: a source or another stream followed by ops applied in order. */
  readonly streams?: Readonly<Record<string, StreamSpec>>;
  /** The output operations; every batch runs them in this order. */
  readonly outputs: readonly OutputSpec[];
}

// ---- sources ------------------------------------------------------------------------------------------------

/** Settings every source has. */
interface SourceCommon {
  /** Partitions of each input block. Default: the job's `defaultPartitions`. */
  readonly partitions?: number;
}

/** Settings of a source that can hold records back (see `RateLimit`). */
interface RateLimitedSource extends SourceCommon {
  /**
   * At most this many records a second (Spark's `spark.streaming.receiver.maxRate`): for the source as a whole, or
   * per shard for Kinesis. The rest waits in the source. Default: no cap.
   */
  readonly maxRatePerSec?: number;
}

/** The deterministic generator of tweets, text lines or key/value records (see `GeneratorSource`). */
export interface GeneratorSourceSpec extends RateLimitedSource {
  readonly type: 'generator';
  readonly kind: 'tweets' | 'lines' | 'kv';
  readonly ratePerSec: number;
  readonly seed?: number;
  readonly users?: number;
  readonly hashtags?: number;
  readonly keys?: number;
  readonly lineBytes?: number;
}

/** Spark's queueStream: one listed batch per interval, then empty batches. */
export interface QueueSourceSpec extends RateLimitedSource {
  readonly type: 'queue';
  readonly batches: readonly (readonly unknown[])[];
  /** Hand out one batch per interval; when false the first batch gets them all. Default true. */
  readonly oneAtATime?: boolean;
}

/** Spark's textFileStream: the lines of new files appearing in a folder (relative to the job file). */
export interface TextFileStreamSourceSpec extends RateLimitedSource {
  readonly type: 'textFileStream';
  readonly directory: string;
}

/** Spark's socketTextStream: lines of text read from a TCP server. */
export interface SocketSourceSpec extends RateLimitedSource {
  readonly type: 'socket';
  readonly host: string;
  readonly port: number;
  /** The longest line in bytes; a longer one is a dead letter. Default 4 MiB. */
  readonly maxLineBytes?: number;
}

/** An Amazon Kinesis data stream, read by the serverless coordinator. */
export interface KinesisSourceSpec extends RateLimitedSource {
  readonly type: 'kinesis';
  /** The stream's name. Default: the deployment's own stream (the coordinator's `SLUICE_STREAM`). */
  readonly streamName?: string;
  /** At most this many records per shard per batch: the rate limit. Default 10,000. */
  readonly maxRecordsPerShard?: number;
  /** Where a shard is read from when the job has no checkpoint yet. Default `TRIM_HORIZON`. */
  readonly startAt?: 'TRIM_HORIZON' | 'LATEST';
}

/** New objects under an S3 prefix, as lines; read by the serverless coordinator. */
export interface S3PrefixSourceSpec extends SourceCommon {
  readonly type: 's3Prefix';
  readonly bucket: string;
  readonly prefix: string;
  /** At most this many new objects per batch. Default 1,000. */
  readonly maxObjectsPerBatch?: number;
}

/** One input stream of the job. */
export type SourceSpec =
  | S3PrefixSourceSpec
  | GeneratorSourceSpec
  | QueueSourceSpec
  | TextFileStreamSourceSpec
  | SocketSourceSpec
  | KinesisSourceSpec;

// ---- static datasets ----------------------------------------------------------------------------------------

/** Settings every static dataset has. */
interface StaticDatasetCommon {
  /** Partitions of the dataset. Default 1. */
  readonly partitions?: number;
  /** Record-level ops that shape the dataset before it is used, such as turning lines into pairs. */
  readonly ops?: readonly DatasetOp[];
}

/** The lines of a text file (relative to the job file), like Spark's `textFile`. */
export interface TextFileDatasetSpec extends StaticDatasetCommon {
  readonly type: 'textFile';
  readonly path: string;
}

/** Records written in the document itself, like Spark's `parallelize`. */
export interface ParallelizeDatasetSpec extends StaticDatasetCommon {
  readonly type: 'parallelize';
  readonly records: readonly unknown[];
}

/** A static dataset that streams join, cogroup or union with every batch. */
export type StaticDatasetSpec = TextFileDatasetSpec | ParallelizeDatasetSpec;

// ---- streams and ops ----------------------------------------------------------------------------------------

/**
 * A derived stream: `from` names a source or a stream; `ops` apply in order. `persist` and
 * `checkpointIntervalMs` apply to the stream's last node, as `stream.persist(level).checkpoint(ms)` would.
 */
export interface StreamSpec {
  readonly from: string;
  readonly ops: readonly StreamOp[];
  /** Keep the stream's datasets once computed, at this storage level (Spark's persist). Default: not kept. */
  readonly persist?: StorageLevel;
  /** Write the stream's datasets to the block store this often, a multiple of the stream's slide. */
  readonly checkpointIntervalMs?: number;
}

/** The arguments of a parameterised function, such as `{ "field": "user" }` for `field`. */
export type FnArgs = Readonly<Record<string, unknown>>;

/** A record-level op whose function is a registry name (`fn`, `args`) or an inline JSONata `expr`. */
export interface RecordFnOp<Op extends ExpressionOpName = ExpressionOpName> {
  readonly op: Op;
  readonly fn?: string;
  readonly args?: FnArgs;
  readonly expr?: string;
  /** sortBy only: ascending order. Default true. */
  readonly ascending?: boolean;
}

/** An op whose function must be a registry name. */
export interface NamedFnOp<Op extends string> {
  readonly op: Op;
  readonly fn: string;
  readonly args?: FnArgs;
}

/** An op with no argument. */
export interface PlainOp<Op extends string> {
  readonly op: Op;
}

/** A shuffling op that takes an optional number of partitions. */
export interface PartitionedOp<Op extends string> {
  readonly op: Op;
  /** Partitions of the result. Default: the job's `defaultPartitions`. */
  readonly partitions?: number;
}

/** A join or cogroup with another stream or a static dataset. */
export interface PairOp<Op extends string> extends PartitionedOp<Op> {
  readonly with: string;
}

/** A window's length and slide, both multiples of the input's slide (the batch interval unless windowed). */
interface WindowFields {
  /** The window's length in ms. */
  readonly windowMs: number;
  /** How often a window is computed, in ms. Default (where optional): the input's slide. */
  readonly slideMs?: number;
}

/** `window`: the records of each window. */
export interface WindowOp extends WindowFields {
  readonly op: 'window';
}

/** `countByValueAndWindow` and `groupByKeyAndWindow`: a window and the partitions of the result. */
export interface PartitionedWindowOp<Op extends 'countByValueAndWindow' | 'groupByKeyAndWindow'>
  extends WindowFields {
  readonly op: Op;
  /** Partitions of the result. Default: the job's `defaultPartitions`. */
  readonly partitions?: number;
}

/** `countByWindow`: the number of records in each window, computed incrementally. */
export interface CountByWindowOp extends WindowFields {
  readonly op: 'countByWindow';
  readonly slideMs: number;
}

/** `reduceByWindow`: every record of each window combined with `fn`; incremental with `invFn`. */
export interface ReduceByWindowOp extends WindowFields {
  readonly op: 'reduceByWindow';
  /** A reducer's name. */
  readonly fn: string;
  /** The inverse reducer's name (`subtract` for `sum`); makes the op incremental. */
  readonly invFn?: string;
  readonly slideMs: number;
}

/** `reduceByKeyAndWindow`: per key over each window; with `invFn`, the incremental form. */
export interface ReduceByKeyAndWindowOp extends WindowFields {
  readonly op: 'reduceByKeyAndWindow';
  readonly fn: string;
  readonly invFn?: string;
  readonly partitions?: number;
  /** Incremental form only: a registered predicate on `[key, value]`; pairs it rejects are dropped. */
  readonly filter?: string;
  /** Incremental form only: the same predicate as a JSONata expression on `[key, value]`. */
  readonly filterExpr?: string;
}

/** `updateStateByKey`: a state per key, updated every batch by a registered update function. */
export interface UpdateStateByKeyOp {
  readonly op: 'updateStateByKey';
  /** An update function's name: `(values, state) => state | undefined` (`countState`, `sumState`). */
  readonly fn: string;
  readonly partitions?: number;
  /** The name of a static dataset of `[key, state]` pairs: the state before the first batch. */
  readonly initialState?: string;
  /** Call the function with `{ key, batchTime }` as a third argument. Default false. */
  readonly timeAware?: boolean;
}

/** `mapWithState`: a registered function called per record with the key's state. */
export interface MapWithStateOp {
  readonly op: 'mapWithState';
  /** A mapWithState function's name: `(key, value, state, batchTime) => record` (`runningCount`, `sessionCount`). */
  readonly fn: string;
  readonly partitions?: number;
  /** The name of a static dataset of `[key, state]` pairs: the state before the first batch. */
  readonly initialState?: string;
  /** A key without records for this long gets a last call and is removed. Default: never. */
  readonly timeoutMs?: number;
}

/** Every op a stream can apply, by its DStream method name. */
export type StreamOp =
  | RecordFnOp
  | NamedFnOp<'mapPartitions' | 'reduce' | 'transform'>
  | PlainOp<'glom' | 'count' | 'stateSnapshots'>
  | { readonly op: 'union'; readonly with: string | readonly string[] }
  | { readonly op: 'repartition'; readonly partitions: number }
  | PartitionedOp<'countByValue' | 'groupByKey'>
  | (NamedFnOp<'transformWith'> & { readonly with: string })
  | (NamedFnOp<'reduceByKey'> & { readonly partitions?: number })
  | {
      readonly op: 'combineByKey';
      readonly createCombiner: string;
      readonly mergeValue: string;
      readonly mergeCombiners: string;
      readonly partitions?: number;
      /** Combine values before the shuffle. Default true. */
      readonly mapSideCombine?: boolean;
    }
  | PairOp<'join' | 'leftOuterJoin' | 'rightOuterJoin' | 'fullOuterJoin' | 'cogroup'>
  | WindowOp
  | PartitionedWindowOp<'countByValueAndWindow' | 'groupByKeyAndWindow'>
  | CountByWindowOp
  | ReduceByWindowOp
  | ReduceByKeyAndWindowOp
  | UpdateStateByKeyOp
  | MapWithStateOp;

/** The ops a static dataset can apply: record-level ones only, as it is recomputed with every batch. */
export type DatasetOp = RecordFnOp | NamedFnOp<'mapPartitions'> | PlainOp<'glom'>;

// ---- outputs ------------------------------------------------------------------------------------------------

/** Settings every output has. */
interface OutputCommon {
  /** The source or stream to output. */
  readonly stream: string;
  /** The output's name in events and jsonl lines. Default: the stream name. */
  readonly name?: string;
}

/** Prints the first `num` records of every batch. */
export interface PrintOutputSpec extends OutputCommon {
  readonly type: 'print';
  /** Records shown per batch. Default 10. */
  readonly num?: number;
}

/** One JSON line per batch, `{"output","batchTime","records"}`, to a file or to stdout. */
export interface JsonlOutputSpec extends OutputCommon {
  readonly type: 'jsonl';
  /** The file to append to, as the runtime resolves it. Default: stdout. */
  readonly path?: string;
}

/** Writes every batch to a folder `prefix-<batchTime>[.suffix]`. */
export interface SaveAsTextFilesOutputSpec extends OutputCommon {
  readonly type: 'saveAsTextFiles';
  readonly prefix: string;
  readonly suffix?: string;
}

/** Runs a registered function with every batch's dataset, in the driver. */
export interface ForeachRddOutputSpec extends OutputCommon {
  readonly type: 'foreachRDD';
  readonly fn: string;
  readonly args?: FnArgs;
}

/** Hands every batch's records to the runtime's listeners (tests and the programmatic runner). */
export interface CollectBatchesOutputSpec extends OutputCommon {
  readonly type: 'collectBatches';
}

/** One output operation of the job. */
export type OutputSpec =
  | PrintOutputSpec
  | JsonlOutputSpec
  | SaveAsTextFilesOutputSpec
  | ForeachRddOutputSpec
  | CollectBatchesOutputSpec;

// ---- the op catalogue ---------------------------------------------------------------------------------------

/** Every op name a stream accepts, in the order the schema lists them. */
export const STREAM_OP_NAMES = [
  'map',
  'flatMap',
  'filter',
  'mapPartitions',
  'glom',
  'keyBy',
  'mapValues',
  'flatMapValues',
  'union',
  'repartition',
  'count',
  'reduce',
  'countByValue',
  'transform',
  'transformWith',
  'groupByKey',
  'reduceByKey',
  'combineByKey',
  'join',
  'leftOuterJoin',
  'rightOuterJoin',
  'fullOuterJoin',
  'cogroup',
  'window',
  'countByWindow',
  'reduceByWindow',
  'reduceByKeyAndWindow',
  'countByValueAndWindow',
  'groupByKeyAndWindow',
  'updateStateByKey',
  'mapWithState',
  'stateSnapshots',
  'sortBy',
] as const;

/** An op name a stream accepts. */
export type StreamOpName = (typeof STREAM_OP_NAMES)[number];

/** The ops that take an inline JSONata `expr` instead of a function name. */
export const EXPRESSION_OP_NAMES = [
  'sortBy',
  'map',
  'flatMap',
  'filter',
  'keyBy',
  'mapValues',
  'flatMapValues',
] as const;

/** An op that takes `fn` or `expr`. */
export type ExpressionOpName = (typeof EXPRESSION_OP_NAMES)[number];

/** The ops a static dataset accepts. */
export const DATASET_OP_NAMES = [
  'map',
  'flatMap',
  'filter',
  'mapPartitions',
  'glom',
  'keyBy',
  'mapValues',
  'flatMapValues',
] as const;

/** An op name a static dataset accepts. */
export type DatasetOpName = (typeof DATASET_OP_NAMES)[number];

/** The ops that window their input: each has `windowMs`, and `slideMs` sets the slide of its result. */
export const WINDOW_OP_NAMES = [
  'window',
  'countByWindow',
  'reduceByWindow',
  'reduceByKeyAndWindow',
  'countByValueAndWindow',
  'groupByKeyAndWindow',
] as const;

/** The ops whose `with` names another stream or a static dataset. */
export const WITH_OP_NAMES = [
  'union',
  'transformWith',
  'join',
  'leftOuterJoin',
  'rightOuterJoin',
  'fullOuterJoin',
  'cogroup',
] as const;

// ---- addressing fields --------------------------------------------------------------------------------------

/**
 * The path of a field as messages write it: `streams.counts.ops[1].windowMs`, `outputs[0].stream`. Numbers
 * are array indexes; names that are not plain identifiers are quoted (`streams["a.b"]`).
 */
export function jsonPath(...segments: readonly (string | number)[]): string {
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) path += path === '' ? segment : `.${segment}`;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path;
}

/** Extends a path made by {@link jsonPath}. */
export function childPath(path: string, ...segments: readonly (string | number)[]): string {
  const tail = jsonPath(...segments);
  if (path === '' || tail.startsWith('[')) return path + tail;
  return `${path}.${tail}`;
}

/**
 * A message for a name that is not among `known`: the closest ones first when some are close, then every
 * known name, so the user can fix a typo or see what exists.
 */
export function unknownNameMessage(what: string, name: string, known: readonly string[]): string {
  const close = closeNames(name, known);
  const hint = close.length > 0 ? `; did you mean ${close.map((n) => `"${n}"`).join(' or ')}?` : '.';
  // A long list is cut: a document with thousands of names would otherwise repeat all of them per mistake.
  const shown =
    known.length > MAX_KNOWN_SHOWN
      ? [...known.slice(0, MAX_KNOWN_SHOWN), `… ${known.length - MAX_KNOWN_SHOWN} more`]
      : known;
  const all = known.length > 0 ? `Known: ${shown.join(', ')}.` : 'There are none.';
  return `unknown ${what} "${name}"${hint} ${all}`;
}

/** Known names an unknown-name message lists at most. */
const MAX_KNOWN_SHOWN = 40;

/** The names within a small edit distance of `name` (case-insensitive), closest first. */
export function closeNames(name: string, known: readonly string[], max = 3): string[] {
  const target = name.toLowerCase();
  const limit = Math.max(1, Math.floor(target.length / 3));
  return known
    .filter((candidate) => Math.abs(candidate.length - target.length) <= limit) // farther by length alone
    .map((candidate) => ({ candidate, distance: editDistance(target, candidate.toLowerCase()) }))
    .filter(({ distance }) => distance <= limit)
    .sort((a, b) => a.distance - b.distance)
    .slice(0, max)
    .map(({ candidate }) => candidate);
}

/** Edit distance counting a swap of two neighbouring letters as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const width = b.length + 1;
  const table = new Uint32Array((a.length + 1) * width);
  const at = (i: number, j: number): number => table[i * width + j] ?? 0;
  for (let i = 0; i <= a.length; i++) table[i * width] = i;
  for (let j = 0; j <= b.length; j++) table[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      table[i * width + j] = best;
    }
  }
  return at(a.length, b.length);
}
