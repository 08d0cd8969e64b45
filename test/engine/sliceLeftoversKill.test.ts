import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSluice } from '../helpers/sluiceProcess';

/**
 * The blocks a `slice` computes again for a forgotten batch (`input/<stream>/<batchTime>-<run>-<n>/`) are deleted
 * when the batch is forgotten again or the run ends; a run killed with SIGKILL left them in the store for good, as
 * no checkpoint names them and no later run knew them.
 */

const root = new URL('../..', import.meta.url).pathname;
const args = [
  'run',
  `${join(root, 'test/helpers/sliceJobs.ts')}#sliceForgottenQueue`,
  '--fast',
  '--batches',
  '5',
  '--store',
  'store',
  '--quiet',
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-slice-kill-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The folders of recomputed blocks in the store, as `<stream>/<folder>`. */
async function recomputedFolders(): Promise<string[]> {
  const input = join(dir, 'store/input');
  const folders: string[] = [];
  for (const stream of await readdir(input).catch(() => [])) {
    for (const folder of await readdir(join(input, stream)))
      if (/^\d+-[0-9a-f]{8}-\d+$/.test(folder)) folders.push(`${stream}/${folder}`);
  }
  return folders.sort();
}

describe("a run killed while a slice's recomputed blocks are in the store", () => {
  it('leaves them to the next run on the store, which deletes them as it starts', async () => {
    // given a job slicing three batches of a queue, which remembers only its newest, killed after batch 3's jobs, before its checkpoint
    await mkdir(dir, { recursive: true });
    expect((await runSluice(args, dir, 'checkpoint:3000')).signal).toBe('SIGKILL');
    const left = await recomputedFolders();
    expect(left.length).toBeGreaterThan(0);
    // when the job is started again on the same store and runs to its end
    const resumed = await runSluice(args, dir);
    // then none of the killed run's recomputed blocks is left, nor any of its own
    expect(resumed.code).toBe(0);
    expect(await recomputedFolders()).toEqual([]);
  });
});
