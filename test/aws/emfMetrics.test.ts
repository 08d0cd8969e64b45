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
      speculativeTasks: 2,
      speculativeWins: 1,
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
      SpeculativeTasks: 2,
      SpeculativeWins: 1,
    });
  });

  it("carries a failed batch's error, which names the op that failed", () => {
    // given a failed batch
    const error =
      'streams.counts.ops[1] (mapPartitions): task 1 of stage 0 failed 4 time(s); last error: Error: x';
    const info = { batchTime: 1000, speculativeTasks: 0, speculativeWins: 0, error } as BatchInfo;
    // when it becomes a log line
    const line = JSON.parse(emfLine('counts', info, { invokes: 0, coordinatorTasks: 0, delayGrowingFor: 0 }));
    // then the error is there as it is
    expect(line.Error).toBe(error);
  });
});
