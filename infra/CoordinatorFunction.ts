import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import type { DestinationConfig, IDestination, IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { INPUT_PREFIX, JOBS_PREFIX, OUTPUTS_PREFIX, STATIC_PREFIX } from '../lib/aws/bucketLayout';
import { ENV, FUNCTION_MEMORY_MB, FUNCTION_TIMEOUT_MS } from '../lib/aws/deploymentContract';
import type { JobModuleFile } from '../lib/job/jobModuleFiles';
import { SluiceFunction } from './SluiceFunction';
import type { WorkerFunction } from './WorkerFunction';

/** Settings of a {@link CoordinatorFunction}. */
export interface CoordinatorFunctionProps {
  /** The deployment's bucket. */
  readonly bucket: IBucket;
  /** The stream jobs read when their `kinesis` source names none. */
  readonly stream: IStream;
  /** The workers it fans tasks out to. */
  readonly worker: WorkerFunction;
  /** Where asynchronous invocations (ticks, hand-overs) that failed every retry go. */
  readonly failedInvocations: IQueue;
  /** The function's name. Default `<stack name>-coordinator`: a known name lets it hand over to itself. */
  readonly functionName?: string;
  /** Memory in MB; the coordinator also runs one-partition stages itself. Default 1024. */
  readonly memoryMb?: number;
  /**
   * How long one invocation drives batches before it hands over to a fresh one (it stops 10 s early). Default
   * 5 minutes.
   */
  readonly timeout?: Duration;
  /** How long the logs are kept. Default one week. */
  readonly logRetention?: RetentionDays;
  /**
   * The user modules bundled into the function (`sluice:jobModules`): job documents name them. Default: none.
   */
  readonly jobModules?: readonly JobModuleFile[];
}

/**
 * The coordinator Lambda: takes job documents and control events, and drives each running job's batches. Its
 * reserved concurrency is 1: one coordinator per deployment at a time is what the job lease assumes, and a
 * hand-over or a tick that arrives while one runs waits in Lambda's asynchronous queue instead.
 *
 * It may invoke the worker and itself (the hand-over), read the stream, and touch `jobs/` and `outputs/`; it reads
 * `static/` and `input/`.
 */
export class CoordinatorFunction extends Construct {
  /** The function. */
  readonly fn: IFunction;
  /** The function's machinery: role and log group. */
  readonly base: SluiceFunction;
  /** The function's name, known before deployment. */
  readonly functionName: string;

  constructor(scope: Construct, id: string, props: CoordinatorFunctionProps) {
    super(scope, id);
    const { bucket, stream, worker } = props;
    const stack = Stack.of(this);
    const functionName = props.functionName ?? `${stack.stackName}-coordinator`;
    this.functionName = functionName;
    this.base = new SluiceFunction(this, 'Coordinator', {
      handler: 'coordinator',
      memoryMb: props.memoryMb ?? FUNCTION_MEMORY_MB.coordinator,
      timeout: props.timeout ?? Duration.millis(FUNCTION_TIMEOUT_MS.coordinator),
      reservedConcurrency: 1,
      // Set, not generated, so that the role can name the function before the function exists.
      functionName,
      environment: {
        [ENV.bucket]: bucket.bucketName,
        [ENV.workerFunction]: worker.fn.functionName,
        [ENV.coordinatorFunction]: functionName,
        [ENV.taskConcurrency]: String(worker.concurrency),
        [ENV.stream]: stream.streamName,
        // The cost report bills the workers' time at the memory they were given (`sluice:workerMemoryMb`).
        [ENV.workerMemoryMb]: String(worker.memoryMb),
      },
      ...(props.logRetention !== undefined ? { logRetention: props.logRetention } : {}),
      ...(props.jobModules !== undefined ? { jobModules: props.jobModules } : {}),
    });
    const fn = this.base.fn;
    fn.configureAsyncInvoke({
      onFailure: new SendOnlyQueueDestination(props.failedInvocations),
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
    });
    this.fn = fn;
    const role = this.base.role;
    const self = stack.formatArn({
      service: 'lambda',
      resource: 'function',
      resourceName: functionName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'InvokeWorkerAndHandOver',
        effect: Effect.ALLOW,
        actions: ['lambda:InvokeFunction'],
        resources: [worker.fn.functionArn, self],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ReadStream',
        effect: Effect.ALLOW,
        // What it calls: DescribeStreamSummary to check a start's sources (sourceChecks.ts), then KinesisSource's
        // ListShards (shardLineage.ts), GetShardIterator and GetRecords to plan and to peek for a sleeping job.
        actions: [
          'kinesis:DescribeStreamSummary',
          'kinesis:ListShards',
          'kinesis:GetShardIterator',
          'kinesis:GetRecords',
        ],
        resources: [stream.streamArn],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'JobsAndOutputs',
        effect: Effect.ALLOW,
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        resources: [bucket.arnForObjects(`${JOBS_PREFIX}*`), bucket.arnForObjects(`${OUTPUTS_PREFIX}*`)],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'TagTemporaryData',
        effect: Effect.ALLOW,
        // A PutObject with a tag needs this too. Only the job's store is written with the temporary tag (shuffle
        // and spill blocks, which the lifecycle rule expires); the outputs and the job records never are.
        actions: ['s3:PutObjectTagging'],
        resources: [bucket.arnForObjects(`${JOBS_PREFIX}*/store/*`)],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'StaticDatasetsAndInputObjects',
        effect: Effect.ALLOW,
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects(`${STATIC_PREFIX}*`), bucket.arnForObjects(`${INPUT_PREFIX}*`)],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ListJobsOutputsAndInputObjects',
        effect: Effect.ALLOW,
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: {
          StringLike: { 's3:prefix': [`${JOBS_PREFIX}*`, `${OUTPUTS_PREFIX}*`, `${INPUT_PREFIX}*`] },
        },
      }),
    );
  }
}

/**
 * A queue as the destination of failed asynchronous invocations, with only the permission Lambda uses to deliver
 * to it: `sqs:SendMessage`, with the function's role. `SqsDestination` grants `grantSendMessages`, which adds
 * GetQueueAttributes and GetQueueUrl, which nothing calls. (An SQS-managed-key queue needs no KMS grant.)
 */
class SendOnlyQueueDestination implements IDestination {
  constructor(private readonly queue: IQueue) {}

  bind(_scope: Construct, fn: IFunction): DestinationConfig {
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'SendFailedInvocations',
        effect: Effect.ALLOW,
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
      }),
    );
    return { destination: this.queue.queueArn };
  }
}
