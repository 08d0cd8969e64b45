import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';

const jobs = new URL('../helpers/threadDeathJobs.ts', import.meta.url).pathname;
const diesOnce = { kind: 'module', path: jobs, exportName: 'diesOnce' } as const;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-death-'));
  process.env.SLUICE_TEST_DEATH_DIR = dir;
});
afterEach(async () => {
  delete process.env.SLUICE_TEST_DEATH_DIR;
  delete process.env.SLUICE_TEST_DEATH_MODE;
  await rm(dir, { recursive: true, force: true });
});

// Before threads were replaced, the pool kept sending tasks to a dead thread and the run hung: the safety
// timeout below is what such a regression hits.
describe('a worker thread that dies', () => {
  for (const mode of ['throw', 'exit', 'oom'] as const) {
    it(`is replaced and its task retried (${mode})`, { timeout: 120_000 }, async () => {
      // given a job whose user code kills its thread once, by an uncaught error, process.exit or out of memory
      process.env.SLUICE_TEST_DEATH_MODE = mode;
      // when two batches run on one worker thread with a small heap
      const result = await runBatches(diesOnce, 2, {
        workers: 1,
        workerResourceLimits: { maxOldGenerationSizeMb: 96 },
      });
      // then the thread did die, and both batches still have every record, the lost task run again
      expect(existsSync(join(dir, 'died'))).toBe(true);
      expect(result.error).toBeUndefined();
      expect(
        result.recordsOf('tens').map((records) => [...records].sort((a, b) => Number(a) - Number(b))),
      ).toEqual([
        [10, 20, 30, 40],
        [50, 60],
      ]);
      expect(result.batches[0]!.taskAttempts).toBeGreaterThan(result.batches[0]!.tasks);
    });
  }

  it('loses its memory copies, which a window reading them all computes again', {
    timeout: 120_000,
  }, async () => {
    // given a 5-batch window over a stream kept in worker memory, and a thread that dies in the fifth batch
    process.env.SLUICE_TEST_DEATH_MODE = 'exit';
    // when five batches run on one worker thread
    const result = await runBatches(
      { kind: 'module', path: jobs, exportName: 'diesUnderAWindow' } as const,
      5,
      { workers: 1 },
    );
    // then the new thread computes the four lost batches again from their lineage, and the window counts them all
    expect(existsSync(join(dir, 'died'))).toBe(true);
    expect(result.error).toBeUndefined();
    expect(result.recordsOf('counts')).toEqual([[1], [2], [3], [4], [6]]);
  });
});
