import { Duration } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { TICK_MS } from '../lib/aws/deploymentContract';

/** Settings of a {@link Watchdog}. */
export interface WatchdogProps {
  /** The coordinator it ticks. */
  readonly coordinator: IFunction;
  /** How often it ticks. Default every minute, EventBridge's finest rate. */
  readonly every?: Duration;
  /** Where ticks EventBridge could not deliver go. */
  readonly failedInvocations: IQueue;
}

/**
 * The scheduled tick that drives the coordinator: each running job whose coordinator is alive is left alone (the
 * job lease is held), and one whose coordinator died (a crash, a timeout before the hand-over) is resumed from its
 * checkpoint. The hand-over keeps batches flowing between ticks; the tick bounds how long a failure can stop them.
 *
 * It also wakes sleeping jobs (see `lib/aws/JobSleep.ts`): a job idle for `idleAfterBatches` batches runs no Lambda,
 * and the tick checks its sources cheaply (per Kinesis shard one GetShardIterator and one GetRecords with Limit 1,
 * after one ListShards; per S3 prefix one listing) and returns at once when nothing waits. So the tick is the one
 * standing cost of a deployment, whatever its jobs: 43,200 coordinator invocations a month (every minute), about
 * $0.01 of requests, plus their duration (a quiet tick takes a few hundred ms: at 1 GB and 0.5 s, $0.36 a month) and
 * their S3 requests (a LIST and a few GETs: about $0.30 a month), at us-east-1 prices of November 2026.
 */
export class Watchdog extends Construct {
  /** The EventBridge rule. */
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: WatchdogProps) {
    super(scope, id);
    this.rule = new Rule(this, 'Tick', {
      description: 'Sluice watchdog: ticks the coordinator, which resumes any running job left without one',
      schedule: Schedule.rate(props.every ?? Duration.millis(TICK_MS)),
      targets: [
        new LambdaFunction(props.coordinator, {
          event: RuleTargetInput.fromObject({ action: 'tick' }),
          deadLetterQueue: props.failedInvocations,
          retryAttempts: 2,
        }),
      ],
    });
  }
}
