import { describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../lib/dataset/TaskContext';
import { BatchRun } from '../../lib/scheduler/BatchRun';

/** A dead letter of `record` from a dataset of the batch at 1000 ms. */
function letter(record: string, dataset = 'map#1'): DeadLetter {
  return { batchTime: 1000, dataset, fn: 'f', error: 'bad', record } as DeadLetter;
}

describe('a batch’s dead letters', () => {
  it('are in the order of jobs, stages and partitions, whatever order the tasks finished in', () => {
    // given the tasks of two jobs finishing out of order, a later stage before an earlier one
    const batch = new BatchRun(1000);
    batch.addDeadLetters({ jobId: 1, stageId: 0, partition: 0 }, [letter('job1', 'map#3')]);
    batch.addDeadLetters({ jobId: 0, stageId: 1, partition: 0 }, [letter('reduce', 'reduce#2')]);
    batch.addDeadLetters({ jobId: 0, stageId: 0, partition: 1 }, [letter('y'), letter('z')]);
    batch.addDeadLetters({ jobId: 0, stageId: 0, partition: 0 }, [letter('x')]);
    // then they read as if the tasks had finished in order, each task's own letters as it gave them
    expect(batch.deadLetters.map((l) => l.record)).toEqual(['x', 'y', 'z', 'reduce', 'job1']);
    // and a letter added later takes its place
    batch.addDeadLetters({ jobId: 0, stageId: 0, partition: 2 }, [letter('w')]);
    expect(batch.deadLetters.map((l) => l.record)).toEqual(['x', 'y', 'z', 'w', 'reduce', 'job1']);
  });
});
