import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSluice } from '../helpers/sluiceProcess';

/**
 * A `sluice run` process killed with SIGKILL while a job persists a dataset inside `transform` in the block store:
 * the rerun computes each batch's dataset for its batch, never reading the blocks the killed process stored for
 * another (dataset ids are counted per process, and a rerun used to give batch 3's dataset the id of batch 1's).
 */

const job = join(new URL('../..', import.meta.url).pathname, 'test/fixtures/bodyPersistJob.ts');
const args = ['run', job, '--fast', '--batches', '5', '--store', 'store', '--quiet'];

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
