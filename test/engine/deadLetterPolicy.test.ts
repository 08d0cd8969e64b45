import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobDocument } from '../../lib/job/JobDocument';
import { validateJob } from '../../lib/job/validateJob';
import { runBatches } from '../../lib/local/LocalRuntime';
import { DeadLetterPolicy } from '../../lib/scheduler/DeadLetterPolicy';

/**
 * Lines parsed as JSON, four a batch: batch 1 all good, batch 2 three bad of four (75%), batch 3 one bad (25%).
 * Every batch goes to a jsonl file and to a saveAsTextFiles folder.
 */
function floodJob(deadLetters?: JobDocument['deadLetters']): JobDocument {
  return {
    name: 'flood',
    batchIntervalMs: 1000,
    sources: {
      lines: {
        type: 'queue',
        batches: [
          ['1', '2', '3', '4'],
          ['5', 'x', 'y', 'z'],
          ['6', '7', '8', 'w'],
        ],
        partitions: 2,
      },
    },
    streams: { parsed: { from: 'lines', ops: [{ op: 'map', fn: 'parseJson' }] } },
    outputs: [
      { stream: 'parsed', type: 'jsonl', path: 'out/parsed.jsonl' },
      { stream: 'parsed', type: 'saveAsTextFiles', prefix: 'out/parsed' },
    ],
    ...(deadLetters ? { deadLetters } : {}),
  };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-dead-letter-policy-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const run = (document: JobDocument, batches: number) =>
  runBatches({ kind: 'document', document, baseDir: dir }, batches, {
    storeDir: join(dir, 'store'),
    outputDir: dir,
  });

const tsJobs = new URL('../helpers/deadLetterPolicyJobs.ts', import.meta.url).pathname;

async function jsonlBatches(): Promise<number[]> {
  return jsonlLines('out/parsed.jsonl');
}

async function jsonlLines(path: string): Promise<number[]> {
  const text = await readFile(join(dir, path), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line).batchTime);
}

