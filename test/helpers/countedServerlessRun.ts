import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { kinesisClient, s3Client } from '../../lib/aws/awsClients';
import { LambdaHost } from '../../lib/devhost/LambdaHost';
import { GeneratorSource } from '../../lib/source/GeneratorSource';
import { freePort } from './freePort';
import { kinesisHashtagJob } from './kinesisHashtagJob';
import { type LoggedS3Request, S3RequestLog } from './S3RequestLog';

/**
 * A serverless run whose every S3 request is logged: the sliding hashtag job (1 s batches, 60 s window) on a
 * Kinesis stream, coordinator and worker in our Lambda host against LocalStack, each function's S3 traffic going
 * through its own logging proxy. Used by test/aws/requestsPerBatch.test.ts and bench/s3RequestBreakdown.ts.
 * LocalStack must be up (the suite's globalSetup, or `setup()` of test/aws/localstack.ts).
 */
const root = new URL('../..', import.meta.url).pathname;

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
  coordinatorEnv?: Record<string, string>;
}): Promise<RequestBreakdown> {
  const suffix = Math.random().toString(36).slice(2, 8);
  const bucket = `sluice-requests-${suffix}`;
  const streamName = `requests-${suffix}`;
  await s3Client().send(new CreateBucketCommand({ Bucket: bucket }));
  const kinesis = kinesisClient();
  await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: options.shards }));
  for (let i = 0; i < 60; i++) {
    const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
  const generator = new GeneratorSource({ kind: 'tweets', ratePerSec: 1000, seed: 5 });
  const total = options.recordsPerShard * options.shards * options.batches;
  for (let i = 0; i < total; i += 500) {
    const records = Array.from({ length: Math.min(500, total - i) }, (_, j) => ({
      Data: Buffer.from(JSON.stringify(generator.recordAt(i + j))),
      PartitionKey: 'p',
      ExplicitHashKey: shards[(i + j) % shards.length]!.HashKeyRange!.StartingHashKey!,
    }));
    await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: records }));
  }
  const log = new S3RequestLog(process.env.AWS_ENDPOINT_URL);
  const port = await freePort();
  const env = {
    AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL!,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  };
  const host = await LambdaHost.start({
    port,
    functions: {
      coordinator: {
        module: `${root}functions/coordinator.ts`,
        timeoutMs: 300_000,
        env: {
          ...env,
          AWS_ENDPOINT_URL_S3: await log.proxy('coordinator'),
          SLUICE_BUCKET: bucket,
          SLUICE_WORKER_FUNCTION: 'worker',
          SLUICE_TASK_CONCURRENCY: '16',
          AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${port}`,
          ...options.coordinatorEnv,
        },
      },
      worker: {
        module: `${root}functions/worker.ts`,
        timeoutMs: 60_000,
        env: {
          ...env,
          AWS_ENDPOINT_URL_S3: await log.proxy('worker'),
          SLUICE_STORE: `s3://${bucket}`,
          SLUICE_OUTPUTS: `s3://${bucket}/outputs/`,
        },
      },
    },
    output: () => {},
  });
  const lambda = new LambdaClient({
    endpoint: host.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: new NodeHttpHandler(),
  });
  try {
    const name = `requests-${suffix}`;
    const job =
      options.job ??
      kinesisHashtagJob({
        name,
        streamName,
        maxRecordsPerShard: options.recordsPerShard,
        partitions: options.partitions,
        ...(options.reducePartitions ? { defaultPartitions: options.reducePartitions } : {}),
      });
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: 'coordinator',
        Payload: Buffer.from(JSON.stringify({ action: 'start', job, batches: options.batches })),
      }),
    );
    const answer = JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8'));
    if (!answer.ok) throw new Error(`the run failed: ${JSON.stringify(answer)}`);
    return { batches: options.batches, requests: [...log.requests] };
  } finally {
    await host.stop();
    await log.stop();
    await kinesis.send(new DeleteStreamCommand({ StreamName: streamName })).catch(() => {});
  }
}
