import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localJobIssues } from '../../lib/local/localJobChecks';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-local-issues-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A job with one static textFile dataset at `path`, unioned into its stream. */
function jobWithTextFile(path: string) {
  return {
    name: 'static-file',
    batchIntervalMs: 1000,
    sources: { lines: { type: 'queue', batches: [['a']] } },
    datasets: { spam: { type: 'textFile', path } },
    streams: { all: { from: 'lines', ops: [{ op: 'union', with: 'spam' }] } },
    outputs: [{ stream: 'all', type: 'print' }],
  };
}

describe('a static textFile dataset is checked before the run', () => {
  it('accepts a regular file, relative to the job file', async () => {
    await writeFile(join(dir, 'spam.txt'), 'x\n');
    expect(localJobIssues(jobWithTextFile('spam.txt'), dir)).toEqual([]);
  });

  it('refuses a missing file, a folder, a device and an s3:// URL at the path of the field', async () => {
    // given a folder where the file should be
    await mkdir(join(dir, 'folder'));
    const cases: Array<[string, RegExp]> = [
      ['missing.txt', /^the file .*missing\.txt does not exist \(the path is relative to the job file\)$/],
      ['folder', /which is not a regular file: a textFile dataset reads a file$/],
      ['/dev/zero', /^names \/dev\/zero, which is not a regular file/],
      ['s3://bucket/spam.txt', /^is an s3:\/\/ URL, which only the serverless runtime reads/],
    ];
    for (const [path, message] of cases) {
      // when each is checked
      const issues = localJobIssues(jobWithTextFile(path), dir);
      // then one issue names the field and says what to fix
      expect(issues.map((i) => i.path)).toEqual(['datasets.spam.path']);
      expect(issues[0]!.message).toMatch(message);
    }
  });
});
