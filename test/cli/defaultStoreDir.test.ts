import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobValidationError } from '../../lib/errors';
import { defaultStoreDir } from '../../lib/local/defaultStoreDir';
import { runBatches } from '../../lib/local/LocalRuntime';

describe('defaultStoreDir', () => {
  it("names a module job's store after its whole file name and export", () => {
    // given a module and a named export, when its store is named, then it is .sluice/<file>-<export>
    expect(defaultStoreDir({ kind: 'module', path: '/jobs/clicks.ts', exportName: 'sessions' })).toBe(
      '.sluice/clicks.ts-sessions',
    );
  });

  it('gives two modules of one base name two stores', () => {
    // given job.ts and job.mjs in one folder, when their stores are named, then they differ
    expect(defaultStoreDir({ kind: 'module', path: '/jobs/job.ts' })).toBe('.sluice/job.ts');
    expect(defaultStoreDir({ kind: 'module', path: '/jobs/job.mjs' })).toBe('.sluice/job.mjs');
  });

  it('keeps a long file name and export within a folder name the file system takes', () => {
    // given a module file of 250 characters (a legal file name) and two long exports that differ at the end
    const path = `/jobs/${'m'.repeat(250)}.ts`;
    const first = defaultStoreDir({ kind: 'module', path, exportName: `${'e'.repeat(120)}1` });
    const second = defaultStoreDir({ kind: 'module', path, exportName: `${'e'.repeat(120)}2` });
    // then each folder name has at most 100 characters (not ENAMETOOLONG), and the two stay apart
    expect(basename(first).length).toBeLessThanOrEqual(100);
    expect(basename(second).length).toBeLessThanOrEqual(100);
    expect(first).not.toBe(second);
    expect(basename(first)).toMatch(/^m{91}-[0-9a-f]{8}$/);
  });

  it('names a store for a document that is not an object, which the run then refuses in words', async () => {
    // given a job file that holds `null`, as `sluice run` reads it
    const job = { kind: 'document', document: null, baseDir: '.' } as const;
    // when its store is named, then it is the default job's, not a TypeError with a stack trace
    expect(defaultStoreDir(job)).toBe('.sluice/job');
    // and the run, on that default store, refuses the document at its root before it makes the store
    await expect(runBatches(job, 1)).rejects.toThrow(
      new JobValidationError([{ path: '', message: 'must be an object', value: null }]),
    );
  });
});
