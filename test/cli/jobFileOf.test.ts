import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobFileError } from '../../lib/errors';
import { jobFileOf } from '../../lib/local/cli/jobFileOf';

let dir: string;
let cwd: string;
beforeEach(async () => {
  cwd = process.cwd();
  dir = await mkdtemp(join(tmpdir(), 'sluice-job-file-'));
  process.chdir(dir);
});
afterEach(async () => {
  process.chdir(cwd);
  await rm(dir, { recursive: true, force: true });
});

/** The message `jobFileOf` refuses an argument with. */
async function refusal(argument: string): Promise<string> {
  const error = await jobFileOf(argument).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(JobFileError);
  return (error as Error).message;
}

describe('jobFileOf', () => {
  it('takes a path whose folder holds # as a whole, not as path#export', async () => {
    // given a document in a folder named a#b
    await mkdir(join(dir, 'a#b'));
    await writeFile(join(dir, 'a#b', 'ok.json'), '{}');
    // when the argument names it, then it is that document (it used to import `a`)
    expect(await jobFileOf('a#b/ok.json')).toEqual({ kind: 'document', path: join(dir, 'a#b', 'ok.json') });
  });

  it('splits a module path from its export at the last #', async () => {
    // given a module in a folder named a#b
    await mkdir(join(dir, 'a#b'));
    await writeFile(join(dir, 'a#b', 'job.ts'), '');
    // when the argument names an export, then the path and the export are apart
    expect(await jobFileOf('a#b/job.ts#sessions.daily')).toEqual({
      kind: 'module',
      path: join(dir, 'a#b', 'job.ts'),
      exportName: 'sessions.daily',
    });
  });

  it('reads .json in any case as a document', async () => {
    // given a document whose extension is in capitals
    await writeFile(join(dir, 'OK.JSON'), '{}');
    // then it is a document (it used to be imported: ERR_UNKNOWN_FILE_EXTENSION)
    expect((await jobFileOf('OK.JSON')).kind).toBe('document');
  });

  it('refuses a file of another kind, saying what is expected', async () => {
    await writeFile(join(dir, 'ok.txt'), '{}');
    await writeFile(join(dir, 'JOB.TS'), '');
    expect(await refusal('ok.txt')).toBe(
      `job ok.txt: ${join(dir, 'ok.txt')} is a .txt file; give the path of a job document (.json) or a job ` +
        'module (.ts, .mts, .js, .mjs; path#exportName for a named export)',
    );
    expect(await refusal('JOB.TS')).toMatch(/only by a lower-case extension: rename it to end in \.ts$/);
  });

  it('refuses a path that does not exist, a folder and a device, naming the path', async () => {
    expect(await refusal('nonexist.ts')).toMatch(
      new RegExp(
        `^job nonexist\\.ts: ${join(dir, 'nonexist.ts')} does not exist; give the path of a job document`,
      ),
    );
    expect(await refusal(tmpdir())).toMatch(/ is a folder; give the path of a job document \(\.json\)/);
    expect(await refusal('/dev/null')).toMatch(/\/dev\/null is not a regular file; give the path/);
  });

  it('refuses an export after a document', async () => {
    await writeFile(join(dir, 'job.json'), '{}');
    expect(await refusal('job.json#counts')).toBe(
      'job job.json#counts: a job document has no exports: drop #counts',
    );
  });
});
