import { resolve as resolvePath } from 'node:path';
import type { StreamingContext } from '../StreamingContext';
import type { Source } from '../source/Source';
import { type DeployedModules, moduleNameOf } from './DeployedModules';
import { FunctionRegistry } from './FunctionRegistry';
import type { KinesisSourceSpec, S3PrefixSourceSpec } from './JobDocument';
import { JobGraphBuilder } from './JobGraphBuilder';
import { validateJob } from './validateJob';

// Where a static dataset's file is belongs to the builder; re-exported for the callers that resolve it alone.
export { datasetPath } from './JobGraphBuilder';

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
  return new JobGraphBuilder(job, functions, options.baseDir, options).build();
}
