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
 * and the search, and the engine adds its own cost per batch (input, scheduling, threads), so a tight bound
 * would fail by luck while a factor of 3 still catches a search that is off by an order of magnitude (a wrong
 * unit, a rate per partition taken for a rate per job, a stability rule that never or always holds).
 */
const FACTOR = 3;
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
      { budgetMs: 30_000, trialMs: 4000 },
    );
    // then it found a stable rate, within the stated factor of the truth, and named the busy map's stage,
    // whose time is mostly compute
    expect(found.error).toBeUndefined();
    expect(found.sustainablePerSec).toBeDefined();
    const ratio = found.sustainablePerSec! / truthPerSec;
    expect(ratio, `found ${found.sustainablePerSec}/s, truth ${Math.round(truthPerSec)}/s`).toBeGreaterThan(
      1 / FACTOR,
    );
    expect(ratio, `found ${found.sustainablePerSec}/s, truth ${Math.round(truthPerSec)}/s`).toBeLessThan(
      FACTOR,
    );
    expect(found.bottleneck?.stage).toContain('output 0, job 0, stage 0');
    expect(found.bottleneck?.mostlyIn).toBe('compute');
    // and every real-clock trial carries its verdict and its batches
    const real = found.trials.filter((t) => t.clock === 'system');
    expect(real.length).toBeGreaterThan(0);
    for (const t of real) expect(t.stable === true || t.stable === false).toBe(true);
  }, 120_000);
});
