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
  it('writes none of its jsonl lines, while the batch before it has its line', async () => {
    // given a job whose jsonl output runs before a second output fails in batch 2
    const job = { kind: 'module', path: jobs, exportName: 'failsAfterJsonl' } as const;
    // when two batches run and the second fails
    const result = await runBatches(job, 2, { outputDir: dir });
    // then the run reports the failure, and the file holds the first batch's line only
    expect(result.error?.message).toMatch(/the second batch breaks/);
    const lines = (await readFile(join(dir, 'out/numbers.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual([{ output: 'numbers', batchTime: 1000, records: [1] }]);
  });
});

describe('a checkpoint written while a batch runs', () => {
  it("records the jsonl sizes of the batches it calls completed, not a running batch's line", async () => {
    // given batch 1 held after its jsonl output ran, until batch 2's generation wrote a checkpoint
    const job = { kind: 'module', path: jobs, exportName: 'slowAfterJsonl' } as const;
    // when three batches run on the system clock
    const result = await runBatches(job, 3, { outputDir: dir, clock: 'system' });
    // then that checkpoint, which still calls batch 1 pending, records the file without batch 1's line: a crash
    // then cuts the file back to it and the rerun writes the line once
    expect(result.error).toBeUndefined();
    expect(result.recordsOf('seen')).toEqual([[{ lastCompletedBatch: 0, size: 0 }]]);
    const lines = (await readFile(join(dir, 'out/numbers.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).batchTime)).toEqual([100, 200, 300]);
  });
});
