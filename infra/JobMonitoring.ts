import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IWidget,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE } from '../lib/aws/deploymentContract';

/** Settings of a {@link JobMonitoring}. */
export interface JobMonitoringProps {
  /** The dashboard's name. */
  readonly dashboardName: string;
  /** Batches in a row of growing total delay that make the configuration unstable and raise the alarm. Default 10. */
  readonly unstableAfterBatches?: number;
  /** The functions whose errors, throttles and durations are charted. Default: none. */
  readonly functions?: readonly IFunction[];
  /** The queue of failed asynchronous invocations, charted. */
  readonly failedInvocations: IQueue;
}

/**
 * A dashboard of every job's batch metrics, and the alarm for an unstable configuration. The coordinator writes one
 * embedded-metric log line per batch; the charts find the jobs by a search over the `Job` dimension, so a new job
 * appears without redeploying. The alarm watches the stability signal across jobs: the number of batches in a row
 * whose total delay grew (`TotalDelayGrowingFor`), which stays near zero for a stable configuration.
 */
export class JobMonitoring extends Construct {
  /** The dashboard. */
  readonly dashboard: Dashboard;
  /** Raised when some job's total delay has grown for `unstableAfterBatches` batches in a row. */
  readonly unstableAlarm: Alarm;

  constructor(scope: Construct, id: string, props: JobMonitoringProps) {
    super(scope, id);
    const unstableAfter = props.unstableAfterBatches ?? 10;
    const growing = new Metric({
      namespace: METRICS_NAMESPACE,
      metricName: METRIC.delayGrowingFor,
      statistic: 'Maximum',
      period: Duration.minutes(1),
    });
    this.unstableAlarm = new Alarm(this, 'Unstable', {
      alarmDescription: `A Sluice job's total delay grew for ${unstableAfter} batches in a row: batches arrive faster than they are processed. Raise the batch interval or the worker concurrency/memory, or lower the input rate (see the README).`,
      metric: growing,
      threshold: unstableAfter,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const perJob = (metric: string, stat: string, label: string) =>
      new MathExpression({
        expression: `SEARCH('{${METRICS_NAMESPACE},Job} MetricName="${metric}"', '${stat}', 60)`,
        label,
        usingMetrics: {},
        period: Duration.minutes(1),
      });
    const widgets: IWidget[][] = [
      [
        new TextWidget({
          markdown:
            '**Stability first:** the total delay must stay flat; if it grows batch after batch (the right chart counts the batches in a row), the configuration is not stable. **Then latency:** lower the batch interval while it stays stable.',
          width: 24,
          height: 2,
        }),
      ],
      [
        new GraphWidget({
          title: 'Total delay per job (ms, max)',
          left: [perJob(METRIC.totalDelay, 'Maximum', 'total delay')],
          width: 8,
        }),
        new GraphWidget({
          title: 'Scheduling delay and processing time (ms, max)',
          left: [
            perJob(METRIC.schedulingDelay, 'Maximum', 'scheduling'),
            perJob(METRIC.processingTime, 'Maximum', 'processing'),
          ],
          width: 8,
        }),
        new GraphWidget({
          title: 'Batches in a row of growing total delay',
          left: [perJob(METRIC.delayGrowingFor, 'Maximum', 'growing for')],
          leftAnnotations: [{ value: unstableAfter, label: 'unstable' }],
          width: 8,
        }),
      ],
      [
        new GraphWidget({
          title: 'Records in (per minute)',
          left: [perJob('RecordsIn', 'Sum', 'records')],
          width: 8,
        }),
        new GraphWidget({
          title: 'Tasks, worker invocations, storage requests (per minute)',
          left: [
            perJob('Tasks', 'Sum', 'tasks'),
            perJob('Invokes', 'Sum', 'invokes'),
            perJob('StorageRequests', 'Sum', 'S3 requests'),
          ],
          width: 8,
        }),
        new GraphWidget({
          title: 'Dead letters and failed async invocations',
          left: [perJob('DeadLetters', 'Sum', 'dead letters')],
          right: [props.failedInvocations.metricApproximateNumberOfMessagesVisible()],
          width: 8,
        }),
      ],
      // The cost report of each batch (lib/aws/batchCost.ts): dollars at the coordinator's prices, and the usage
      // they come from. A job asleep writes no line, so its charts show nothing: it costs nothing.
      [
        new GraphWidget({
          title: 'Cost, US dollars (per minute)',
          left: [perJob('CostDollars', 'Sum', 'dollars')],
          width: 8,
        }),
        new GraphWidget({
          title: 'Lambda GB-seconds and invocations (per minute)',
          left: [
            perJob('WorkerGbSeconds', 'Sum', 'worker GB-s'),
            perJob('CoordinatorGbSeconds', 'Sum', 'coordinator GB-s'),
          ],
          right: [
            perJob('WorkerInvocations', 'Sum', 'worker invocations'),
            perJob('CoordinatorInvocations', 'Sum', 'coordinator invocations'),
          ],
          width: 8,
        }),
        new GraphWidget({
          title: 'S3 requests by billing class, Kinesis GetRecords (per minute)',
          left: [
            perJob('S3WriteRequests', 'Sum', 'S3 PUT/COPY/POST/LIST'),
            perJob('S3ReadRequests', 'Sum', 'S3 GET'),
            perJob('KinesisGetRecords', 'Sum', 'GetRecords'),
          ],
          width: 8,
        }),
      ],
    ];
    const functions = props.functions ?? [];
    if (functions.length > 0) {
      widgets.push([
        new GraphWidget({
          title: 'Function errors and throttles',
          left: functions.flatMap((f) => [f.metricErrors(), f.metricThrottles()]),
          width: 12,
        }),
        new GraphWidget({
          title: 'Function duration (p99)',
          left: functions.map((f) => f.metricDuration({ statistic: 'p99' })),
          width: 12,
        }),
      ]);
    }
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      widgets,
    });
  }
}
