import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobSource } from '../../lib/job/JobSource';
import { runBatches } from '../../lib/local/LocalRuntime';

/**
 * A running count per key, its state checkpointed every 2 batches, and a window of 3 batches, read from a capped
 * queue: the store keeps the state's blocks and the input blocks of the batches the window still reads.
 */
const job: JobSource = {
  kind: 'document',
  baseDir: '.',
  document: {
    name: 'damaged-block',
    batchIntervalMs: 1000,
    checkpointIntervalMs: 2000,
    sources: {
      words: {
        type: 'queue',
        batches: [['a', 'b', 'a'], ['b', 'c'], ['a'], ['c', 'c'], ['b']],
        maxRatePerSec: 3,
        partitions: 2,
      },
    },
    streams: {
      counts: {
        from: 'words',
        ops: [
          { op: 'map', expr: '[$, 1]' },
          { op: 'updateStateByKey', fn: 'sumState', partitions: 2 },
        ],
      },
      recent: { from: 'words', ops: [{ op: 'window', windowMs: 3000 }] },
    },
    outputs: [
      { stream: 'counts', type: 'print' },
      { stream: 'recent', type: 'print' },
    ],
  },
};

let dir: string;
let storeDir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-damaged-block-'));
  storeDir = join(dir, 'store');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The files under the store's `folder`, as keys relative to the store. */
async function blocksUnder(folder: string): Promise<string[]> {
  const entries = await readdir(join(storeDir, folder), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(storeDir.length + 1))
    .sort();
}

describe('a block of the store damaged between two runs', () => {
  it('fails the batch naming the block and the way to start over, not a bare SyntaxError', async () => {
    for (const folder of ['persist', 'input']) {
      // given a job stopped after 4 batches, one of whose state or input blocks something else cut short
      await rm(storeDir, { recursive: true, force: true });
      const options = { storeDir, outputDir: join(dir, 'out') };
      expect((await runBatches(job, 4, options)).error).toBeUndefined();
      const blocks = (await blocksUnder(folder)).filter(
        (key) => (key.startsWith('input/') || key.startsWith('persist/')) && !key.endsWith('.tmp'),
      );
      expect(blocks.length).toBeGreaterThan(0);
      const damaged = blocks[blocks.length - 1]!;
      const bytes = await readFile(join(storeDir, damaged));
      expect(bytes.length).toBeGreaterThan(4);
      // a state block keeps its length but loses its end; an input block is read by byte range, so its bytes are
      // overwritten in place
      await writeFile(join(storeDir, damaged), `${'#'.repeat(bytes.length - 1)}]`);
      // when the job is resumed for the batches that read it
      const { error } = await runBatches(job, 8, options);
      // then the batch fails naming the block, and says what to do
      expect(error?.message).toContain(`block ${damaged} of the store is damaged (`);
      expect(error?.message).toContain('run with --fresh');
    }
  });

  it('fails the batch naming a deleted block and the way to start over, not ENOENT or a plea to report a bug', async () => {
    for (const folder of ['persist', 'input']) {
      // given a job stopped after 4 batches, one of whose state or input blocks something else deleted
      await rm(storeDir, { recursive: true, force: true });
      const options = { storeDir, outputDir: join(dir, 'out') };
      expect((await runBatches(job, 4, options)).error).toBeUndefined();
      const blocks = await blocksUnder(folder);
      const deleted = blocks[blocks.length - 1]!;
      await rm(join(storeDir, deleted));
      // when the job is resumed for the batches that read it
      const { error } = await runBatches(job, 8, options);
      // then the batch fails saying a block is missing and what to do (the state's loss reaches back to an input
      // block that its checkpoint had made unneeded)
      expect(error?.message).toMatch(/is missing from the store, yet a batch reads it/);
      expect(error?.message).toContain('run with --fresh');
      expect(error?.message).not.toMatch(/ENOENT|please report/);
    }
  });
});

