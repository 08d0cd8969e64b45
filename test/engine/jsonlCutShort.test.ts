import { mkdtemp, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobSource } from '../../lib/job/JobSource';
import { runBatches } from '../../lib/local/LocalRuntime';

/**
 * A jsonl output cut shorter than its checkpointed size by something else (an edit, a disk that lost its end). A
 * restart cut only longer files back, so the next batch's line was appended after the partial one: a line of
 * two halves, and the completed batches' lines it had lost never came back.
 */

/** Four batches, each one line in counts.jsonl. */
const job: JobSource = {
  kind: 'document',
  baseDir: '.',
  document: {
    name: 'cut-short',
    batchIntervalMs: 1000,
    sources: { letters: { type: 'queue', batches: [['a'], ['b'], ['c'], ['d']] } },
    outputs: [{ stream: 'letters', type: 'jsonl', path: 'counts.jsonl' }],
  },
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-cut-short-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a jsonl output cut shorter than its checkpointed size', () => {
  it('is refused on resume, naming the file and both sizes, and left as it is', async () => {
    const storeDir = join(dir, 'store');
    const file = join(dir, 'counts.jsonl');
    // given two batches written, and the file cut by hand in the middle of its second line
    expect((await runBatches(job, 2, { storeDir, outputDir: dir })).error).toBeUndefined();
    const size = (await stat(file)).size;
    await truncate(file, size - 5);
    const cut = await readFile(file, 'utf8');
    // when the job resumes
    const resumed = runBatches(job, 4, { storeDir, outputDir: dir });
    // then it is refused with a sentence naming the file, its size and the checkpointed one, and what to do
    await expect(resumed).rejects.toThrow(
      `the jsonl output ${file} holds ${size - 5} bytes, fewer than the ${size} its checkpoint recorded`,
    );
    await expect(resumed).rejects.toThrow(/put its first \d+ bytes back, or move the file away/);
    // and nothing was appended after the partial line
    expect(await readFile(file, 'utf8')).toBe(cut);
  });

  it('once moved away, is started again with the batches after the checkpoint', async () => {
    const storeDir = join(dir, 'store');
    const file = join(dir, 'counts.jsonl');
    // given two batches written, and the file then moved away
    expect((await runBatches(job, 2, { storeDir, outputDir: dir })).error).toBeUndefined();
    await rm(file);
    // when the job resumes
    const resumed = await runBatches(job, 4, { storeDir, outputDir: dir });
    // then the file holds batches 3 and 4, whole lines
    expect(resumed.error).toBeUndefined();
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).batchTime)).toEqual([3000, 4000]);
  });

  it('that is the dead-letter file is refused as the dead-letter file', async () => {
    // given a job with a malformed record, whose dead letter the first run writes
    const storeDir = join(dir, 'store');
    const deadLetterPath = join(dir, 'letters.jsonl');
    const parsing: JobSource = {
      kind: 'document',
      baseDir: '.',
      document: {
        name: 'cut-letters',
        batchIntervalMs: 1000,
        sources: { lines: { type: 'queue', batches: [['{"n":1}', 'oops'], ['{"n":2}']] } },
        streams: { parsed: { from: 'lines', ops: [{ op: 'map', fn: 'parseJson' }] } },
        outputs: [{ stream: 'parsed', type: 'jsonl', path: 'counts.jsonl' }],
      },
    };
    expect(
      (await runBatches(parsing, 1, { storeDir, outputDir: dir, deadLetterPath })).error,
    ).toBeUndefined();
    const size = (await stat(deadLetterPath)).size;
    await truncate(deadLetterPath, 3);
    // when the job resumes, then it is refused, naming the dead-letter file
    await expect(runBatches(parsing, 2, { storeDir, outputDir: dir, deadLetterPath })).rejects.toThrow(
      `the dead-letter file ${deadLetterPath} holds 3 bytes, fewer than the ${size} its checkpoint recorded`,
    );
  });
});
