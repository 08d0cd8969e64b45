import { posix, resolve as resolvePath } from 'node:path';
import type { Dataset } from '../dataset/Dataset';
import { withOpOrigin } from '../dataset/OpOrigin';
import type { DStream } from '../dstream/DStream';
import { JobValidationError } from '../errors';
import { StreamingContext } from '../StreamingContext';
import type { Source } from '../source/Source';
import type { JobFunction } from './builtinFunctions';
import { type DeployedModules, moduleNameOf } from './DeployedModules';
import { type ExpressionBudget, expressionBudgetOf } from './ExpressionBudget';
import { FunctionRegistry } from './FunctionRegistry';
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
import { validateJob } from './validateJob';

/** Settings of {@link buildJob}. */
export interface BuildJobOptions {
  /** The folder of the job file: `functions`, `datasets.*.path` and `directory` are relative to it. */
  readonly baseDir: string;
  /**
   * Makes the sources of cloud services (Kinesis). The engine stays free of AWS: the serverless runtime
   * passes this; without it such a source exists in the graph (workers rebuild graphs and never read
   * sources) but fails with a clear error if a run starts it.
   */
  readonly kinesisSource?: (spec: KinesisSourceSpec) => Source<string>;
  /** Makes S3 prefix sources, as `kinesisSource` makes Kinesis ones. */
  readonly s3PrefixSource?: (spec: S3PrefixSourceSpec) => Source<string>;
  /**
   * Where a static dataset's relative `path` points instead of `baseDir`: on the serverless runtime, the
   * deployment's `s3://bucket/static/`, as there is no job folder. Default: `baseDir`.
   */
  readonly staticBase?: string;
  /**
   * The serverless runtime's deployed modules: when set, `functions` names one of them (by its file name
   * without folder and extension, so a document that runs locally runs unchanged), and no file is imported.
   * Default: `functions` is a file relative to `baseDir`.
   */
  readonly deployedModules?: DeployedModules;
}

/**
 * Turns a job document into a streaming context whose graph holds its sources, streams and outputs, built
 * with the public fluent API only. It validates the document first (throwing a `JobValidationError` with every
 * issue) and imports the `functions` module when there is one.
 *
 * Building is deterministic: the same document yields the same nodes, names and function ids in the same
 * order, which is how workers that rebuild the graph find a task's functions by id. Nothing runs yet.
 *
 * @example
 * const ssc = await buildJob(JSON.parse(await readFile(file, 'utf8')), { baseDir: dirname(file) });
 */
export async function buildJob(doc: unknown, options: BuildJobOptions): Promise<StreamingContext> {
  let job = validateJob(doc);
  const functions = new FunctionRegistry();
  if (job.functions !== undefined) {
    if (options.deployedModules === undefined) {
      await functions.loadModule(resolvePath(options.baseDir, job.functions), 'functions');
    } else {
      const name = moduleNameOf(job.functions);
      await functions.registerModule(options.deployedModules.get(name, 'functions'), name, 'functions');
    }
    // Only now are the module's names known, so function references are checked a second time.
    job = validateJob(job, { functions });
  }
  return new JobBuilder(job, functions, options.baseDir, options).build();
}

/** Builds one validated document into a fresh context; each source, dataset and stream exactly once. */
class JobBuilder {
  private readonly ssc: StreamingContext;
  /** Sources and built streams, by their JSON name. */
  private readonly streams = new Map<string, DStream<any>>();
  private readonly datasets = new Map<string, Dataset<any>>();
  /** What every inline expression may spend per record. */
  private readonly budget: ExpressionBudget;

  constructor(
    private readonly job: JobDocument,
    private readonly functions: FunctionRegistry,
    private readonly baseDir: string,
    private readonly cloud: Pick<BuildJobOptions, 'kinesisSource' | 's3PrefixSource' | 'staticBase'>,
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

  build(): StreamingContext {
    // Document order throughout: JSON objects keep their key order, so every build visits the same sequence.
    // Every stream and dataset is built inside the JSON path and op it comes from, which a failing task names.
    for (const [name, spec] of Object.entries(this.job.sources)) {
      withOpOrigin(`${jsonPath('sources', name)} (${spec.type})`, () => this.buildSource(name, spec));
    }
    for (const [name, spec] of Object.entries(this.job.datasets ?? {})) this.buildDataset(name, spec);
    for (const name of Object.keys(this.job.streams ?? {})) this.stream(name);
    this.job.outputs.forEach((output, i) => {
      withOpOrigin(`${jsonPath('outputs', i)} (${output.type})`, () => this.buildOutput(output, i));
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
        stream = ssc.textFileStream(resolvePath(this.baseDir, spec.directory), spec.partitions, input);
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
    if (spec.persist !== undefined) node.persist(spec.persist);
    if (spec.checkpointIntervalMs !== undefined) node.checkpoint(spec.checkpointIntervalMs);
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
