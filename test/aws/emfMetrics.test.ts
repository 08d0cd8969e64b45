import { describe, expect, it } from 'vitest';
import { emfLine } from '../../lib/aws/emfMetrics';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';

describe('the coordinator metrics line', () => {
  it('is CloudWatch embedded metric format, per job and across jobs, with the stability signal', () => {
    // given a batch's info and the coordinator's counters
    const info = {
      batchTime: 3000,
      records: 42,
      schedulingDelayMs: 10,
      processingTimeMs: 250,
      totalDelayMs: 260,
      tasks: 4,
      driverStages: 1,
      storageRequests: 9,
      shuffleBytes: 100,
      deadLetters: 1,
    } as BatchInfo;
    // when it becomes a log line
    const line = JSON.parse(
      emfLine('hashtags', info, { invokes: 3, coordinatorTasks: 1, delayGrowingFor: 7 }),
    );
    // then CloudWatch finds the namespace, both dimension sets and every metric's value beside it
    const directive = line._aws.CloudWatchMetrics[0];
    expect(directive.Namespace).toBe('Sluice');
    expect(directive.Dimensions).toEqual([['Job'], []]);
    const names = directive.Metrics.map((m: { Name: string }) => m.Name);
    expect(names).toEqual(
      expect.arrayContaining([
        'TotalDelay',
        'SchedulingDelay',
        'ProcessingTime',
        'RecordsIn',
        'TotalDelayGrowingFor',
      ]),
    );
    for (const name of names) expect(typeof line[name], name).toBe('number');
    expect(line).toMatchObject({
      Job: 'hashtags',
      BatchTime: 3000,
      TotalDelay: 260,
      TotalDelayGrowingFor: 7,
    });
  });
});
