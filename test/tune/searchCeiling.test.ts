import { describe, expect, it } from 'vitest';
import type { JobDocument } from '../../lib/job/JobDocument';
import { searchRate } from '../../lib/local/tune/searchRate';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';
import type { TrialRunner } from '../../lib/scheduler/TrialRunner';
import { batchInfo } from '../helpers/batchInfo';

/**
 * The search's bounds, on a model of an engine that processes `capacityPerSec` records a second: each batch's
 * processing is its records over the capacity, and on the real clock a batch that takes longer than the interval
 * delays every later one by the difference. The model stands in for the trials' runtime only; the search and the
 * stability rule are the real ones (the CLI's test runs real trials).
 */
function modelRunner(capacityPerSec: number): TrialRunner {
  return async (config, run) => {
    const batches: BatchInfo[] = [];
    let backlogMs = 0;
    for (let i = 1; i <= run.batches; i++) {
      const records = Math.round((config.ratePerSec * config.intervalMs) / 1000);
      const processingTimeMs = (records / capacityPerSec) * 1000;
      const schedulingDelayMs = run.clock === 'system' ? backlogMs : 0;
      backlogMs = Math.max(0, schedulingDelayMs + processingTimeMs - config.intervalMs);
      batches.push(batch(i * config.intervalMs, records, schedulingDelayMs, processingTimeMs));
    }
    return { batches, stoppedEarly: false };
  };
}

function batch(
  batchTime: number,
  records: number,
  schedulingDelayMs: number,
  processingTimeMs: number,
): BatchInfo {
  return batchInfo({ batchTime, records, schedulingDelayMs, processingTimeMs });
}

/** The search needs a document only for its own runner; the model runner ignores it. */
const job = { sources: {} } as unknown as JobDocument;

async function search(capacityPerSec: number, maxPerSec: number | undefined) {
  return searchRate(
    job,
    '.',
    new Map(),
    { intervalMs: 1000, partitions: 2 },
    {
      budgetMs: 60_000,
      trialMs: 4000,
      runTrial: modelRunner(capacityPerSec),
      ...(maxPerSec !== undefined ? { maxPerSec } : {}),
    },
  );
}

describe('the search below the most a job may be fed', () => {
  it('stops at the ceiling when the job holds there, and says the rate is a floor', async () => {
    // given an engine that could take 5 M records a second, and sources that may make 1 M
    const found = await search(5_000_000, 1_000_000);
    // then no trial went past 1 M, the search stopped at the first real trial that held there, and it reports
    // at least 1 M rather than an error or a rate it never tried
    expect(found.error).toBeUndefined();
    expect(Math.max(...found.trials.map((t) => t.ratePerSec))).toBe(1_000_000);
    expect(found.trials.filter((t) => t.clock === 'system')).toHaveLength(1);
    expect(found).toMatchObject({ sustainablePerSec: 1_000_000, ceilingPerSec: 1_000_000 });
  });

  it('searches as before when the engine is slower than the ceiling', async () => {
    // given an engine that takes 600 000 a second, under the same ceiling
    const found = await search(600_000, 1_000_000);
    // then the rate found is below the capacity, within the search's 5%, and is no floor
    expect(found.trials.every((t) => t.ratePerSec <= 1_000_000)).toBe(true);
    expect(found.sustainablePerSec).toBeLessThanOrEqual(600_000);
    expect(found.sustainablePerSec).toBeGreaterThan(600_000 * 0.9);
    expect(found.ceilingPerSec).toBeUndefined();
  });

  it('without a ceiling, goes past where one would have stopped it', async () => {
    const found = await search(5_000_000, undefined);
    expect(found.sustainablePerSec).toBeGreaterThan(1_000_000);
    expect(found.ceilingPerSec).toBeUndefined();
  });
});
