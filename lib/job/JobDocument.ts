import type { StorageLevel } from '../dataset/StorageLevel';
import type { DeadLetterPolicyOptions } from '../scheduler/DeadLetterPolicy';
import type { BackpressureOptions } from '../scheduler/RateController';
import type { SpeculationOptions } from '../scheduler/SpeculationPolicy';
import type { ShuffleOptions } from '../shuffle/ShuffleOptions';
import type { GeneratorSourceOptions } from '../source/GeneratorSource';
import type { ExpressionBudget } from './ExpressionBudget';
import type { DatasetOp, StreamOp } from './ops/opCatalogue';

/**
 * A job as a JSON document: exactly what a user sends as a Lambda event or keeps in `events/*.json`. The
 * schema in `job.schema.json` describes the same shape for editors and for Ajv; `validateJob` checks a document
 * against both, and `buildJob` turns a valid one into a stream graph. The ops' types, schema, checks and
 * building are the entries of the op catalogue (`lib/job/ops/`).
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
  /** How often a socket source's lines are cut into a stored block during the interval, in ms. Default 200. */
  readonly blockIntervalMs?: number;
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

/**
 * The deterministic generator of tweets, text lines or key/value records: the source's own options (see
 * `GeneratorSource`), so a new option is declared once.
 */
export interface GeneratorSourceSpec extends RateLimitedSource, GeneratorSourceOptions {
  readonly type: 'generator';
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
  /** The most bytes one task of a batch reads; a larger batch gets more tasks. Default 128 MiB. */
  readonly maxPartBytes?: number;
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
  /** The most bytes one task of a batch reads; a larger batch gets more tasks. Default 128 MiB. */
  readonly maxPartBytes?: number;
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

// The op types (`StreamOp`, `DatasetOp`) come from the op catalogue, each op's fields from its entry.
export type { DatasetOp, DatasetOpName, StreamOp, StreamOpName } from './ops/opCatalogue';

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

export { DATASET_OP_NAMES, STREAM_OP_NAMES } from './ops/opCatalogue';

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
  // A name cut short or run on (`batch` for `batches`, `windowMsec`) is close however many letters it lacks, once it
  // is long enough to mean something: its distance counts as the limit, so true typos still come first.
  const cutOrRunOn = (candidate: string) =>
    Math.min(candidate.length, target.length) >= 4 &&
    (candidate.startsWith(target) || target.startsWith(candidate));
  return known
    .map((candidate) => {
      const lower = candidate.toLowerCase();
      if (cutOrRunOn(lower) && Math.abs(lower.length - target.length) > limit)
        return { candidate, distance: limit };
      // Farther by length alone: no need to count the edits.
      if (Math.abs(candidate.length - target.length) > limit)
        return { candidate, distance: Number.POSITIVE_INFINITY };
      return { candidate, distance: editDistance(target, lower) };
    })
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