describe('a block of the store emptied to 0 bytes between two runs (a power loss, an edit)', () => {
  it('fails the batch naming the block, rather than reading it as an empty partition', async () => {
    for (const folder of ['persist', 'input']) {
      // given a job stopped after 4 batches, one of whose state or input blocks (not empty) lost its bytes
      await rm(storeDir, { recursive: true, force: true });
      const options = { storeDir, outputDir: join(dir, 'out') };
      expect((await runBatches(job, 4, options)).error).toBeUndefined();
      const blocks = [];
      for (const key of await blocksUnder(folder))
        if ((await readFile(join(storeDir, key))).length > 2) blocks.push(key);
      const emptied = blocks[blocks.length - 1]!;
      await writeFile(join(storeDir, emptied), '');
      // when the job is resumed for the batches that read it
      const { error } = await runBatches(job, 8, options);
      // then the batch fails naming the block, and says what to do
      expect(error?.message).toContain(`block ${emptied} of the store is damaged (`);
      expect(error?.message).toContain('run with --fresh');
    }
  });
});

/** A running count over 4 partitions of 2 keys: at least two of its state partitions are empty. */
const sparse: JobSource = {
  kind: 'document',
  baseDir: '.',
  document: {
    name: 'sparse-state',
    batchIntervalMs: 1000,
    checkpointIntervalMs: 2000,
    sources: { words: { type: 'queue', batches: [['a', 'b', 'a'], ['b'], ['a'], ['b', 'b'], ['a']] } },
    streams: {
      counts: {
        from: 'words',
        ops: [
          { op: 'map', expr: '[$, 1]' },
          { op: 'updateStateByKey', fn: 'sumState', partitions: 4 },
        ],
      },
    },
    outputs: [{ stream: 'counts', type: 'print', name: 'counts' }],
  },
};

describe('an empty state partition', () => {
  it('is written as [] and read back empty by a resumed run', async () => {
    // given a job stopped after 4 batches, whose state has empty partitions
    const options = { storeDir, outputDir: join(dir, 'out') };
    expect((await runBatches(sparse, 4, options)).error).toBeUndefined();
    const empty = [];
    for (const key of await blocksUnder('persist'))
      if ((await readFile(join(storeDir, key), 'utf8')) === '[]') empty.push(key);
    expect(empty.length).toBeGreaterThan(0);
    // when it is resumed
    const resumed = await runBatches(sparse, 6, options);
    // then it counts on from its state, as a run never stopped does
    const whole = await runBatches(sparse, 6, { storeDir: join(dir, 'whole'), outputDir: join(dir, 'out') });
    expect(resumed.error).toBeUndefined();
    expect(resumed.recordsOf('counts')).toEqual(whole.recordsOf('counts').slice(4));
  });

  it('that an older Sluice wrote as 0 bytes still reads as empty, once, and is marked [] from then on', async () => {
    // given a store as a Sluice before empty partitions were marked left it: its empty state blocks of 0 bytes,
    // and a checkpoint that does not say they are marked
    const options = { storeDir, outputDir: join(dir, 'out') };
    expect((await runBatches(sparse, 4, options)).error).toBeUndefined();
    const empty = [];
    for (const key of await blocksUnder('persist')) {
      if ((await readFile(join(storeDir, key), 'utf8')) !== '[]') continue;
      await writeFile(join(storeDir, key), '');
      empty.push(key);
    }
    expect(empty.length).toBeGreaterThan(0);
    const checkpointFile = join(storeDir, 'checkpoint/metadata.json');
    const { emptyPartitionsMarked, ...older } = JSON.parse(await readFile(checkpointFile, 'utf8'));
    expect(emptyPartitionsMarked).toBe(true);
    await writeFile(checkpointFile, JSON.stringify(older));
    // when it is resumed
    const resumed = await runBatches(sparse, 6, options);
    // then it counts on from its state, as a run never stopped does, and its checkpoint now says marked
    const whole = await runBatches(sparse, 6, { storeDir: join(dir, 'whole'), outputDir: join(dir, 'out') });
    expect(resumed.error).toBeUndefined();
    expect(resumed.recordsOf('counts')).toEqual(whole.recordsOf('counts').slice(4));
    expect(JSON.parse(await readFile(checkpointFile, 'utf8')).emptyPartitionsMarked).toBe(true);
  });
});
