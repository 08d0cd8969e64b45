import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSluice } from '../helpers/sluiceProcess';

const root = new URL('../..', import.meta.url).pathname;
const job = join(root, 'test/fixtures/crashJob.ts');
const BATCHES = 8;

/** Every output of a run: the jsonl lines (records sorted) and each text folder's sorted lines. */
async function outputsOf(dir: string) {
  const jsonl = (await readFile(join(dir, 'out/windows.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { output: string; batchTime: number; records: [string, number][] })
    .map((l) => ({ ...l, records: [...l.records].sort((a, b) => (a[0] < b[0] ? -1 : 1)) }));
  const folders: Record<string, string[]> = {};
  // saveAsTextFiles' folders, then rdd.saveAsTextFile's in the foreachRDD (out/rdd/<batchTime>)
  const names = (await readdir(join(dir, 'out'))).filter((n) => n.startsWith('windows-'));
  const rddNames = (await readdir(join(dir, 'out/rdd'))).map((n) => `rdd/${n}`);
  for (const name of [...names, ...rddNames].sort()) {
    const files = (await readdir(join(dir, 'out', name))).sort();
    const lines: string[] = [];
    for (const f of files.filter((f) => f.startsWith('part-'))) {
      lines.push(...(await readFile(join(dir, 'out', name, f), 'utf8')).split('\n').filter(Boolean));
    }
    folders[name] = [...(files.includes('_SUCCESS') ? ['_SUCCESS'] : []), ...lines.sort()];
  }
  return { jsonl, folders };
}

let base: string;
let reference: Awaited<ReturnType<typeof outputsOf>>;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'sluice-recovery-'));
  // The uninterrupted run every crashed run must match.
  const dir = join(base, 'reference');
  const run = await runSluice(
    ['run', job, '--fast', '--batches', String(BATCHES), '--store', 'store', '--quiet'],
    await mk(dir),
  );
  expect(run.code).toBe(0);
  reference = await outputsOf(dir);
}, 60_000);

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

async function mk(dir: string): Promise<string> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dir, { recursive: true });
  return dir;
}

describe('crash recovery with kill -9', () => {
  it('has a reference with every batch once', () => {
    expect(reference.jsonl.map((l) => l.batchTime)).toEqual([1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000]);
    expect(Object.keys(reference.folders)).toHaveLength(2 * BATCHES);
    expect(reference.folders['rdd/5000']).toEqual(reference.folders['windows-5000.txt']);
    expect(reference.jsonl.some((l) => l.records.length > 0)).toBe(true);
  });

  for (const point of [
    'task:5000',
    'output:5000',
    'checkpoint:4000',
    'commit:5000',
    'checkpoint:5000',
    'output:1000',
  ]) {
    it(`resumes after a kill during ${point.replace(':', ' of batch ')} with every output exactly once`, async () => {
      const dir = await mk(join(base, point.replace(':', '-')));
      const args = ['run', job, '--fast', '--batches', String(BATCHES), '--store', 'store', '--quiet'];
      // given a run killed with SIGKILL at that point
      const crashed = await runSluice(args, dir, point);
      expect(crashed.signal).toBe('SIGKILL');
      // (the first output is the foreachRDD's saveAsTextFile: its kill left the parts without _SUCCESS)
      if (point === 'output:5000') {
        expect((await readdir(join(dir, 'out/rdd/5000'))).sort()).toEqual(['part-00000', 'part-00001']);
      }
      // when the same job is started again on the same store
      const resumed = await runSluice(args, dir);
      // then it resumes from its checkpoint, and the outputs equal the uninterrupted run's, each batch once
      expect(resumed.code).toBe(0);
      expect(resumed.stderr).toMatch(/Resuming from the checkpoint/);
      const outputs = await outputsOf(dir);
      expect(outputs.jsonl).toEqual(reference.jsonl);
      expect(outputs.folders).toEqual(reference.folders);
    }, 60_000);
  }

  it('resumes a job whose functions changed but whose graph has the same shape', async () => {
    const dir = await mk(join(base, 'changed'));
    const first = await runSluice(
      ['run', job, '--fast', '--batches', '3', '--store', 'store', '--quiet'],
      dir,
    );
    expect(first.code).toBe(0);
    const changed = await runSluice(
      ['run', `${job}#changedFunction`, '--fast', '--batches', '5', '--store', 'store', '--quiet'],
      dir,
    );
    expect(changed.code).toBe(0);
    const { jsonl } = await outputsOf(dir);
    expect(jsonl.map((l) => l.batchTime)).toEqual([1000, 2000, 3000, 4000, 5000]);
    // batches after the restart use the new function (upper-case tags enter the window)
    expect(jsonl[4]!.records.some(([tag]) => tag === tag.toUpperCase())).toBe(true);
    expect(jsonl[0]!.records.every(([tag]) => tag === tag.toLowerCase())).toBe(true);
  }, 60_000);

  it('refuses to resume a checkpoint of another graph shape, and --fresh starts over', async () => {
    const dir = await mk(join(base, 'other'));
    expect(
      (await runSluice(['run', job, '--fast', '--batches', '2', '--store', 'store', '--quiet'], dir)).code,
    ).toBe(0);
    const refused = await runSluice(
      ['run', `${job}#otherShape`, '--fast', '--batches', '2', '--store', 'store'],
      dir,
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/another shape \(.+\); run with --fresh/);
    const fresh = await runSluice(
      ['run', `${job}#otherShape`, '--fast', '--batches', '2', '--store', 'store', '--fresh', '--quiet'],
      dir,
    );
    expect(fresh.code).toBe(0);
  }, 60_000);
});

