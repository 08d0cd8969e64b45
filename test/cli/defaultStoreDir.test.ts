import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultStoreDir } from '../../lib/local/defaultStoreDir';

describe('defaultStoreDir', () => {
  it("names a module job's store after its file and export", () => {
    // given a module and a named export, when its store is named, then it is .sluice/<file>-<export>
    expect(defaultStoreDir({ kind: 'module', path: '/jobs/clicks.ts', exportName: 'sessions' })).toBe(
      '.sluice/clicks-sessions',
    );
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
});
