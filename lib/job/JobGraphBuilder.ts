import { posix, resolve as resolvePath } from 'node:path';
import type { Dataset } from '../dataset/Dataset';
import { withOpOrigin } from '../dataset/OpOrigin';
import type { DStream } from '../dstream/DStream';
import { JobValidationError } from '../errors';
import { StreamingContext } from '../StreamingContext';
import type { Source } from '../source/Source';
import type { JobFunction } from './builtinFunctions';
import { type ExpressionBudget, expressionBudgetOf } from './ExpressionBudget';
import {
  childPath,
  type DatasetOp,
  type JobDocument,
  jsonPath,
  type KinesisSourceSpec,
  type OutputSpec,
  type S3PrefixSourceSpec,
  type SourceSpec,
  type StaticDatasetSpec,
  type StreamOp,
} from './JobDocument';
import type { OpBuildContext } from './ops/OpEntry';
import { datasetOpEntry, streamOpEntry } from './ops/opCatalogue';
import { UnavailableSource } from './UnavailableSource';

/**
 * Where the builder gets the functions that fields name: the registry when a job is built to run, placeholders
 * that never run when `validateJob` builds the graph only to let the engine check it.
 */
export interface JobFunctions {
  /** The function a name (and its args) stands for; `path` is the field's, for errors. */
  resolve(name: string, args: Record<string, unknown> | undefined, path: string): JobFunction;
  /** A JSONata expression compiled to an asynchronous function of the record. */
  expression(source: string, path: string, budget: ExpressionBudget): (record: unknown) => Promise<unknown>;
}

/** What the builder needs besides the document and functions: see `BuildJobOptions`. */
export interface JobGraphPlaces {
  readonly baseDir: string;
  readonly kinesisSource?: (spec: KinesisSourceSpec) => Source<string>;
  readonly s3PrefixSource?: (spec: S3PrefixSourceSpec) => Source<string>;
  readonly staticBase?: string;
}

/**
 * Builds one document, whose names and references `validateJob` has checked, into a fresh context; each
 * source, dataset and stream exactly once, each inside the origin of the JSON path it comes from.
 */
export class JobGraphBuilder {
  private readonly ssc: StreamingContext;
  /** Sources and built streams, by their JSON name. */
  private readonly streams = new Map<string, DStream<any>>();
  private readonly datasets = new Map<string, Dataset<any>>();
  /** Streams whose build failed, with the error (see `buildAll`). */
  private readonly failed = new Map<string, unknown>();
  /** What every inline expression may spend per record. */
  private readonly budget: ExpressionBudget;

  constructor(
    private readonly job: JobDocument,
    private readonly functions: JobFunctions,
    private readonly baseDir: string,
    private readonly cloud: Omit<JobGraphPlaces, 'baseDir'>,
  ) {
    this.budget = expressionBudgetOf(job.expressionBudget);
    this.ssc = new StreamingContext({
      batchIntervalMs: job.batchIntervalMs,
      defaultPartitions: job.defaultPartitions,
      concurrentJobs: job.concurrentJobs,
      maxTaskAttempts: job.maxTaskAttempts,
      checkpointIntervalMs: job.checkpointIntervalMs,
      blockIntervalMs: job.blockIntervalMs,
      speculation: job.speculation,
      shuffle: job.shuffle,
      deadLetters: job.deadLetters,
      backpressure: job.backpressure,
    });
  }

  /** The whole graph; the first error the engine raises is thrown. */
  build(): StreamingContext {
    return this.buildAll((error) => {
      throw error;
    });
  }

  /**
   * The whole graph, handing each error to `onError` with the path of the source, dataset, stream or output
   * being built, and going on with the rest: how `validateJob` has the engine check every stream at once. A
   * stream that reads a failed one fails with the same error object.
   */
  buildAll(onError: (error: unknown, path: string) => void): StreamingContext {
    const attempt = (path: string, build: () => unknown, failing?: string): void => {
      try {
        build();
      } catch (error) {
        if (failing !== undefined) this.failed.set(failing, error);
        onError(error, path);
      }
    };
    // Document order throughout: JSON objects keep their key order, so every build visits the same sequence.
    // Every stream and dataset is built inside the JSON path and op it comes from, which a failing task names.
    for (const [name, spec] of Object.entries(this.job.sources)) {
      const path = jsonPath('sources', name);
      const build = () => withOpOrigin(`${path} (${spec.type})`, () => this.buildSource(name, spec));
      attempt(path, build, name);
    }
    for (const [name, spec] of Object.entries(this.job.datasets ?? {})) {
      attempt(jsonPath('datasets', name), () => this.buildDataset(name, spec));
    }
    for (const name of Object.keys(this.job.streams ?? {})) {
      attempt(jsonPath('streams', name), () => this.stream(name));
    }
    this.job.outputs.forEach((output, i) => {
      const path = jsonPath('outputs', i);
      attempt(path, () => withOpOrigin(`${path} (${output.type})`, () => this.buildOutput(output, i)));
    });
    return this.ssc;
  }

