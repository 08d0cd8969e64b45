import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalRuntime, runBatches } from '../../lib/local/LocalRuntime';

const job = {
  kind: 'module',
  path: new URL('../helpers/restartCostJobs.ts', import.meta.url).pathname,
  exportName: 'selfBuiltStreams',
} as const;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-restart-cost-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `before` batches, then restarts and runs 3 more: the restarted run's outputs and the datasets it made. */
async function restartAfter(before: number) {
  const storeDir = join(dir, `store-${before}`);
  const outputDir = join(dir, `out-${before}`);
  const first = await runBatches(job, before, { storeDir, outputDir });
  expect(first.error).toBeUndefined();
  const outputs: Array<{ output: string; batchTime: number; records: unknown[] }> = [];
  const runtime = await LocalRuntime.start(job, {
    workers: 0,
    write: () => {},
    storeDir,
    outputDir,
    clock: 'logical',
    batches: before + 3,
    listeners: [{ onOutput: (e) => outputs.push({ ...e, records: [...e.records] }) }],
  });
  const summary = await runtime.run();
  expect(summary.error).toBeUndefined();
  return { outputs, datasetsMade: runtime.ssc.newDatasetId() };
}

describe('a restart of a job with state and an incremental window', () => {
  it('reads the stored state back instead of building its lineage back to the first batch', async () => {
    // given the same job stopped after 9 and after 61 batches, as far from a checkpoint (every 4 batches)
    // when each restarts and runs 3 more batches
    const early = await restartAfter(9);
    const late = await restartAfter(61);
    // then the restarted runs made as many datasets: none for the batches before the restart, where the state
    // streams built their lineage back to the job's first batch (2-3 datasets a batch and a stream)
    expect(late.datasetsMade).toBe(early.datasetsMade);
    // and the state goes on from the stored one: the same as a run that was never stopped
    const uninterrupted = await runBatches(job, 64, {
      storeDir: join(dir, 'once'),
      outputDir: join(dir, 'o'),
    });
    const sorted = (records: unknown[]) =>
      [...records].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    for (const name of ['totals', 'seen', 'window']) {
      const expected = uninterrupted.outputs
        .filter((o) => o.output === name && o.batchTime > 61_000)
        .map((o) => sorted([...o.records]));
      expect(late.outputs.filter((o) => o.output === name).map((o) => sorted(o.records))).toEqual(expected);
    }
  });
});
