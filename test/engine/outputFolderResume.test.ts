import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobSource } from '../../lib/job/JobSource';
import { runBatches } from '../../lib/local/LocalRuntime';

/**
 * A job resumed with another output folder (`--out`). The checkpoint held each jsonl file's size under the
 * output's own path, `counts.jsonl`, so the restart cut the file of that name in the new folder, another run's
 * output, to the size the old one had: in the middle of a line, every line after it gone.
 */

/** Four batches, each one line in counts.jsonl. */
const job: JobSource = {
  kind: 'document',
  baseDir: '.',
  document: {
    name: 'moved-out',
    batchIntervalMs: 1000,
    sources: { letters: { type: 'queue', batches: [['a'], ['b'], ['c'], ['d']] } },
    outputs: [{ stream: 'letters', type: 'jsonl', path: 'counts.jsonl' }],
  },
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-moved-out-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lines = async (folder: string) =>
  (await readFile(join(dir, folder, 'counts.jsonl'), 'utf8')).split('\n');

describe('a job resumed with another output folder', () => {
  it("leaves a file of the same name there whole, and appends the resumed batches' lines", async () => {
    const storeDir = join(dir, 'store');
    // given two batches written to first/counts.jsonl
    expect((await runBatches(job, 2, { storeDir, outputDir: join(dir, 'first') })).error).toBeUndefined();
    // and, in another folder, a longer counts.jsonl that another run wrote
    const others = Array.from({ length: 10 }, (_, i) => JSON.stringify({ other: i }));
    await mkdir(join(dir, 'second'));
    await writeFile(join(dir, 'second', 'counts.jsonl'), `${others.join('\n')}\n`);
    // when the job resumes with its output in that folder
    const resumed = await runBatches(job, 4, { storeDir, outputDir: join(dir, 'second') });
    // then that file keeps its lines, and batches 3 and 4 follow them; the first folder keeps batches 1 and 2
    expect(resumed.error).toBeUndefined();
    const second = await lines('second');
    expect(second.slice(0, 10)).toEqual(others);
    expect(second.slice(10).map((line) => line && JSON.parse(line).batchTime)).toEqual([3000, 4000, '']);
    expect((await lines('first')).map((line) => line && JSON.parse(line).batchTime)).toEqual([
      1000,
      2000,
      '',
    ]);
  });
});
