import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';

/**
 * `rdd.saveAsTextFile(path)` in foreachRDD, Spark's RDD action: a folder of one `part-NNNNN` per partition, written
 * by the partition's task, then `_SUCCESS`. A rerun of a batch (a retried task, a folder left by an earlier attempt)
 * leaves the same folder, and a path it cannot write fails the batch with a sentence naming it.
 */

const jobs = new URL('../helpers/runtimeJobs.ts', import.meta.url).pathname;
const job = (exportName: string) => ({ kind: 'module', path: jobs, exportName }) as const;

/** What `runtimeJobs.saveTextFile` writes: batch 1000's five records over three partitions, batch 2000 empty. */
const expectedFolders = {
  '1000': {
    _SUCCESS: '',
    'part-00000': 'a line\n',
    'part-00001': '(k,1)\n{"n":2}\n',
    'part-00002': 'b\n7\n',
  },
  '2000': { _SUCCESS: '', 'part-00000': '', 'part-00001': '', 'part-00002': '' },
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-save-text-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const options = (workers: number) => ({ workers, storeDir: join(dir, 'store'), outputDir: join(dir, 'out') });

/** Every file under `out/text/` of the output folder, by batch folder and name. */
async function textFolders(): Promise<Record<string, Record<string, string>>> {
  const root = join(dir, 'out', 'out', 'text');
  const folders: Record<string, Record<string, string>> = {};
  for (const batch of (await readdir(root)).sort()) {
    folders[batch] = {};
    for (const name of (await readdir(join(root, batch))).sort()) {
      folders[batch][name] = await readFile(join(root, batch, name), 'utf8');
    }
  }
  return folders;
}

describe('Dataset.saveAsTextFile', () => {
  for (const workers of [0, 2]) {
    it(`writes a part per partition, each record's line as saveAsTextFiles writes it, then _SUCCESS (${workers} workers)`, async () => {
      // given a batch of strings, a pair, an object and a number over three partitions, then an empty batch
      // when foreachRDD saves each to a folder named by its batch time
      const result = await runBatches(job('saveTextFile'), 2, options(workers));
      // then each folder holds a part per partition and the marker
      expect(result.error).toBeUndefined();
      expect(await textFolders()).toEqual(expectedFolders);
      // and with worker threads the parts were written by the tasks there, not by the driver
      if (workers > 0) expect(result.batches.map((b) => b.driverStages)).toEqual([0, 0]);
    });
  }

  it('leaves the same folders when its tasks are retried (2 workers)', async () => {
    // given a job whose every task fails its first attempt in each thread
    // when both batches run
    const result = await runBatches(job('saveTextFileRetried'), 2, options(2));
    // then the retried tasks wrote the folders a run without failures writes
    expect(result.error).toBeUndefined();
    expect(result.batches.every((b) => b.taskAttempts > b.tasks)).toBe(true);
    expect(await textFolders()).toEqual(expectedFolders);
  });

  for (const workers of [0, 2]) {
    it(`rewrites a complete folder an earlier attempt left, more parts included (${workers} workers)`, async () => {
      // given batch 1000's folder as a run that wrote it with five partitions and died before its checkpoint left it
      const earlier = join(dir, 'out', 'out', 'text', '1000');
      await mkdir(earlier, { recursive: true });
      for (let p = 0; p < 5; p++) await writeFile(join(earlier, `part-0000${p}`), `old ${p}\n`);
      await writeFile(join(earlier, '_SUCCESS'), '');
      // when the batch runs again
      const result = await runBatches(job('saveTextFile'), 2, options(workers));
      // then the folder is the one a first run writes: none of the earlier parts stays
      expect(result.error).toBeUndefined();
      expect(await textFolders()).toEqual(expectedFolders);
    });
  }

  it('fails the batch with a sentence naming the folder when a file stands where it should be', async () => {
    // given a file where the folders' parent should be
    await mkdir(join(dir, 'out', 'out'), { recursive: true });
    await writeFile(join(dir, 'out', 'out', 'text'), 'not a folder\n');
    // when the job runs
    const result = await runBatches(job('saveTextFile'), 1, options(0));
    // then the batch fails, naming the folder and what may be wrong
    expect(String(result.error)).toMatch(
      /cannot write the text folder "out\/text\/1000" in the output folder: ENOTDIR.*is a file there, or above it, where the folder should be\?/,
    );
    expect(await readFile(join(dir, 'out', 'out', 'text'), 'utf8')).toBe('not a folder\n');
  });

  it('refuses a path that climbs out of the output folder, saying where paths belong', async () => {
    // given a foreachRDD saving to ../elsewhere
    // when the job runs
    const result = await runBatches(job('saveTextFileOutside'), 1, options(0));
    // then the batch fails, naming the path and the output folder, and nothing was written beside it
    expect(String(result.error)).toMatch(
      /saveAsTextFile's path "\.\.\/elsewhere" climbs out of the output folder \(--out locally, outputs\/ in the bucket on AWS\)/,
    );
    expect(await readdir(dir)).not.toContain('elsewhere');
  });
});

describe('saveAsTextFiles of groups', () => {
  it("writes each group as Spark's CompactBuffer, from a worker thread's task", async () => {
    // given a groupByKey saved with saveAsTextFiles, its task on a worker thread
    // when its batch runs
    const result = await runBatches(job('saveGroups'), 1, options(2));
    expect(result.error).toBeUndefined();
    // then its part file holds the groups as Spark writes them, the group of two not as a pair
    const part = await readFile(join(dir, 'out', 'out', 'groups-1000', 'part-00000'), 'utf8');
    expect(part).toBe('(a,CompactBuffer(1))\n(b,CompactBuffer(2, 3))\n');
  });
});

describe('saveAsTextFiles of outer joins', () => {
  it("writes a missing side as Spark's None and a present one as Some, groups inside too", async () => {
    // given a left outer join and a full outer join of groups saved with saveAsTextFiles, their tasks on worker threads
    // when its batch runs
    const result = await runBatches(job('saveOuterJoins'), 1, options(2));
    expect(result.error).toBeUndefined();
    // then their part files hold the records as Spark writes their toString
    const part = (folder: string) => readFile(join(dir, 'out', 'out', folder, 'part-00000'), 'utf8');
    expect((await part('left-1000')).split('\n').sort()).toEqual(['', '(a,(1,Some(2)))', '(b,(3,None))']);
    expect((await part('full-1000')).split('\n').sort()).toEqual([
      '',
      '(a,(Some(CompactBuffer(1)),Some(CompactBuffer(2))))',
      '(b,(Some(CompactBuffer(3)),None))',
      '(c,(None,Some(CompactBuffer(4))))',
    ]);
  });
});