  private buildSource(name: string, spec: SourceSpec): void {
    const { ssc } = this;
    // The rate cap belongs to the input stream, whatever the source (an s3Prefix source takes none).
    const input =
      'maxRatePerSec' in spec && spec.maxRatePerSec !== undefined
        ? { maxRatePerSec: spec.maxRatePerSec }
        : {};
    let stream: DStream<any>;
    switch (spec.type) {
      case 'generator': {
        const { type: _type, partitions, maxRatePerSec: _cap, ...options } = spec;
        stream = ssc.generatorStream(options, partitions, input);
        break;
      }
      case 'queue':
        stream = ssc.queueStream(
          spec.batches.map((batch) => [...batch]),
          { oneAtATime: spec.oneAtATime, partitions: spec.partitions, ...input },
        );
        break;
      case 'textFileStream':
        stream = ssc.textFileStream(resolvePath(this.baseDir, spec.directory), spec.partitions, input, {
          ...(spec.maxPartBytes !== undefined ? { maxPartBytes: spec.maxPartBytes } : {}),
        });
        break;
      case 'socket':
        stream = ssc.socketTextStream(
          spec.host,
          spec.port,
          spec.partitions,
          { ...(spec.maxLineBytes !== undefined ? { maxLineBytes: spec.maxLineBytes } : {}) },
          input,
        );
        break;
      case 'kinesis':
        stream = ssc.sourceStream(
          this.cloud.kinesisSource?.(spec) ??
            new UnavailableSource(
              `kinesis(${spec.streamName ?? 'the deployment stream'})`,
              `sources.${name}.type`,
            ),
          spec.partitions,
          input,
        );
        break;
      case 's3Prefix':
        stream = ssc.sourceStream(
          this.cloud.s3PrefixSource?.(spec) ??
            new UnavailableSource(`s3(${spec.bucket}/${spec.prefix})`, `sources.${name}.type`),
          spec.partitions,
        );
        break;
    }
    stream.name = name;
    this.streams.set(name, stream);
  }

  private buildDataset(name: string, spec: StaticDatasetSpec): void {
    let dataset: Dataset<any> = withOpOrigin(`${jsonPath('datasets', name)} (${spec.type})`, () =>
      spec.type === 'textFile'
        ? this.ssc.textFile(
            datasetPath(spec.path, { baseDir: this.baseDir, staticBase: this.cloud.staticBase }, name),
            spec.partitions,
          )
        : this.ssc.parallelize(spec.records, spec.partitions),
    );
    (spec.ops ?? []).forEach((op, i) => {
      const path = jsonPath('datasets', name, 'ops', i);
      dataset = withOpOrigin(`${path} (${op.op})`, () => this.applyDatasetOp(dataset, op, path));
    });
    this.datasets.set(name, dataset);
  }

  /** The stream of a name, building it first (after every stream it reads) when it is not built yet. */
  private stream(name: string): DStream<any> {
    const built = this.streams.get(name);
    if (built !== undefined) return built;
    if (this.failed.has(name)) throw this.failed.get(name);
    try {
      return this.buildStream(name);
    } catch (error) {
      // Once: every stream that reads this one fails with this error, without building it again.
      this.failed.set(name, error);
      throw error;
    }
  }

  private buildStream(name: string): DStream<any> {
    const spec = this.job.streams?.[name];
    if (spec === undefined)
      throw new Error(`no source or stream "${name}"; validateJob should have caught it`);
    // Dependency order: every stream this one reads is built before its own first op.
    for (const dep of [spec.from, ...spec.ops.flatMap(withNames)]) {
      if (!this.datasets.has(dep)) this.stream(dep);
    }
    let node = this.stream(spec.from);
    spec.ops.forEach((op, i) => {
      const path = jsonPath('streams', name, 'ops', i);
      node = withOpOrigin(`${path} (${op.op})`, () => this.applyStreamOp(node, op, path));
      node.name = i === spec.ops.length - 1 ? name : `${name}.ops[${i}]:${op.op}`;
    });
    // The stream's own settings: an error the engine raises here names the stream, not its last op.
    withOpOrigin(jsonPath('streams', name), () => {
      if (spec.persist !== undefined) node.persist(spec.persist);
      if (spec.checkpointIntervalMs !== undefined) node.checkpoint(spec.checkpointIntervalMs);
    });
    this.streams.set(name, node);
    return node;
  }

  private applyStreamOp(node: DStream<any>, op: StreamOp, path: string): DStream<any> {
    const entry = streamOpEntry(op.op);
    if (entry === undefined) throw new Error(`${path}: no op "${op.op}"; validateJob should have caught it`);
    return entry.build(node, op, this.opContext(op, path));
  }

