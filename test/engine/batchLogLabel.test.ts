import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StderrLogger } from '../../lib/local/StderrLogger';
import { StreamingContext } from '../../lib/StreamingContext';
import { type Clock, LogicalClock, SystemClock } from '../../lib/scheduler/Clock';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { batchDateLabel } from '../../lib/ui/static/pageFormat.js';
import { connectInProcess } from '../helpers/connectInProcess';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-log-label-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs one 100 ms batch whose one task fails once, on `clock`; its log lines and its due date, if any. */
async function runFlakyBatch(clock: Clock): Promise<{ lines: string[]; dueAtMs: number | undefined }> {
  const ssc = new StreamingContext({ batchIntervalMs: 100 });
  let calls = 0;
  ssc
    .queueStream([['a']], { partitions: 1 })
    .mapPartitions((records) => {
      if (calls++ === 0) throw new Error('the first call fails');
      return records;
    })
    .collectBatches('out');
  const lines: string[] = [];
  const log = new StderrLogger({ write: (text) => lines.push(text.trimEnd()) });
  connectInProcess(ssc, new LocalFolderStore(join(dir, 'store')), dir, { log });
  const summary = await new JobScheduler(ssc, clock, { name: 'flaky' }).run({ batches: 1 });
  expect(summary.error).toBeUndefined();
  return { lines, dueAtMs: summary.batches[0]?.dueAtMs };
}

/** What each retry line says before ` failed on attempt`: the task and its batch. */
const retriedTasks = (lines: readonly string[]) =>
  lines
    .filter((line) => / failed on attempt 1 of 4 .*; retrying: Error: the first call fails$/.test(line))
    .map((line) => line.split(' failed on attempt')[0]);

describe("the engine's log lines name a batch", () => {
  it('by its stream time and, on the real clock, the date the Streaming UI shows', async () => {
    // given a batch on the real clock, due a second ago so that it runs at once
    // when its task fails once and is retried
    const { lines, dueAtMs } = await runFlakyBatch(new SystemClock(Date.now() - 1000));
    // then the retry line carries the batch's date as the UI writes it (milliseconds, under a 1 s interval)
    expect(dueAtMs).toBeDefined();
    expect(retriedTasks(lines)).toEqual([
      `Task 0 of stage 0 of batch 100 ms (${batchDateLabel(dueAtMs!, 100)} UTC)`,
    ]);
  });

  it('by its stream time alone on the logical clock', async () => {
    // given the same batch on the logical clock (--fast), when its task is retried
    const { lines } = await runFlakyBatch(new LogicalClock());
    // then the retry line has no date
    expect(retriedTasks(lines)).toEqual(['Task 0 of stage 0 of batch 100 ms']);
  });
});
