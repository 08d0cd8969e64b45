import { Duration } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { INPUT_PREFIX, JOBS_PREFIX, OUTPUTS_PREFIX, STATIC_PREFIX } from '../lib/aws/bucketLayout';
import { ENV, FUNCTION_MEMORY_MB, FUNCTION_TIMEOUT_MS } from '../lib/aws/deploymentContract';
import type { JobModuleFile } from '../lib/job/jobModuleFiles';
import { SluiceFunction } from './SluiceFunction';

/** Settings of a {@link WorkerFunction}. */
export interface WorkerFunctionProps {
  /** The deployment's bucket. */
  readonly bucket: IBucket;
  /** The deployment's Kinesis stream: tasks read their batch's shard ranges from it themselves. */
  readonly stream: IStream;
  /** Memory in MB; 1769 MB is one full vCPU. Default 1769. */
  readonly memoryMb?: number;
  /**
   * The most workers that run at once: reserved for the function, so a job can neither exhaust the account's
   * concurrency nor be starved by other functions. Default 20.
   */
  readonly concurrency?: number;
  /** How long one task may run. Default 2 minutes. */
  readonly timeout?: Duration;
  /** How long the logs are kept. Default one week. */
  readonly logRetention?: RetentionDays;
  /**
   * The user modules bundled into the function (`sluice:jobModules`): job documents name them. Default: none.
   */
  readonly jobModules?: readonly JobModuleFile[];
}

/**
 * The worker Lambda: runs one task of a batch per invocation. It reads and writes, but never deletes, only the job
 * stores (`jobs/<job>/store/`) and the outputs, and reads static datasets and its input itself: the shard ranges of
 * the stream (GetShardIterator and GetRecords only; the coordinator lists the shards) and the objects under
 * `input/` that the coordinator planned for it.
 */
export class WorkerFunction extends Construct {
  /** The function. */
  readonly fn: IFunction;
  /** Its reserved concurrency, which the coordinator uses as its number of tasks in flight. */
  readonly concurrency: number;
  /** Its memory in MB, which the coordinator's cost report bills the workers' GB-seconds at. */
  readonly memoryMb: number;
  /** The function's machinery: role and log group. */
  readonly base: SluiceFunction;

  constructor(scope: Construct, id: string, props: WorkerFunctionProps) {
    super(scope, id);
    this.concurrency = props.concurrency ?? 20;
    this.memoryMb = props.memoryMb ?? FUNCTION_MEMORY_MB.worker;
    const { bucket } = props;
    this.base = new SluiceFunction(this, 'Worker', {
      handler: 'worker',
      memoryMb: this.memoryMb,
      timeout: props.timeout ?? Duration.millis(FUNCTION_TIMEOUT_MS.worker),
      reservedConcurrency: this.concurrency,
      environment: {
        [ENV.store]: `s3://${bucket.bucketName}`,
        [ENV.outputs]: `s3://${bucket.bucketName}/${OUTPUTS_PREFIX}`,
      },
      ...(props.logRetention !== undefined ? { logRetention: props.logRetention } : {}),
      ...(props.jobModules !== undefined ? { jobModules: props.jobModules } : {}),
    });
    this.fn = this.base.fn;
    const store = `${JOBS_PREFIX}*/store/*`;
    this.base.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'JobStoresAndOutputs',
        effect: Effect.ALLOW,
        // No DeleteObject: a task only writes (blocks, spilled results, output parts); deleting a batch's blocks,
        // a retried output's folder or a reset's store is the coordinator's and the control function's. The
        // worker runs the user's code, which so cannot delete a checkpoint or an output either.
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [bucket.arnForObjects(store), bucket.arnForObjects(`${OUTPUTS_PREFIX}*`)],
      }),
    );
    this.base.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'TagTemporaryBlocks',
        effect: Effect.ALLOW,
        // Shuffle blocks and spilled results carry the tag the lifecycle rule expires; outputs never do.
        actions: ['s3:PutObjectTagging'],
        resources: [bucket.arnForObjects(store)],
      }),
    );
    this.base.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'StaticDatasetsAndInputObjects',
        effect: Effect.ALLOW,
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects(`${STATIC_PREFIX}*`), bucket.arnForObjects(`${INPUT_PREFIX}*`)],
      }),
    );
    this.base.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ReadShardRanges',
        effect: Effect.ALLOW,
        actions: ['kinesis:GetShardIterator', 'kinesis:GetRecords'],
        resources: [props.stream.streamArn],
      }),
    );
    this.base.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ListJobStoresAndOutputs',
        effect: Effect.ALLOW,
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [store, `${OUTPUTS_PREFIX}*`] } },
      }),
    );
  }
}
