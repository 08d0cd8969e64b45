import { describe, expect, it } from 'vitest';
import { formatBatchLine, UNSTABLE_AFTER } from '../../lib/local/cli/formatBatchLine';
import { type BatchDelays, DelayTrend } from '../../lib/scheduler/DelayTrend';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';
import { batchDateLabel } from '../../lib/ui/static/pageFormat.js';

/**
 * Batches of a job with `slots` jobs at once (`concurrentJobs`), each taking a processing time drawn evenly from
 * [lo, hi] by a seeded generator: the scheduler's queue in miniature, so the delays are those a run would see.
 */
function queuedBatches(lo: number, hi: number, slots: number, count: number, seed: number): BatchDelays[] {
  let state = seed;
  const random = () => {
    state = (state * 16807) % 2147483647;
    return state / 2147483647;
  };
  const freeAt = new Array<number>(slots).fill(0);
  const batches: BatchDelays[] = [];
  for (let n = 0; n < count; n++) {
    const due = n * INTERVAL;
    freeAt.sort((a, b) => a - b);
    const start = Math.max(due, freeAt[0]!);
    freeAt[0] = start + lo + random() * (hi - lo);
    batches.push({ schedulingDelayMs: start - due, totalDelayMs: freeAt[0] - due });
  }
  return batches;
}

const INTERVAL = 400;

/** The first batch at which the trend reached the unstable mark, or undefined. */
function unstableAt(batches: readonly BatchDelays[]): number | undefined {
  const trend = new DelayTrend(INTERVAL);
  const at = batches.findIndex((b) => trend.observe(b) >= UNSTABLE_AFTER);
  return at < 0 ? undefined : at;
}

