import type { DStream } from '../dstream/DStream';
import type { StreamingContext } from '../StreamingContext';
import type { Source } from '../source/Source';
import type { KinesisSourceSpec, S3PrefixSourceSpec } from './JobDocument';
import { UnavailableSource } from './UnavailableSource';

/**
 * The cloud sources a runtime plugs into the contexts it builds: the serverless coordinator reads Kinesis and
 * S3; elsewhere (local mode, workers, which never read sources) such a stream builds and a run explains.
 */
export interface CloudSources {
  /** Makes a Kinesis source. */
  readonly kinesisSource?: (spec: KinesisSourceSpec) => Source<string>;
  /** Makes an S3 prefix source. */
  readonly s3PrefixSource?: (spec: S3PrefixSourceSpec) => Source<string>;
}

// Kept beside the context rather than in it: the engine's context knows nothing of clouds.
const cloudOf = new WeakMap<StreamingContext, CloudSources>();

/** Gives a context the runtime's cloud sources, before a job module builds its graph on it. */
export function attachCloudSources(ssc: StreamingContext, cloud: CloudSources): void {
  cloudOf.set(ssc, cloud);
}

/**
 * The records of a Kinesis stream, as lines (Spark's `KinesisInputDStream`), for a TypeScript job: the same
 * settings as a JSON job's `{"type": "kinesis"}` source. Without `streamName` it reads the deployment's stream.
 *
 * @example
 * export default defineJob({ batchIntervalMs: 1000 }, (ssc) => {
 *   kinesisStream(ssc, { maxRecordsPerShard: 1000 }).map((line) => JSON.parse(line)).count().print();
 * });
 */
export function kinesisStream(
  ssc: StreamingContext,
  spec: Omit<KinesisSourceSpec, 'type'> = {},
): DStream<string> {
  const full: KinesisSourceSpec = { type: 'kinesis', ...spec };
  const source =
    cloudOf.get(ssc)?.kinesisSource?.(full) ??
    new UnavailableSource(`kinesis(${spec.streamName ?? 'the deployment stream'})`, 'kinesisStream()');
  return ssc.sourceStream(
    source,
    spec.partitions,
    spec.maxRatePerSec !== undefined ? { maxRatePerSec: spec.maxRatePerSec } : {},
  );
}

/** New objects under an S3 prefix, as lines, for a TypeScript job: a JSON job's `{"type": "s3Prefix"}`. */
export function s3PrefixStream(
  ssc: StreamingContext,
  spec: Omit<S3PrefixSourceSpec, 'type'>,
): DStream<string> {
  const full: S3PrefixSourceSpec = { type: 's3Prefix', ...spec };
  const source =
    cloudOf.get(ssc)?.s3PrefixSource?.(full) ??
    new UnavailableSource(`s3(${spec.bucket}/${spec.prefix})`, 's3PrefixStream()');
  return ssc.sourceStream(source, spec.partitions);
}
