import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadLetters, droppedLines } from '../helpers/folderCrashRuns';
import { runSluice } from '../helpers/sluiceProcess';

/**
 * Recovery of a job whose folder input is read by its tasks from the plan its checkpoint records: killed at
 * random points (in a task, after an output, before a checkpoint, before a cleanup), it must end exactly as an
 * uninterrupted run, every line read once, none lost, none twice.
 */
const job = join(new URL('../..', import.meta.url).pathname, 'test/fixtures/plannedFolderCrashJob.ts');
const BATCHES = 20;
const args = (batches: number) => [
  'run',
  job,
  '--fast',
  '--batches',
  String(batches),
  '--store',
  'store',
  '--quiet',
];

/** Every output file of a run, by path. */
async function outputs(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of await readdir(join(dir, 'out')))
    files[name] = await readFile(join(dir, 'out', name), 'utf8');
  return files;
}

/**
 * The batch folders under the store's input folder that hold an input block: none, as the folder's lines are read
 * by the tasks (the folders hold the tasks' line counts, and a killed write's `.tmp`, deleted with the folder).
 */
async function inputBlocks(dir: string): Promise<string[]> {
  const root = join(dir, 'store/input');
  const found: string[] = [];
  for (const stream of await readdir(root).catch(() => [] as string[])) {
    for (const batch of await readdir(join(root, stream))) {
      const files = await readdir(join(root, stream, batch));
      if (files.some((f) => !/^read-\d+\.json(\.\w+\.tmp)?$/.test(f))) found.push(`${stream}/${batch}`);
    }
  }
  return found;
}

let base: string;
let reference: Record<string, string>;

async function fresh(name: string): Promise<string> {
  const dir = join(base, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'sluice-planned-folder-recovery-'));
  const dir = await fresh('reference');
  const run = await runSluice(args(BATCHES), dir);
  expect(run.code, run.stderr).toBe(0);
  reference = await outputs(dir);
  const dropped = await droppedLines(dir);
  // every line of every file is counted once in the reference, and every malformed one is one dead letter
  const counts = reference['counts.jsonl']!.trim()
    .split('\n')
    .map((l) => JSON.parse(l).records[0] as number);
  expect(counts.reduce((a, b) => a + b, 0)).toBe(dropped.lines - dropped.malformed);
  expect(await deadLetters(dir)).toHaveLength(dropped.malformed);
  expect(await inputBlocks(dir)).toEqual([]);
}, 60_000);

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('a planned folder-source job killed with kill -9', () => {
  it('has a reference whose batches all read lines and whose windows and totals are not empty', () => {
    const counts = reference['counts.jsonl']!.trim().split('\n');
    expect(counts).toHaveLength(BATCHES);
    expect(counts.every((l) => (JSON.parse(l).records[0] as number) > 0)).toBe(true);
    expect(reference['windows.jsonl']!.trim().split('\n')).toHaveLength(BATCHES / 2);
    expect(reference['totals.jsonl']).toMatch(/"k\d_*",\d+/);
  });

  it('ends byte-identical to an uninterrupted run, each dead letter once, after kills at every kind of point', async () => {
    // given kills in tasks (after the plan was checkpointed and a task read its ranges), after outputs, before
    // checkpoints and before cleanups, spread over the run
    const points = [
      'task:2000',
      'output:3000',
      'checkpoint:4000',
      'task:6000',
      'task:7000',
      'cleanup:8000',
      'output:10000',
      'checkpoint:12000',
      'task:13000',
      'cleanup:15000',
      'task:17000',
      'output:19000',
    ];
    const dir = await fresh('kills');
    for (const point of points) {
      // when each run is killed at its point and the next one resumes from the checkpoint
      const run = await runSluice(args(BATCHES), dir, point);
      expect(run.signal, `kill at ${point}: ${run.stderr}`).toBe('SIGKILL');
    }
    const last = await runSluice(args(BATCHES), dir);
    // then the last run completes, its outputs are those of a run never killed, and no line was lost or read twice
    expect(last.code, last.stderr).toBe(0);
    expect(last.stderr).toMatch(/Resuming from the checkpoint/);
    expect(await outputs(dir)).toEqual(reference);
    expect(await deadLetters(dir)).toHaveLength((await droppedLines(dir)).malformed);
    expect(await inputBlocks(dir)).toEqual([]);
  }, 180_000);
});
