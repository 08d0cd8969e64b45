import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JobFileError } from '../../lib/errors';
import { contextFromSource } from '../../lib/job/JobSource';
import { EXIT } from '../../lib/local/cli/exitCodes';
import { reportInvalid } from '../../lib/local/cli/reportInvalid';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-job-source-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

/** What `contextFromSource` rejects with for a module source. */
async function refusal(path: string, exportName?: string): Promise<unknown> {
  return contextFromSource({ kind: 'module', path, ...(exportName ? { exportName } : {}) }).then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('contextFromSource', () => {
  it('refuses a module without the job export as a job file, which the CLI reports in one line', async () => {
    // given a module that exports no job
    const path = join(dir, 'nojob.mjs');
    await writeFile(path, 'export const x = 1;\n');
    // when its default export is asked for
    const error = await refusal(path);
    // then it is refused as a job file naming the module and the export (it was a plain Error: a stack trace
    // and exit code 1 from sluice run and validate)
    expect(error).toBeInstanceOf(JobFileError);
    expect((error as Error).message).toBe(
      `job ${path}: the module has no job export named default; export a job made with defineJob(options, build)`,
    );
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(reportInvalid(error)).toBe(EXIT.invalid);
    expect(stderr).toHaveBeenCalledWith(`${(error as Error).message}\n`);
  });

  it('names the export asked for after #', async () => {
    // given a module whose default export is no job
    const path = join(dir, 'five.mjs');
    await writeFile(path, 'export default 5;\n');
    // when a named export it lacks is asked for, then the refusal names both
    const error = await refusal(path, 'sessions');
    expect(error).toBeInstanceOf(JobFileError);
    expect((error as Error).message).toBe(
      `job ${path}#sessions: the module has no job export named sessions; export a job made with defineJob(options, build)`,
    );
  });
});
