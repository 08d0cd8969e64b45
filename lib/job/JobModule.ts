import { StreamingContext, type StreamingContextOptions } from '../StreamingContext';
import { attachCloudSources, type CloudSources } from './cloudStreams';

/** A job written in TypeScript: the context's settings and a function that builds the stream graph. */
export interface JobModule {
  /** The context's settings. */
  readonly options: StreamingContextOptions;
  /** Builds the graph; it runs in the driver and again in every worker, so it must be deterministic. */
  build(ssc: StreamingContext): void;
}

/**
 * Declares a TypeScript job. Export it (as `default`, or by name) from a module and run it with
 * `sluice run job.ts`.
 *
 * @example
 * export default defineJob({ batchIntervalMs: 1000 }, (ssc) => {
 *   ssc.generatorStream({ kind: 'tweets', ratePerSec: 1000 }).flatMap((t) => hashtags(t)).countByValue().print();
 * });
 */
export function defineJob(
  options: StreamingContextOptions,
  build: (ssc: StreamingContext) => void,
): JobModule {
  return { options, build };
}

/**
 * Builds a fresh context from a job module; `cloud` gives its `kinesisStream` and `s3PrefixStream` their sources
 * (the serverless coordinator's). Default: none.
 */
export function contextFromModule(job: JobModule, cloud?: CloudSources): StreamingContext {
  const ssc = new StreamingContext(job.options);
  if (cloud) attachCloudSources(ssc, cloud);
  job.build(ssc);
  return ssc;
}

/**
 * The job a module exports under `name` (default `default`); a dotted name reaches into an exported object
 * (`cases.map`), as test suites keep many jobs in one export. Undefined when there is no job there.
 */
export function jobExportOf(
  exports: Readonly<Record<string, unknown>>,
  name = 'default',
): JobModule | undefined {
  let job: unknown = exports;
  for (const part of name.split('.')) job = (job as Record<string, unknown> | undefined)?.[part];
  return isJobModule(job) ? job : undefined;
}

function isJobModule(value: unknown): value is JobModule {
  const job = value as Partial<JobModule> | undefined;
  return typeof job?.build === 'function' && typeof job.options === 'object';
}
