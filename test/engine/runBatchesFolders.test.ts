import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';

const jobs = new URL('../helpers/runtimeJobs.ts', import.meta.url).pathname;
const job = (exportName: string) => ({ kind: 'module', path: jobs, exportName }) as const;

let cwd: string;
let workDir: string;
beforeEach(async () => {
  cwd = process.cwd();
  workDir = await mkdtemp(join(tmpdir(), 'sluice-cwd-'));
  process.chdir(workDir);
});
afterEach(async () => {
  process.chdir(cwd);
  await rm(workDir, { recursive: true, force: true });
});

describe('runBatches and the current folder', () => {
  it('writes file outputs and its store into temporary folders, never into the current one', async () => {
    // given a job with a jsonl file output and one with saveAsTextFiles, run from an empty current folder
    const jsonl = await runBatches(job('jsonlFile'), 3);
    const text = await runBatches(job('saveText'), 2, { workers: 0 });
    // then the records are in the results, and the current folder is still empty
    expect(jsonl.error).toBeUndefined();
    expect(jsonl.recordsOf('numbers')).toEqual([[1, 2], [], [3]]);
    expect(text.error).toBeUndefined();
    expect(await readdir(workDir)).toEqual([]);
  });

  it('writes file outputs into outputDir when one is given', async () => {
    const outputDir = join(workDir, 'kept');
    await runBatches(job('jsonlFile'), 3, { outputDir });
    const lines = (await readFile(join(outputDir, 'out', 'numbers.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((line) => JSON.parse(line).records)).toEqual([[1, 2], [], [3]]);
    expect(await readdir(workDir)).toEqual(['kept']);
  });
});
