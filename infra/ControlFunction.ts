import { Duration } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { INPUT_PREFIX, JOBS_PREFIX } from '../lib/aws/bucketLayout';
import { ENV, FUNCTION_MEMORY_MB, FUNCTION_TIMEOUT_MS } from '../lib/aws/deploymentContract';
import type { JobModuleFile } from '../lib/job/jobModuleFiles';
import type { CoordinatorFunction } from './CoordinatorFunction';
import { SluiceFunction } from './SluiceFunction';

/** Settings of a {@link ControlFunction}. */
export interface ControlFunctionProps {
  /** The deployment's bucket. */
  readonly bucket: IBucket;
  /** The deployment's stream: jobs may leave `streamName` out to read it. */
  readonly stream: IStream;
  /** The coordinator it starts jobs on. */
  readonly coordinator: CoordinatorFunction;
  /**
   * Executions at once, reserved for it. Default 2. Reserved, so that a flood of events (a script in a loop, a
   * stolen key) can neither take the account's concurrency from the coordinator and workers nor be starved by them.
   */
  readonly concurrency?: number;
  /** How long the logs are kept. Default one week. */
  readonly logRetention?: RetentionDays;
  /**
   * The user modules bundled into the function (`sluice:jobModules`): job documents name them. Default: none.
   */
  readonly jobModules?: readonly JobModuleFile[];
}

/**
 * The control function: where users send `events/` (a job to start, `stop`, `status`). It validates each event,
 * records it under `jobs/<name>/`, answers at once, and starts the coordinator asynchronously. It exists because
 * the coordinator's concurrency is reserved at 1: while a job runs, that one execution is busy driving batches,
 * and a synchronous call to it would be throttled.
 */
export class ControlFunction extends Construct {
  /** The function. */
  readonly fn: IFunction;

  constructor(scope: Construct, id: string, props: ControlFunctionProps) {
    super(scope, id);
    const { bucket, coordinator } = props;
    const base = new SluiceFunction(this, 'Control', {
      handler: 'control',
      memoryMb: FUNCTION_MEMORY_MB.control,
      timeout: Duration.millis(FUNCTION_TIMEOUT_MS.control),
      reservedConcurrency: props.concurrency ?? 2,
      environment: {
        [ENV.bucket]: bucket.bucketName,
        [ENV.coordinatorFunction]: coordinator.functionName,
        [ENV.stream]: props.stream.streamName,
      },
      ...(props.logRetention !== undefined ? { logRetention: props.logRetention } : {}),
      ...(props.jobModules !== undefined ? { jobModules: props.jobModules } : {}),
    });
    this.fn = base.fn;
    base.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'StartCoordinator',
        effect: Effect.ALLOW,
        actions: ['lambda:InvokeFunction'],
        resources: [coordinator.fn.functionArn],
      }),
    );
    base.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'Jobs',
        effect: Effect.ALLOW,
        // Delete: a reset clears a job's checkpoint, store and metrics.
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        resources: [bucket.arnForObjects(`${JOBS_PREFIX}*`)],
      }),
    );
    base.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ListJobsAndInputObjects',
        effect: Effect.ALLOW,
        // input/: a start checks that an s3Prefix source's prefix can be listed (one key at most).
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${JOBS_PREFIX}*`, `${INPUT_PREFIX}*`] } },
      }),
    );
    base.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'CheckStream',
        effect: Effect.ALLOW,
        // A start checks that a kinesis source's stream exists; the control function reads no record.
        actions: ['kinesis:DescribeStreamSummary'],
        resources: [props.stream.streamArn],
      }),
    );
  }
}
