import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobDocument } from '../../lib/job/JobDocument';
import { searchRate } from '../../lib/local/tune/searchRate';
import { measureBusyLoopRate, writeBusyLoopJob } from '../helpers/busyLoopJob';

/**
 * The search against a truth the machine itself gives: a busy-loop map of a known cost per record, measured
 * first by calling it directly on every core at once. The rate found must be within a factor of that truth,
 * not within a bound: the machine is shared with other test runs and its load changes between the measurement
 * and the search; the engine adds its own cost per batch (input, scheduling, threads, the driver's share of
 * the cores); the stability rule wants processing below the interval in every judged batch, so the rate found
 * sits below full use; and a search whose budget ends right after a doubling reports the lower end of a 2×
 * bracket. Those together reach 3× on a loaded 2-core machine (seen: 1228/s found against 3748/s), so the
 * factor is 4: a tight bound would fail by luck, while 4× still catches a search that is off by much more (a
 * wrong unit, a rate per partition taken for a rate per job, a stability rule that always holds: seen 4.8×).
 */
const FACTOR = 4;
/** Cost of a record: large enough that the engine's own cost per record is small beside it. */
const MICROS_PER_RECORD = 500;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-tune-search-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('searchRate', () => {
  it(`finds a sustainable rate within ${FACTOR}× of the machine's own rate for a busy-loop job`, async () => {
    // given a job that spins 500 µs on each record, and what the machine does with that function on all cores
    const jobPath = await writeBusyLoopJob(dir, MICROS_PER_RECORD);
    const job = JSON.parse(await readFile(jobPath, 'utf8')) as JobDocument;
    const truthPerSec = await measureBusyLoopRate(dir, 2000);
    // when the search runs for 1 s batches, one partition per core
    const found = await searchRate(
      job,
      dirname(jobPath),
      new Map(),
      { intervalMs: 1000, partitions: availableParallelism() },
      { budgetMs: 45_000, trialMs: 3000 },
    );
    // then it found a stable rate, within the stated factor of the truth, and its slowest stage (the busy map)
    // spends its time mostly computing
    expect(found.error).toBeUndefined();
    expect(found.sustainablePerSec).toBeDefined();
    const ratio = found.sustainablePerSec! / truthPerSec;
    expect(ratio, `found ${found.sustainablePerSec}/s, truth ${Math.round(truthPerSec)}/s`).toBeGreaterThan(
      1 / FACTOR,
    );
    expect(ratio, `found ${found.sustainablePerSec}/s, truth ${Math.round(truthPerSec)}/s`).toBeLessThan(
      FACTOR,
    );
    expect(found.bottleneck?.mostlyIn).toBe('compute');
    // and the search bracketed that rate: some faster trial was judged unstable, so the rate is not just where
    // the budget ran out while every trial passed
    const real = found.trials.filter((t) => t.clock === 'system');
    expect(real.some((t) => t.stable === false && t.ratePerSec > found.sustainablePerSec!)).toBe(true);
  }, 120_000);
});
