import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSluice } from '../helpers/sluiceProcess';

/**
 * A `sluice run` process killed with SIGKILL while a job persists a dataset inside `transform` in the block store:
 * the rerun computes each batch's dataset for its batch, never reading the blocks the killed process stored for
 * another (dataset ids are counted per process, and a rerun used to give batch 3's dataset the id of batch 1's).
 */

const fixtures = join(new URL('../..', import.meta.url).pathname, 'test/fixtures');
const args = [
  'run',
  join(fixtures, 'bodyPersistJob.ts'),
  '--fast',
  '--batches',
  '5',
  '--store',
  'store',
  '--quiet',
];

let base: string;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'sluice-body-kill-'));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

/** The run's jsonl lines and its dead letters' records. */
async function outputsOf(dir: string) {
  const numbers = (await readFile(join(dir, 'out/numbers.jsonl'), 'utf8')).trim().split('\n');
  // No file when no batch wrote a letter.
  const letters = (await readFile(join(dir, 'store/dead-letter.jsonl'), 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { record: unknown }).record);
  return { numbers, letters };
}

describe('a job persisting inside transform, killed with kill -9', () => {
  it('resumes with every batch its own numbers and each malformed line one dead letter', async () => {
    // given an uninterrupted run
    const reference = join(base, 'reference');
    await mkdir(reference, { recursive: true });
    expect((await runSluice(args, reference)).code).toBe(0);
    // and a run killed in batch 3, after an output
    const dir = join(base, 'killed');
    await mkdir(dir, { recursive: true });
    expect((await runSluice(args, dir, 'output:3000')).signal).toBe('SIGKILL');
    // when it is started again on the same store
    const resumed = await runSluice(args, dir);
    // then its outputs are the uninterrupted run's
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/Resuming from the checkpoint/);
    const expected = await outputsOf(reference);
    expect(expected.letters).toEqual(['oops']);
    expect(await outputsOf(dir)).toEqual(expected);
  }, 60_000);
});

/** The persisted datasets in a run's store (`n2.0@3000`: the first a body of stream n2 persisted in batch 3000). */
async function persistedIn(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'store/persist')).catch(() => [] as string[])).sort();
}

describe('a job persisting inside transform and foreachRDD, killed after a checkpoint, before its cleanup', () => {
  it('deletes on restart what that cleanup would have deleted, and keeps nothing the run before left', async () => {
    const cleanupArgs = ['run', join(fixtures, 'bodyPersistCleanupJob.ts'), ...args.slice(2)];
    // given an uninterrupted run, which leaves no persisted dataset once done but its last batch's transform
    // result, which its stream remembers for its slide (as Spark's does; an output remembers no batch)
    const reference = join(base, 'cleanup-reference');
    await mkdir(reference, { recursive: true });
    expect((await runSluice(cleanupArgs, reference)).code).toBe(0);
    expect(await persistedIn(reference)).toEqual(['n2.0@5000']);
    // and a run killed once batch 3's checkpoint is written, which lists what its bodies persisted, before the
    // cleanup that deletes it
    const dir = join(base, 'cleanup-killed');
    await mkdir(dir, { recursive: true });
    expect((await runSluice(cleanupArgs, dir, 'cleanup:3000')).signal).toBe('SIGKILL');
    const left = await persistedIn(dir);
    expect(left.filter((key) => /^n\d+\.\d+@3000$/.test(key)).length).toBeGreaterThan(0);
    // when it is started again on the same store
    const resumed = await runSluice(cleanupArgs, dir);
    // then it ends with the uninterrupted run's store, and its checkpoint lists none of what the first one left
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/Resuming from the checkpoint/);
    expect(await persistedIn(dir)).toEqual(['n2.0@5000']);
    const checkpoint = await readFile(join(dir, 'store/checkpoint/metadata.json'), 'utf8');
    for (const key of left) expect(checkpoint).not.toContain(`"${key}"`);
  }, 60_000);
});
