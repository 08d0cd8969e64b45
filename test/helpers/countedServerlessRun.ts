import { CreateStreamCommand, DeleteStreamCommand } from '@aws-sdk/client-kinesis';
import { kinesisClient } from '../../lib/aws/awsClients';
import { GeneratorSource } from '../../lib/source/GeneratorSource';
import { waitForStreamActive } from '../aws/localstack';
import { putRoundRobin } from './kinesisFeed';
import { kinesisHashtagJob } from './kinesisHashtagJob';
import { type LoggedS3Request, S3RequestLog } from './S3RequestLog';
import { startServerlessHost } from './serverlessHost';

/**
 * A serverless run whose every S3 request is logged: the sliding hashtag job (1 s batches, 60 s window) on a
 * Kinesis stream, coordinator and worker in our Lambda host against LocalStack, each function's S3 traffic going
 * through its own logging proxy. Used by test/aws/requestsPerBatch.test.ts and bench/s3RequestBreakdown.ts.
 * LocalStack must be up (the suite's globalSetup, or `setup()` of test/aws/localstack.ts).
 */

/** The requests of one run, and the batches it ran. */
export interface RequestBreakdown {
  readonly batches: number;
  readonly requests: readonly LoggedS3Request[];
}

/**
 * Runs the hashtag job for `batches` batches of `recordsPerShard` records on each of `shards` shards, read by
 * `partitions` tasks, and returns every S3 request made while it ran (job set-up and start-up included).
 */
export async function measureRequests(options: {
  shards: number;
  partitions: number;
  batches: number;
  recordsPerShard: number;
  /** The window stage's partitions (the job's `defaultPartitions`). Default: the job's default, 2. */
  reducePartitions?: number;
  job?: Record<string, unknown>;
  /** The hashtag job's `shuffle.inlineMaxBytes`: 0 sends every shuffle through S3. Default: the job's default. */
  inlineMaxBytes?: number;
  coordinatorEnv?: Record<string, string>;
}): Promise<RequestBreakdown> {
  const suffix = Math.random().toString(36).slice(2, 8);
  const bucket = `sluice-requests-${suffix}`;
  const streamName = `requests-${suffix}`;
  const kinesis = kinesisClient();
  await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: options.shards }));
  await waitForStreamActive(kinesis, streamName);
  const generator = new GeneratorSource({ kind: 'tweets', ratePerSec: 1000, seed: 5 });
  const total = options.recordsPerShard * options.shards * options.batches;
  await putRoundRobin(
    kinesis,
    streamName,
    Array.from({ length: total }, (_, i) => JSON.stringify(generator.recordAt(i))),
  );
  const log = new S3RequestLog(process.env.AWS_ENDPOINT_URL);
  const serverless = await startServerlessHost({
    bucket,
    coordinatorTimeoutMs: 300_000,
    workerTimeoutMs: 60_000,
    coordinatorEnv: {
      AWS_ENDPOINT_URL_S3: await log.proxy('coordinator'),
      SLUICE_TASK_CONCURRENCY: '16',
      ...options.coordinatorEnv,
    },
    workerEnv: { AWS_ENDPOINT_URL_S3: await log.proxy('worker') },
  });
  try {
    const name = `requests-${suffix}`;
    const job = options.job ?? {
      ...kinesisHashtagJob({
        name,
        streamName,
        maxRecordsPerShard: options.recordsPerShard,
        partitions: options.partitions,
        ...(options.reducePartitions ? { defaultPartitions: options.reducePartitions } : {}),
        ...(options.inlineMaxBytes !== undefined ? { inlineMaxBytes: options.inlineMaxBytes } : {}),
      }),
      // The counts are what the runtime itself asks of S3 per batch. On a loaded machine a task past its straggler
      // threshold gets a speculative copy, which writes its blocks again (a CI run counted 34 worker writes against
      // 32 so): a cost of stragglers, not of the runtime, and one the tests cannot bound.
      speculation: { enabled: false },
    };
    const answer = await serverless.invoke('coordinator', { action: 'start', job, batches: options.batches });
    if (!answer.ok) throw new Error(`the run failed: ${JSON.stringify(answer)}`);
    return { batches: options.batches, requests: [...log.requests] };
  } finally {
    await serverless.stop();
    await log.stop();
    await kinesis.send(new DeleteStreamCommand({ StreamName: streamName })).catch(() => {});
  }
}