describe('crash recovery with kill -9, a window sliding every second batch', () => {
  const args = [
    'run',
    `${job}#slidingEverySecondBatch`,
    '--fast',
    '--batches',
    String(BATCHES),
    '--store',
    'store',
    '--quiet',
  ];
  let sliding: Awaited<ReturnType<typeof outputsOf>>;

  beforeAll(async () => {
    const run = await runSluice(args, await mk(join(base, 'sliding-reference')));
    expect(run.code).toBe(0);
    sliding = await outputsOf(join(base, 'sliding-reference'));
  }, 60_000);

  it('has a reference with every slide once', () => {
    expect(sliding.jsonl.map((l) => l.batchTime)).toEqual([2000, 4000, 6000, 8000]);
    expect(sliding.jsonl.some((l) => l.records.length > 0)).toBe(true);
  });

  // Batch 5000 is an in-between batch: its one job computes its counts ahead of the slide at 6000.
  for (const point of ['task:5000', 'checkpoint:5000', 'cleanup:5000', 'output:6000', 'commit:6000']) {
    it(`resumes after a kill during ${point.replace(':', ' of batch ')} with every output exactly once`, async () => {
      const dir = await mk(join(base, `sliding-${point.replace(':', '-')}`));
      // given a run killed with SIGKILL at that point
      const crashed = await runSluice(args, dir, point);
      expect(crashed.signal).toBe('SIGKILL');
      // when the same job is started again on the same store
      const resumed = await runSluice(args, dir);
      // then the outputs equal the uninterrupted run's, each slide once
      expect(resumed.code).toBe(0);
      const outputs = await outputsOf(dir);
      expect(outputs.jsonl).toEqual(sliding.jsonl);
      expect(outputs.folders).toEqual(sliding.folders);
    }, 60_000);
  }
});

describe("crash recovery with kill -9 after a checkpoint, before its cleanup, of streams' own stored datasets", () => {
  const args = [
    'run',
    join(root, 'test/fixtures/restoredDatasetJob.ts'),
    '--fast',
    '--batches',
    '12',
    '--store',
    'store',
    '--quiet',
  ];
  /** The persisted datasets in a run's store (`n6@4000`: stream n6's dataset of batch 4000), sorted. */
  const persistedIn = async (dir: string) =>
    (await readdir(join(dir, 'store/persist')).catch(() => [] as string[])).sort();
  /** The datasets a run's metadata checkpoint lists as stored, sorted. */
  const listedIn = async (dir: string) =>
    (
      JSON.parse(await readFile(join(dir, 'store/checkpoint/metadata.json'), 'utf8')) as {
        stored: Array<{ key: string }>;
      }
    ).stored
      .map((s) => s.key)
      .sort();

  it('ends with the store and checkpoint of an uninterrupted run, keeping nothing the killed run left', async () => {
    // given an uninterrupted run
    const reference = await mk(join(base, 'restored-reference'));
    expect((await runSluice(args, reference)).code).toBe(0);
    // and a run killed once batch 6's checkpoint is written, before the cleanup that deletes what it lists and no
    // later batch reads (the windows' parents of batch 4)
    const dir = await mk(join(base, 'restored-killed'));
    expect((await runSluice(args, dir, 'cleanup:6000')).signal).toBe('SIGKILL');
    const left = (await persistedIn(dir)).filter((key) => Number(key.split('@')[1]) <= 4000);
    expect(left.length).toBeGreaterThan(0);
    // when it is started again on the same store
    const resumed = await runSluice(args, dir);
    // then it ends with the uninterrupted run's persisted datasets, and its checkpoint lists what that run's lists
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/Resuming from the checkpoint/);
    expect(await persistedIn(dir)).toEqual(await persistedIn(reference));
    expect(await listedIn(dir)).toEqual(await listedIn(reference));
  }, 60_000);
});
