import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';

/**
 * On Lambda a task cannot be sent back to the container that holds a persisted partition in memory, so the
 * serverless runtime backs memory levels with the block store. Locally the same switch shows what it does.
 */

const folders: string[] = [];
afterEach(async () => {
  await Promise.all(folders.splice(0).map((f) => rm(f, { recursive: true, force: true })));
});

const document = {
  name: 'windowed',
  batchIntervalMs: 1000,
  sources: { words: { type: 'queue', batches: [['a', 'b'], ['a'], ['c', 'a'], ['b']] } },
  streams: {
    counts: { from: 'words', ops: [{ op: 'countByValueAndWindow', windowMs: 3000, slideMs: 1000 }] },
  },
  outputs: [{ stream: 'counts', type: 'print' }],
};

async function run(memoryBackedByStore: boolean) {
  const storeDir = await mkdtemp(join(tmpdir(), 'sluice-backed-'));
  folders.push(storeDir);
  const result = await runBatches({ kind: 'document', document, baseDir: storeDir }, 4, {
    storeDir,
    workers: 2,
    memoryBackedByStore,
  });
  const persisted = await readdir(join(storeDir, 'persist')).catch(() => [] as string[]);
  const sorted = result.recordsOf('counts').map((b) => [...b].sort());
  return { result, persisted, sorted };
}

describe('memory levels backed by the block store', () => {
  it('writes the window’s memory-persisted datasets to the store as well, with the same results', async () => {
    const plain = await run(false);
    const backed = await run(true);
    expect(plain.result.error).toBeUndefined();
    expect(backed.result.error).toBeUndefined();
    expect(backed.sorted).toEqual(plain.sorted);
    expect(backed.sorted.at(-1)).toEqual([
      ['a', 2],
      ['b', 1],
      ['c', 1],
    ]);
    // the window keeps its reduced batches and itself in memory; backed, they are in the store too
    expect(plain.persisted).toEqual([]);
    expect(backed.persisted.length).toBeGreaterThan(0);
  });
});
