import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptCheckpointError } from '../../lib/errors';
import type { JobSource } from '../../lib/job/JobSource';
import { runBatches } from '../../lib/local/LocalRuntime';

/** A queue of two batches, printed. */
const job: JobSource = {
  kind: 'document',
  baseDir: '.',
  document: {
    name: 'damaged',
    batchIntervalMs: 1000,
    sources: { lines: { type: 'queue', batches: [['a'], ['b']] } },
    outputs: [{ stream: 'lines', type: 'print' }],
  },
};

let dir: string;
let storeDir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-corrupt-checkpoint-'));
  storeDir = join(dir, 'store');
  await mkdir(join(storeDir, 'checkpoint'), { recursive: true });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a damaged metadata checkpoint', () => {
  it('is refused with the file and the way to start over, not a SyntaxError', async () => {
    for (const content of ['{"version": 1, "lastCompl', '[]', 'null', '{"version": 1}']) {
      // given a store whose checkpoint was cut short or overwritten by something else
      await writeFile(join(storeDir, 'checkpoint', 'metadata.json'), content);
      // when the job starts on it
      const run = runBatches(job, 2, { storeDir, outputDir: join(dir, 'out') });
      // then it is refused, naming the file and --fresh
      await expect(run).rejects.toThrow(CorruptCheckpointError);
      await expect(run).rejects.toThrow(
        `the checkpoint ${join(storeDir, 'checkpoint', 'metadata.json')} is damaged (`,
      );
      await expect(run).rejects.toThrow(
        /run with --fresh \(or give this run another --store\) to start the job over/,
      );
    }
  });

  it('is refused when a field a restart reads has another type, or a batch time is off the interval', async () => {
    // given the checkpoint of a job that ran its first batch
    expect((await runBatches(job, 1, { storeDir, outputDir: join(dir, 'out') })).error).toBeUndefined();
    const file = join(storeDir, 'checkpoint', 'metadata.json');
    const written = JSON.parse(await readFile(file, 'utf8'));
    for (const [field, value, reason] of [
      ['lastCompletedBatch', 1500, 'its lastCompletedBatch of 1500 is not a batch time'],
      ['lastCompletedBatch', -1000, 'its lastCompletedBatch of -1000 is not a batch time'],
      ['pendingBatches', 'x', 'its pendingBatches is not a list of batch times'],
      ['inputs', null, 'its inputs is not an object of input blocks'],
      ['inputs', { n1: { 1000: null } }, 'its inputs is not an object of input blocks'],
      ['sources', null, 'its sources is not an object'],
      ['stored', [null], 'its stored is not a list of {key, numPartitions}'],
      ['outputs', null, 'its outputs is not an object of file sizes'],
      ['outputs', { 'out.jsonl': -5 }, 'its outputs is not an object of file sizes'],
      ['deadLetters', 'x', 'its deadLetters is not a list of [key, batchTime]'],
      ['rates', { n1: -1 }, 'its rates is not an object of positive numbers of records per second'],
      ['batchIntervalMs', 0, 'its batchIntervalMs is not a positive whole number'],
    ] as const) {
      // when something else changed one field of it
      await writeFile(file, JSON.stringify({ ...written, [field]: value }));
      const run = runBatches(job, 2, { storeDir, outputDir: join(dir, 'out') });
      // then the job is refused with the damaged checkpoint's sentence, where a TypeError stopped it, or a batch
      // time off the interval resumed at 2500 ms without a word
      await expect(run).rejects.toThrow(CorruptCheckpointError);
      await expect(run).rejects.toThrow(`is damaged (${reason}`);
    }
  });

  it('is deleted by --fresh, and the job runs from its first batch', async () => {
    // given a damaged checkpoint
    await writeFile(join(storeDir, 'checkpoint', 'metadata.json'), '{"version": 1, "lastCompl');
    // when the job starts fresh on it, then it runs both batches
    const result = await runBatches(job, 2, { storeDir, outputDir: join(dir, 'out'), fresh: true });
    expect(result.error).toBeUndefined();
    expect(result.recordsOf('lines')).toEqual([['a'], ['b']]);
  });
});