async function deadLetterLines(): Promise<Array<[number, unknown]>> {
  const text = await readFile(join(dir, 'store/dead-letter.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => [JSON.parse(line).batchTime, JSON.parse(line).record]);
}

async function folders(): Promise<string[]> {
  return (await readdir(join(dir, 'out'))).filter((name) => name.startsWith('parsed-')).sort();
}

describe('a job with a dead-letter policy', () => {
  it('fails a batch above its share with a sentence that says what to change, and keeps nothing of it', async () => {
    // given a job that allows 25% of a batch's records as dead letters, judged from 2 letters
    const job = floodJob({ maxShare: 0.25, minCount: 2 });
    // when three batches are asked for and the second dead-letters 3 of its 4 records
    const result = await run(job, 3);
    // then the second batch fails, naming the share, the threshold, the first reasons and the fields to change
    expect(result.error?.message).toMatch(
      /^batch 2000 failed: 3 dead letters for its 4 records \(75%\), above deadLetters\.maxShare of 25%/,
    );
    expect(result.error?.message).toContain('deadLetters.minCount, 2 letters');
    expect(result.error?.message).toContain('first reasons: streams.parsed.ops[0] (map): SyntaxError');
    expect(result.error?.message).toContain('raise deadLetters.maxShare (or deadLetters.minCount)');
    // and the run stopped there: batch 1 completed, batch 2 failed with its count, batch 3 never ran
    expect(result.batches.map((b) => [b.batchTime, b.deadLetters, b.error !== undefined])).toEqual([
      [1000, 0, false],
      [2000, 3, true],
    ]);
    // and nothing of batch 2 is left: no jsonl line, no folder, no dead letter in the file or to listeners
    expect(await jsonlBatches()).toEqual([1000]);
    expect(await folders()).toEqual(['parsed-1000']);
    expect(await deadLetterLines()).toEqual([]);
    expect(result.deadLetters).toEqual([]);
  });

  it('completes a batch at or under its share, with its dead letters', async () => {
    // given a job that allows 80% of a batch's records as dead letters, judged from 1 letter
    const job = floodJob({ maxShare: 0.8, minCount: 1 });
    // when the three batches run (0%, 75%, 25%)
    const result = await run(job, 3);
    // then every batch completes, and each bad line is one dead letter in the file
    expect(result.error).toBeUndefined();
    expect(await jsonlBatches()).toEqual([1000, 2000, 3000]);
    expect(await deadLetterLines()).toEqual([
      [2000, 'x'],
      [2000, 'y'],
      [2000, 'z'],
      [3000, 'w'],
    ]);
  });

  it('does not judge a batch with fewer dead letters than minCount, whatever its share', async () => {
    // given a policy of 10% that the default minCount (10 letters) holds back
    const job = floodJob({ maxShare: 0.1 });
    // when the batches with 3 and 1 bad records of 4 run
    const result = await run(job, 3);
    // then none fails: 3 letters are no flood
    expect(result.error).toBeUndefined();
    expect(result.batches.map((b) => b.deadLetters)).toEqual([0, 3, 1]);
  });

  it('never fails a batch for its dead letters without a policy', async () => {
    // given a job with no deadLetters field, and a batch whose records are all bad
    const job = floodJob();
    const sources = { lines: { type: 'queue' as const, batches: [['x', 'y', 'z', 'v']], partitions: 2 } };
    // when it runs
    const result = await run({ ...job, sources }, 1);
    // then the batch completes with 4 letters
    expect(result.error).toBeUndefined();
    expect(result.batches.map((b) => b.deadLetters)).toEqual([4]);
    expect(await deadLetterLines()).toHaveLength(4);
  });

  it('runs the failed batch again after the share was raised, and writes its outputs and letters once', async () => {
    // given a run that failed on batch 2 with a share of 25%
    const failed = await run(floodJob({ maxShare: 0.25, minCount: 2 }), 3);
    expect(failed.error?.message).toMatch(/^batch 2000 failed/);
    // when the job is started again on the same store with a share of 80%
    const rerun = await run(floodJob({ maxShare: 0.8, minCount: 2 }), 3);
    // then batches 2 and 3 complete, and every output and dead letter is there once
    expect(rerun.error).toBeUndefined();
    expect(rerun.batches.map((b) => b.batchTime)).toEqual([2000, 3000]);
    expect(await jsonlBatches()).toEqual([1000, 2000, 3000]);
    expect(await folders()).toEqual(['parsed-1000', 'parsed-2000', 'parsed-3000']);
    const parts = await readFile(join(dir, 'out/parsed-2000/part-00000'), 'utf8');
    expect(parts.trim().split('\n')).toEqual(['5']);
    expect(await deadLetterLines()).toEqual([
      [2000, 'x'],
      [2000, 'y'],
      [2000, 'z'],
      [3000, 'w'],
    ]);
  });
});

describe('a TypeScript job with the deadLetters option', () => {
  it('fails the flooded batch the same way, its letters coming from worker threads', async () => {
    // given the flood as a TypeScript job, on two worker threads
    const job = { kind: 'module', path: tsJobs, exportName: 'floodInTypeScript' } as const;
    // when its two batches run
    const result = await runBatches(job, 2, { workers: 2, storeDir: join(dir, 'store'), outputDir: dir });
    // then batch 2 fails, naming the line that called map, and leaves neither its jsonl line nor its letters
    expect(result.error?.message).toMatch(/^batch 2000 failed: 3 dead letters for its 4 records \(75%\)/);
    expect(result.error?.message).toMatch(
      /first reasons: test\/helpers\/deadLetterPolicyJobs\.ts:\d+ \(map\): Error/,
    );
    expect(await jsonlLines('out/numbers.jsonl')).toEqual([1000]);
    expect(await deadLetterLines()).toEqual([]);
  });
});

describe('a batch that fails after an output wrote its folder', () => {
  it('removes the folder, as it removes its jsonl lines', async () => {
    // given a saveAsTextFiles output that completes batch 2 before a later output fails it
    const job = { kind: 'module', path: tsJobs, exportName: 'failsAfterFolder' } as const;
    // when the two batches run
    const result = await runBatches(job, 2, { storeDir: join(dir, 'store'), outputDir: dir });
    // then batch 2 failed and only batch 1's folder is left
    expect(result.error?.message).toMatch(/the second batch breaks/);
    expect((await readdir(join(dir, 'out'))).sort()).toEqual(['numbers-1000']);
  });
});

describe('the deadLetters field', () => {
  it('refuses a share outside 0 to 1 and a minCount below 1, naming the field', () => {
    // given shares and counts out of bounds
    const issues = (deadLetters: unknown) => {
      try {
        validateJob({ ...floodJob(), deadLetters });
        return [];
      } catch (error) {
        return (error as { issues: Array<{ path: string; message: string }> }).issues;
      }
    };
    // then each is refused at its path
    expect(issues({ maxShare: 1.5 })).toEqual([
      expect.objectContaining({
        path: 'deadLetters.maxShare',
        message: expect.stringMatching(/^must be at most 1/),
      }),
    ]);
    expect(issues({ maxShare: 0.1, minCount: 0 })).toEqual([
      expect.objectContaining({ path: 'deadLetters.minCount', message: expect.stringMatching(/1/) }),
    ]);
    expect(issues({ minCount: 5 })).toEqual([
      expect.objectContaining({ path: 'deadLetters.maxShare', message: 'is required' }),
    ]);
    expect(issues({ maxShare: 0.05, minCount: 5 })).toEqual([]);
  });

  it('is checked the same way for a TypeScript job', () => {
    // given the StreamingContext option's rule
    // then a share above 1 or a count that is not whole is refused with the field's name
    expect(() => new DeadLetterPolicy({ maxShare: 2 })).toThrow(
      /deadLetters\.maxShare must be a share from 0 to 1/,
    );
    expect(() => new DeadLetterPolicy({ maxShare: 0.1, minCount: 1.5 })).toThrow(/deadLetters\.minCount/);
  });
});

describe('DeadLetterPolicy.judge', () => {
  const letters = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      batchTime: 1000,
      dataset: 'd',
      fn: 'g/1',
      error: `bad ${i}`,
      record: i,
    }));

  it('fails at more than the share, not at it, and a batch of no records with minCount letters', () => {
    // given a policy of 5% from 2 letters
    const policy = new DeadLetterPolicy({ maxShare: 0.05, minCount: 2 });
    // then 5 letters of 100 records pass, 6 fail, and 2 letters with no record fail
    expect(policy.judge(letters(5), 100, 1000)).toBeUndefined();
    expect(policy.judge(letters(6), 100, 1000)).toMatch(/6 dead letters for its 100 records \(6%\)/);
    expect(policy.judge(letters(2), 0, 1000)).toMatch(/2 dead letters for its 0 records, above/);
    // and it quotes the first three reasons only
    expect(policy.judge(letters(6), 100, 1000)).toContain('first reasons: d: bad 0; d: bad 1; d: bad 2.');
  });

  it('never fails without a share', () => {
    // given no policy
    const policy = new DeadLetterPolicy();
    // then even every record of a batch dead-lettered passes
    expect(policy.judge(letters(1000), 1000, 1000)).toBeUndefined();
  });
});