describe('DelayTrend', () => {
  it('counts the batches in a row that queued behind others and grew past their predecessors, and restarts', () => {
    const trend = new DelayTrend(1000);
    const runs = [
      { schedulingDelayMs: 0, totalDelayMs: 900 },
      { schedulingDelayMs: 1100, totalDelayMs: 2000 }, // queued, above 900
      { schedulingDelayMs: 1500, totalDelayMs: 2500 }, // queued, above the median of 900 and 2000
      { schedulingDelayMs: 1200, totalDelayMs: 1300 }, // queued, but below the median of 900, 2000 and 2500
      { schedulingDelayMs: 2000, totalDelayMs: 3000 },
      { schedulingDelayMs: 900, totalDelayMs: 3100 }, // above them all, but started within an interval
    ].map((b) => trend.observe(b));
    expect(runs).toEqual([0, 1, 2, 0, 1, 0]);
    expect(trend.growingFor).toBe(0);
  });

  it('stays at zero while batches start within an interval, as with backpressure at its limit', () => {
    const trend = new DelayTrend(1000);
    const delays = [400, 990, 500, 950, 999, 700, 980].map((d) => ({
      schedulingDelayMs: d,
      totalDelayMs: d + 990,
    }));
    expect(delays.map((b) => trend.observe(b))).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  // Before, a batch counted when its delay exceeded the one batch before it: one batch faster than its
  // predecessor restarted the count, so most runs of these overloaded jobs were called stable throughout.
  it.each([
    ['25% over capacity, processing times spread ±40%', 300, 700, 1],
    ['25% over capacity with two jobs at once, whose neighbours finish out of step', 600, 1400, 2],
    ['10% over capacity, processing times spread ±45%', 240, 640, 1],
  ])('calls a job %s unstable within 100 batches, in every run', (_, lo, hi, slots) => {
    for (let seed = 1; seed <= 20; seed++) {
      const batches = queuedBatches(lo, hi, slots, 300, seed * 7919);
      expect(batches.at(-1)!.totalDelayMs).toBeGreaterThan(10 * INTERVAL); // it did fall behind
      expect(unstableAt(batches), `seed ${seed}`).toBeLessThan(100);
    }
  });

  it.each([
    ['at 75% of its capacity, processing times spread ±67%', 100, 500, 1],
    ['at 90% of its capacity with two jobs at once', 400, 1040, 2],
  ])('never calls a job %s unstable over 300 batches', (_, lo, hi, slots) => {
    for (let seed = 1; seed <= 20; seed++) {
      expect(unstableAt(queuedBatches(lo, hi, slots, 300, seed * 7919)), `seed ${seed}`).toBeUndefined();
    }
  });
});

describe('the CLI batch line', () => {
  const info = {
    batchTime: 5000,
    totalDelayMs: 1200,
    schedulingDelayMs: 700,
    processingTimeMs: 500,
  } as BatchInfo;
  const line = (growingFor: number) =>
    formatBatchLine({ ...info, records: 10, tasks: 2, deadLetters: 0 } as BatchInfo, growingFor);

  it('counts records, tasks and dead letters in the singular for one', () => {
    const one = formatBatchLine({ ...info, records: 1, tasks: 1, deadLetters: 1 } as BatchInfo);
    expect(one).toMatch(/, 1 record in, 1 task, .*, 1 dead letter$/);
    expect(line(0)).toMatch(/, 10 records in, 2 tasks, /);
  });

  it('counts the failed attempts of its tasks, retried or not, beside the tasks that succeeded', () => {
    // given a batch whose one task failed on its two attempts, and one whose two tasks succeeded, one on a retry
    const failed = { ...info, records: 2, tasks: 0, taskAttempts: 2, deadLetters: 0, error: 'task 0 failed' };
    const retried = { ...info, records: 2, tasks: 2, taskAttempts: 3, deadLetters: 0 };
    // then their lines say so, and a batch without failures says nothing of attempts
    expect(formatBatchLine(failed as BatchInfo)).toMatch(
      /, 2 records in, 0 tasks, 2 failed attempts, .*; FAILED: /,
    );
    expect(formatBatchLine(retried as BatchInfo)).toMatch(/, 2 tasks, 1 failed attempt, /);
    expect(line(0)).not.toMatch(/attempt/);
  });

  it(`says the configuration is not stable once the total delay has grown ${UNSTABLE_AFTER} batches in a row`, () => {
    expect(line(UNSTABLE_AFTER - 1)).not.toMatch(/stable/);
    expect(line(UNSTABLE_AFTER)).toMatch(
      new RegExp(`total delay has grown ${UNSTABLE_AFTER} batches in a row: not stable$`),
    );
  });

  it('names a batch due on the wall clock by its stream time and the date the Streaming UI shows', () => {
    // given a batch that fell due at 21:40:03.250 UTC, as batches on the real clock do
    const dueAtMs = Date.UTC(2026, 10, 30, 21, 40, 3, 250);
    const due = { ...info, records: 10, tasks: 2, deadLetters: 0, dueAtMs } as BatchInfo;
    // when its line is written at a 1 s and at a 500 ms interval
    const [second, half] = [formatBatchLine(due, 0, 1000), formatBatchLine(due, 0, 500)];
    // then each carries the UI's label of that batch, with milliseconds only under a second
    expect(second).toMatch(/^Batch 5000 ms \(2026\/11\/30 21:40:03 UTC\): total delay 1\.200 s/);
    expect(half).toMatch(/^Batch 5000 ms \(2026\/11\/30 21:40:03\.250 UTC\): total delay/);
    expect(second).toContain(`(${batchDateLabel(dueAtMs, 1000)} UTC)`);
    expect(half).toContain(`(${batchDateLabel(dueAtMs, 500)} UTC)`);
  });

  it('names a batch on the logical clock by its stream time alone', () => {
    // given a batch with no due date (--fast), when its line is written, then it has no date
    expect(line(0)).toMatch(/^Batch 5000 ms: total delay 1\.200 s/);
  });

  it('reports the batch cost where there is one, and the store requests locally', () => {
    const local = formatBatchLine({
      ...info,
      records: 10,
      tasks: 2,
      deadLetters: 0,
      storageRequests: 7,
    } as BatchInfo);
    expect(local).toMatch(/, 7 store requests \(cost: n\/a locally\)$/);
    const cost = { dollars: 0.000123, dollarsPerMillionRecords: 12.3 };
    const aws = formatBatchLine({
      ...info,
      records: 10,
      tasks: 2,
      deadLetters: 0,
      cost,
    } as unknown as BatchInfo);
    expect(aws).toMatch(/, \$0\.000123 \(\$12\.3000 per million records\)$/);
  });
});
