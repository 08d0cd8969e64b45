import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobSource } from '../../lib/job/JobSource';
import { runBatches } from '../../lib/local/LocalRuntime';

/**
 * A batch whose jsonl lines cannot be written (a path under a file, a full disk, a file it may not write) stops
 * the run with a sentence naming the file and the reason (`sluice run` says it and exits 1), where `sluice run` died
 * on the bare `EISDIR` of an unhandled rejection's stack trace. No checkpoint follows it, so a rerun writes every
 * batch's lines once. (A folder at the path itself is refused before the run: see deadLetterWriteFailure.test.ts.)
 */

/** Three batches, each written to two jsonl files. */
const job: JobSource = {
  kind: 'document',
  baseDir: '.',
  document: {
    name: 'unwritable',
    batchIntervalMs: 1000,
    sources: { letters: { type: 'queue', batches: [['a'], ['b'], ['c']] } },
    outputs: [
      { stream: 'letters', type: 'jsonl', path: 'first.jsonl' },
      { stream: 'letters', type: 'jsonl', path: 'sub/second', name: 'second' },
    ],
  },
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-output-write-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const batchTimes = async (file: string) =>
  (await readFile(join(dir, 'out', file), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line).batchTime);

describe('a jsonl output that cannot be written', () => {
  it('fails its batch with the file and the reason, and a rerun writes every line once', async () => {
    // given a file where the second output's folder should be
    await mkdir(join(dir, 'out'), { recursive: true });
    await writeFile(join(dir, 'out', 'sub'), 'not a folder\n');
    const options = { storeDir: join(dir, 'store'), outputDir: join(dir, 'out') };
    // when the job runs, then it stops at the first batch, naming the file and what becomes of the batch
    await expect(runBatches(job, 3, options)).rejects.toThrow(
      new RegExp(
        `^batch 1000 ran, but its lines could not be appended to the jsonl output ${join(dir, 'out', 'sub', 'second')}: EEXIST.*; it is not counted as done, and the next run writes it again$`,
      ),
    );
    // when the file is gone and the job runs again on the same store
    await rm(join(dir, 'out', 'sub'));
    const rerun = await runBatches(job, 3, options);
    // then every batch's line is in each file once, the first file's line of batch 1000 included
    expect(rerun.error).toBeUndefined();
    expect(await batchTimes('first.jsonl')).toEqual([1000, 2000, 3000]);
    expect(await batchTimes('sub/second')).toEqual([1000, 2000, 3000]);
  });
});
