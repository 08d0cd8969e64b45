import { StreamingContext, type StreamingContextOptions } from '../StreamingContext';

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

/** Builds a fresh context from a job module. */
export function contextFromModule(job: JobModule): StreamingContext {
  const ssc = new StreamingContext(job.options);
  job.build(ssc);
  return ssc;
}
