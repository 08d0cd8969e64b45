import { readlinkSync } from 'node:fs';
import { type FileHandle, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { appendToFile } from '../../lib/local/appendToFile';
import { JsonlFiles } from '../../lib/local/JsonlFiles';
import { runBatches } from '../../lib/local/LocalRuntime';
import { LocalFolderStore, needsSync } from '../../lib/storage/LocalFolderStore';

/**
 * What reaches the disk before a write counts as done. A rename survives `kill -9`, not a power loss: the new name
 * may reach the disk before the data, and a block a checkpoint names read back with 0 bytes. The fsyncs are
 * observed as they happen (the path of each synced file or folder, from /proc), since a power loss cannot be.
 */

let dir: string;
/** The paths fsynced since the test began, relative to `dir`, in order. */
let synced: string[];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-durable-'));
  synced = [];
  const probe = await open(join(dir, 'probe'), 'w');
  const handles = Object.getPrototypeOf(probe) as FileHandle;
  await probe.close();
  const sync = handles.sync;
  vi.spyOn(handles, 'sync').mockImplementation(function (this: FileHandle) {
    synced.push(readlinkSync(`/proc/self/fd/${this.fd}`).slice(dir.length + 1) || '.');
    return sync.call(this);
  });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

describe('a block written to the local store', () => {
  it('that a checkpoint names is synced before its rename, then its folder and each folder made for it', async () => {
    // given a store in a folder that exists
    const store = new LocalFolderStore(join(dir, 'store'));
    await store.put('first', 'x');
    synced = [];
    // when a state block is written into folders that do not exist yet
    await store.put('persist/n3@4000/1', '[["a",1]]');
    // then its temporary file is synced, then its folder, and the folders above it that were made for it
    expect(synced[0]).toMatch(/^store\/persist\/n3@4000\/1\.[0-9a-f]{12}\.tmp$/);
    expect(synced.slice(1).sort()).toEqual(['store', 'store/persist', 'store/persist/n3@4000']);
    // and once its folder exists, a block is synced with its folder alone
    synced = [];
    await store.put('persist/n3@4000/0', '[]');
    expect(synced.map((p) => p.replace(/\.[0-9a-f]{12}\.tmp$/, '.tmp'))).toEqual([
      'store/persist/n3@4000/0.tmp',
      'store/persist/n3@4000',
    ]);
  });

  it('written with others into one folder at once shares their folder syncs', async () => {
    // given a folder that exists
    const store = new LocalFolderStore(join(dir, 'store'));
    await store.put('persist/n3@4000/0', 'x');
    synced = [];
    // when 32 partitions of a state are written into it at once, as a batch's tasks write them
    await Promise.all(Array.from({ length: 32 }, (_, p) => store.put(`persist/n3@4000/${p}`, `[${p}]`)));
    // then each file is synced, and the folder fewer times than once a file, but at least once
    const folderSyncs = synced.filter((p) => p === 'store/persist/n3@4000').length;
    expect(synced.length - folderSyncs).toBe(32);
    expect(folderSyncs).toBeGreaterThanOrEqual(1);
    expect(folderSyncs).toBeLessThan(32);
  });

  it('that only its own run reads (shuffle, a slice computed again) is not synced', async () => {
    const store = new LocalFolderStore(join(dir, 'store'));
    await store.put('shuffle/ab12cd34/3/map-1', 'x');
    await store.put('input/n1/4000-1a2b3c4d-1/block', 'x');
    expect(synced).toEqual([]);
    expect(needsSync('checkpoint/metadata.json')).toBe(true);
    expect(needsSync('input/n1/4000/block')).toBe(true);
    expect(needsSync('input/n1/b-1a2b3c4d-000000001/block')).toBe(true);
    expect(needsSync('counts/1000.txt/part-00000')).toBe(true);
    expect(needsSync('input/n1/4000-1a2b3c4d-1/block')).toBe(false);
  });

  it('of a store made with fsync off is not synced', async () => {
    const store = new LocalFolderStore(join(dir, 'store'), { fsync: false });
    await store.put('checkpoint/metadata.json', '{}');
    expect(synced).toEqual([]);
    expect(await readFile(join(dir, 'store/checkpoint/metadata.json'), 'utf8')).toBe('{}');
  });
});

describe('a line appended to a file a checkpoint measures', () => {
  it('is synced, and so is the folder of a file it made', async () => {
    // when a jsonl batch is committed to a new file in a new folder, then to the same file again
    const files = new JsonlFiles();
    const file = join(dir, 'out/counts.jsonl');
    files.hold(file, '{"batchTime":1000}', 1000);
    await files.commit([1000]);
    expect(synced.sort()).toEqual(['.', 'out', 'out/counts.jsonl']);
    synced = [];
    await appendToFile(file, 'more\n', { fsync: true });
    // then the file alone is synced the second time
    expect(synced).toEqual(['out/counts.jsonl']);
    expect(await readFile(file, 'utf8')).toBe('{"batchTime":1000}\nmore\n');
  });
});

describe('a local run', () => {
  it('syncs its checkpoint, its state and its outputs, and none of its shuffle blobs', async () => {
    // given a running count with a shuffle, a jsonl output and a dead letter
    const job = {
      kind: 'document',
      baseDir: '.',
      document: {
        name: 'durable',
        batchIntervalMs: 1000,
        checkpointIntervalMs: 1000,
        sources: { lines: { type: 'queue', batches: [['{"w":"a"}', 'oops', '{"w":"b"}']] } },
        streams: {
          counts: {
            from: 'lines',
            ops: [
              { op: 'map', fn: 'parseJson' },
              { op: 'map', expr: '[w, 1]' },
              { op: 'updateStateByKey', fn: 'sumState', partitions: 2 },
            ],
          },
        },
        outputs: [{ stream: 'counts', type: 'jsonl', path: 'counts.jsonl' }],
      },
    } as const;
    // when it runs a batch
    const storeDir = join(dir, 'store');
    const result = await runBatches(job, 1, { storeDir, outputDir: join(dir, 'out') });
    expect(result.error).toBeUndefined();
    // then the checkpoint, the state blocks, the input block, the jsonl file and the dead-letter file were synced
    const files = synced.map((p) => p.replace(/\.[0-9a-f]{12}\.tmp$/, ''));
    expect(files).toContain('store/checkpoint/metadata.json');
    expect(files).toContain('store/input/n1/1000/block');
    expect(files.filter((p) => /^store\/persist\/[^/]+\/[01]$/.test(p)).length).toBeGreaterThanOrEqual(2);
    expect(files).toContain('out/counts.jsonl');
    expect(files).toContain('store/dead-letter.jsonl');
    expect(files.filter((p) => p.startsWith('store/shuffle/'))).toEqual([]);
    // and the batch's checkpoint after all of them: what it names was on the disk before it
    const checkpointAt = files.lastIndexOf('store/checkpoint/metadata.json');
    for (const named of files.filter((p) => /^store\/(persist|input)\/|\.jsonl$/.test(p)))
      expect(files.lastIndexOf(named)).toBeLessThan(checkpointAt);
  });
});
