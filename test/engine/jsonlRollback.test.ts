import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';

const jobs = new URL('../helpers/rollbackJobs.ts', import.meta.url).pathname;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-rollback-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a failed batch', () => {
  it('rolls back what its earlier outputs appended to jsonl files at once', async () => {
    // given a job whose jsonl output appends each batch's line before a second output fails in batch 2
    const job = { kind: 'module', path: jobs, exportName: 'failsAfterJsonl' } as const;
    // when two batches run and the second fails
    const result = await runBatches(job, 2, { outputDir: dir });
    // then the run reports the failure, and the file holds the first batch's line only, before any restart
    expect(result.error?.message).toMatch(/the second batch breaks/);
    const lines = (await readFile(join(dir, 'out/numbers.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual([{ output: 'numbers', batchTime: 1000, records: [1] }]);
  });
});