  private applyDatasetOp(dataset: Dataset<any>, op: DatasetOp, path: string): Dataset<any> {
    const build = datasetOpEntry(op.op)?.buildDataset;
    if (build === undefined)
      throw new Error(`${path}: no dataset op "${op.op}"; validateJob should have caught it`);
    return build(dataset, op, this.opContext(op, path));
  }

  /** What an op's catalogue entry asks of the builder, for the op at `path`. */
  private opContext(op: StreamOp, path: string): OpBuildContext {
    return {
      path,
      named: (field) => this.named(op, field, path),
      recordFunction: () => this.recordFunction(op, path),
      expression: (field, shapedAs) =>
        adaptExpression(
          shapedAs,
          this.functions.expression(
            (op as unknown as Record<string, string>)[field] as string, // validated: a string
            childPath(path, field),
            this.budget,
          ),
        ),
      isDataset: (name) => this.datasets.has(name),
      stream: (name) => this.stream(name),
      dataset: (name) => this.dataset(name),
    };
  }

  private buildOutput(output: OutputSpec, index: number): void {
    const stream = this.stream(output.stream);
    const name = output.name ?? output.stream;
    switch (output.type) {
      case 'print':
        stream.print(output.num, name);
        break;
      case 'jsonl':
        stream.jsonl({ path: output.path, name });
        break;
      case 'saveAsTextFiles':
        stream.saveAsTextFiles(output.prefix, output.suffix, name);
        break;
      case 'foreachRDD':
        stream.foreachRDD(this.named(output, 'fn', jsonPath('outputs', index)), name);
        break;
      case 'collectBatches':
        stream.collectBatches(name);
        break;
    }
  }

  private dataset(name: string): Dataset<any> {
    const dataset = this.datasets.get(name);
    if (dataset === undefined) throw new Error(`no dataset "${name}"; validateJob should have caught it`);
    return dataset;
  }

  /** The function of a record op: its `fn` from the registry, or its `expr` compiled and adapted to the op. */
  private recordFunction(op: StreamOp, path: string): JobFunction {
    if ('expr' in op && typeof op.expr === 'string') {
      const expression = this.functions.expression(op.expr, childPath(path, 'expr'), this.budget);
      return adaptExpression(op.op, expression);
    }
    return this.named(op, 'fn', path);
  }

  /** A registry function named by a field of an op or output. */
  private named(owner: object, field: string, ownerPath: string): JobFunction {
    const fields = owner as Record<string, unknown>;
    const args = field === 'fn' ? (fields.args as Record<string, unknown> | undefined) : undefined;
    return this.functions.resolve(fields[field] as string, args, childPath(ownerPath, field));
  }
}

/** The names an op's `with` lists (none for ops without one). */
function withNames(op: StreamOp): string[] {
  if (!('with' in op)) return [];
  return typeof op.with === 'string' ? [op.with] : [...op.with];
}

/**
 * Shapes what JSONata yields into what each op expects. JSONata yields `undefined` when nothing matches, which
 * is not a JSON value: a record becomes null, a key null, a list of records empty; and a single value stands
 * for a list of one, as JSONata's sequences do.
 */
function adaptExpression(op: string, expression: (record: unknown) => Promise<unknown>): JobFunction {
  switch (op) {
    case 'flatMap':
    case 'flatMapValues':
      return async (record: unknown) => {
        const result = await expression(record);
        if (result === undefined) return [];
        return Array.isArray(result) ? result : [result];
      };
    case 'filter':
      return async (record: unknown) => jsonataBoolean(await expression(record));
    default:
      return async (record: unknown) => (await expression(record)) ?? null;
  }
}

/** JSONata's `$boolean` rules, so a filter keeps what the expression language itself calls true. */
function jsonataBoolean(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(jsonataBoolean);
  if (typeof value === 'string') return value.length > 0;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'boolean') return value;
  if (value !== null && typeof value === 'object') return Object.keys(value).length > 0;
  return false; // undefined (no match), null, functions
}

/**
 * Where a static dataset's file is: an `s3://` URL as given; otherwise a path relative to the static base (the
 * serverless runtime's `s3://bucket/static/`), which it may not climb out of, or else to the job's folder.
 */
export function datasetPath(
  path: string,
  where: { readonly baseDir: string; readonly staticBase?: string | undefined },
  datasetName: string,
): string {
  if (/^s3:\/\//.test(path)) return path;
  if (where.staticBase === undefined) return resolvePath(where.baseDir, path);
  const key = posix.normalize(path);
  if (key === '..' || key.startsWith('../') || key.startsWith('/')) {
    throw new JobValidationError([
      {
        path: jsonPath('datasets', datasetName, 'path'),
        message: `on the serverless runtime a relative path names an object under ${where.staticBase}; give an s3:// URL for any other object`,
        value: path,
      },
    ]);
  }
  return `${where.staticBase}${key}`;
}
