import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { JobModuleFile } from '../lib/job/jobModuleFiles';
import { ControlFunction } from './ControlFunction';
import { CoordinatorFunction } from './CoordinatorFunction';
import { DataBucket } from './DataBucket';
import { InputStream } from './InputStream';
import { JobMonitoring } from './JobMonitoring';
import { Watchdog } from './Watchdog';
import { WorkerFunction } from './WorkerFunction';

/** Settings of a {@link SluiceStack}; `stackContext.ts` reads them from `cdk.json` and `-c` options. */
export interface SluiceStackProps extends StackProps {
  /** Import this Kinesis stream by name instead of creating one. Default: create one. */
  readonly existingStreamName?: string;
  /** Import this Kinesis stream by ARN instead of creating one. Default: create one. */
  readonly existingStreamArn?: string;
  /** Shards of the created stream. Default 2. */
  readonly shards?: number;
  /**
   * Deploy the coordinator and worker functions and the watchdog tick. Default true. False leaves out exactly
   * those, for an emulator that cannot run Lambda (LocalStack without Docker); everything else deploys.
   */
  readonly withFunctions?: boolean;
  /** Worker memory in MB. Default 1769 (one vCPU). */
  readonly workerMemoryMb?: number;
  /** Workers running at once, reserved for the worker function. Default 20. */
  readonly workerConcurrency?: number;
  /** Coordinator memory in MB. Default 1024. */
  readonly coordinatorMemoryMb?: number;
  /** How long a coordinator invocation drives batches before handing over. Default 5 minutes. */
  readonly coordinatorTimeout?: Duration;
  /** Batches in a row of growing total delay that raise the unstable alarm. Default 10. */
  readonly unstableAfterBatches?: number;
  /** How long function logs are kept. Default one week. */
  readonly logRetention?: RetentionDays;
  /** Days after which temporary data left by a crash expires. Default 1. */
  readonly temporaryDataDays?: number;
  /** Keep the bucket and its data when the stack is deleted. Default true. */
  readonly retainData?: boolean;
  /** Days the bucket keeps an overwritten or deleted object's previous version. Default 7. */
  readonly noncurrentVersionDays?: number;
  /** Control function executions at once, reserved for it. Default 2. */
  readonly controlConcurrency?: number;
  /**
   * The user's job modules and `functions` modules, bundled into the control, coordinator and worker functions;
   * a job document names one by its file name (`findJobModules` reads a folder or a list). Default: none.
   */
  readonly jobModules?: readonly JobModuleFile[];
}

/**
 * Sluice on AWS: the bucket, the input stream, the control, coordinator and worker functions, the watchdog tick, the queue
 * of failed asynchronous invocations, and the dashboard with the stability alarm.
 */
export class SluiceStack extends Stack {
  readonly bucket: DataBucket;
  readonly input: InputStream;
  readonly coordinator?: CoordinatorFunction;
  readonly worker?: WorkerFunction;
  readonly control?: ControlFunction;
  readonly monitoring: JobMonitoring;

  constructor(scope: Construct, id: string, props: SluiceStackProps = {}) {
    super(scope, id, props);
    this.bucket = new DataBucket(this, 'Data', {
      ...(props.temporaryDataDays !== undefined ? { temporaryDataDays: props.temporaryDataDays } : {}),
      ...(props.retainData !== undefined ? { retain: props.retainData } : {}),
      ...(props.noncurrentVersionDays !== undefined
        ? { noncurrentVersionDays: props.noncurrentVersionDays }
        : {}),
    });
    this.input = new InputStream(this, 'Input', {
      ...(props.existingStreamName !== undefined ? { existingStreamName: props.existingStreamName } : {}),
      ...(props.existingStreamArn !== undefined ? { existingStreamArn: props.existingStreamArn } : {}),
      ...(props.shards !== undefined ? { shards: props.shards } : {}),
    });
    const failedInvocations = new Queue(this, 'FailedInvocations', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    if (props.withFunctions ?? true) {
      const logs = {
        ...(props.logRetention !== undefined ? { logRetention: props.logRetention } : {}),
        ...(props.jobModules !== undefined ? { jobModules: props.jobModules } : {}),
      };
      this.worker = new WorkerFunction(this, 'Worker', {
        bucket: this.bucket.bucket,
        stream: this.input.stream,
        ...(props.workerMemoryMb !== undefined ? { memoryMb: props.workerMemoryMb } : {}),
        ...(props.workerConcurrency !== undefined ? { concurrency: props.workerConcurrency } : {}),
        ...logs,
      });
      this.coordinator = new CoordinatorFunction(this, 'Coordinator', {
        bucket: this.bucket.bucket,
        stream: this.input.stream,
        worker: this.worker,
        failedInvocations,
        ...(props.coordinatorMemoryMb !== undefined ? { memoryMb: props.coordinatorMemoryMb } : {}),
        ...(props.coordinatorTimeout !== undefined ? { timeout: props.coordinatorTimeout } : {}),
        ...logs,
      });
      this.control = new ControlFunction(this, 'Control', {
        bucket: this.bucket.bucket,
        stream: this.input.stream,
        coordinator: this.coordinator,
        ...(props.controlConcurrency !== undefined ? { concurrency: props.controlConcurrency } : {}),
        ...logs,
      });
      new Watchdog(this, 'Watchdog', { coordinator: this.coordinator.fn, failedInvocations });
      new CfnOutput(this, 'ControlFunctionName', { value: this.control.fn.functionName });
      new CfnOutput(this, 'CoordinatorFunctionName', { value: this.coordinator.fn.functionName });
      new CfnOutput(this, 'WorkerFunctionName', { value: this.worker.fn.functionName });
    }
    this.monitoring = new JobMonitoring(this, 'Monitoring', {
      dashboardName: `${this.stackName}-jobs`,
      failedInvocations,
      ...(props.unstableAfterBatches !== undefined
        ? { unstableAfterBatches: props.unstableAfterBatches }
        : {}),
      functions: [this.control?.fn, this.coordinator?.fn, this.worker?.fn].filter(
        (f): f is IFunction => f !== undefined,
      ),
    });
    new CfnOutput(this, 'BucketName', { value: this.bucket.bucket.bucketName });
    new CfnOutput(this, 'StreamName', { value: this.input.stream.streamName });
    new CfnOutput(this, 'FailedInvocationsQueue', { value: failedInvocations.queueUrl });
  }
}
