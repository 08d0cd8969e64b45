import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadLetters, droppedLines } from '../helpers/folderCrashRuns';
import { runSluice } from '../helpers/sluiceProcess';

/**
 * Recovery of a job whose input exists only as the input blocks it stored (a folder source), with an incremental
 * window and a running state: stopped, resumed and killed, it must end exactly as an uninterrupted run, and its
 * store must hold only the input blocks a restart still needs.
 */
const job = join(new URL('../..', import.meta.url).pathname, 'test/fixtures/folderCrashJob.ts');
const BATCHES = 30;
const args = (batches: number, variant = '') => [
  'run',
  `${job}${variant}`,
  '--fast',
  '--batches',
  String(batches),
  '--store',
  'store',
  '--quiet',
];

/** Every output file of a run, byte for byte: the jsonl files and each saveAsTextFiles folder's files. */
async function outputBytes(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const walk = async (relative: string) => {
    for (const entry of await readdir(join(dir, relative), { withFileTypes: true })) {
      const path = `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(path);
      else files[path] = await readFile(join(dir, path), 'utf8');
    }
  };
  await walk('out');
  return files;
}

/** The batch times of the input blocks in the store. */
async function inputBlockTimes(dir: string): Promise<number[]> {
  const names = await readdir(join(dir, 'store/input/n1')).catch(() => [] as string[]);
  return names.map(Number).sort((a, b) => a - b);
}

/** A small seeded generator, so the kill points are the same in every run of the test. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let base: string;
let reference: Record<string, string>;
let referenceLetters: { letters: number; malformed: number };

async function fresh(name: string): Promise<string> {
  const dir = join(base, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'sluice-stored-input-'));
  const dir = await fresh('reference');
  const run = await runSluice(args(BATCHES), dir);
  expect(run.code, run.stderr).toBe(0);
  reference = await outputBytes(dir);
  referenceLetters = {
    letters: (await deadLetters(dir)).length,
    malformed: (await droppedLines(dir)).malformed,
  };
}, 60_000);

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('a folder-source job with an incremental window and state', () => {
  it('has a reference with every batch, windows and totals that are not all empty', () => {
    const windows = reference['out/windows.jsonl']!.trim().split('\n');
    const totals = reference['out/totals.jsonl']!.trim().split('\n');
    expect(windows).toHaveLength(BATCHES / 2);
    expect(totals).toHaveLength(BATCHES);
    expect(windows.at(-1)).toMatch(/"k\d",\d+/);
    expect(Object.keys(reference).filter((p) => p.endsWith('_SUCCESS'))).toHaveLength(BATCHES / 2);
  });

  it('resumes after clean stops at checkpoint and other batches, every output byte-identical', async () => {
    // given stops at a state checkpoint (every 4 s), between two, and where an old cleanup deleted a needed block
    const dir = await fresh('stops');
    for (const stopAt of [4, 6, 11, 12, 13, 16, 19, 24, BATCHES]) {
      // when the job is run again on the same store up to the next stop
      const run = await runSluice(args(stopAt), dir);
      // then every run resumes and completes
      expect(run.code, `stop at batch ${stopAt}: ${run.stderr}`).toBe(0);
    }
    expect(await outputBytes(dir)).toEqual(reference);
  }, 60_000);

  it('survives kill -9 twenty times at random points, every output byte-identical', async () => {
    // given twenty kills at seeded random batches and points: in a task, after an output, before a checkpoint
    const random = seeded(16);
    const times = Array.from({ length: BATCHES - 2 }, (_, i) => (i + 2) * 1000);
    while (times.length > 20) times.splice(Math.floor(random() * times.length), 1);
    const points = ['task', 'output', 'checkpoint'] as const;
    const dir = await fresh('kills');
    for (const time of times) {
      const point = `${points[Math.floor(random() * points.length)]}:${time}`;
      // when each run is killed at its point and the next one resumes from the checkpoint
      const run = await runSluice(args(BATCHES), dir, point);
      expect(run.signal, `kill at ${point}: ${run.stderr}`).toBe('SIGKILL');
    }
    const last = await runSluice(args(BATCHES), dir);
    // then the last run completes, and the outputs are those of a run never killed
    expect(last.code, last.stderr).toBe(0);
    expect(last.stderr).toMatch(/Resuming from the checkpoint/);
    expect(await outputBytes(dir)).toEqual(reference);
  }, 120_000);

  it('keeps exactly the input blocks a restart needs after a resumed run', async () => {
    // given a run stopped at a checkpoint batch and resumed to the end
    const dir = await fresh('blocks');
    expect((await runSluice(args(12), dir)).code).toBe(0);
    expect((await runSluice(args(BATCHES), dir)).code).toBe(0);
    // then the store holds the blocks that the windows after the window's last state checkpoint (28 s) read, a
    // window (12 s) and a slide further back: the batches after 16 s; the running total restarts from its own
    // checkpoint at 28 s and needs none older; nothing from before the resume is left behind
    const checkpoint = JSON.parse(await readFile(join(dir, 'store/checkpoint/metadata.json'), 'utf8'));
    expect(await inputBlockTimes(dir)).toEqual(Array.from({ length: 14 }, (_, i) => 17_000 + i * 1000));
    expect(Object.keys(checkpoint.inputs.n1).map(Number)).toEqual(await inputBlockTimes(dir));
  }, 60_000);

  it('leaves no block from before a resume in a stateless job', async () => {
    // given a stateless job stopped after 5 batches, and one killed after batch 5's checkpoint, before cleanup
    const dir = await fresh('stateless');
    expect((await runSluice(args(5, '#stateless'), dir)).code).toBe(0);
    expect((await runSluice(args(10, '#stateless'), dir, 'cleanup:8000')).signal).toBe('SIGKILL');
    // when it is resumed to batch 10
    const resumed = await runSluice(args(10, '#stateless'), dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    // then every batch is out once, and no input block is kept but batch 10's, which the input remembers for its
    // slide (as Spark's does): nothing from before the resume
    const lines = (await readFile(join(dir, 'out/pairs.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).batchTime)).toEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => n * 1000),
    );
    expect(await inputBlockTimes(dir)).toEqual([10_000]);
  }, 60_000);

  it('writes one dead letter per malformed line, though the window reads batches the state read before', () => {
    expect(referenceLetters.malformed).toBeGreaterThan(10);
    expect(referenceLetters.letters).toBe(referenceLetters.malformed);
  });

  it('writes each dead letter once however often the job is killed, though restarts re-read old batches', async () => {
    // given the job (a window and a running state over the parsed lines, nothing persisted at blockStore), run
    // without kills, and killed in tasks, after outputs, before checkpoints and before cleanups: each restart
    // rebuilds the window and the state from input blocks of batches whose letters were written before
    const uninterrupted = await fresh('letters-reference');
    expect((await runSluice(args(16), uninterrupted)).code).toBe(0);
    const dir = await fresh('letters');
    const points = [
      'output:3000',
      'checkpoint:5000',
      'task:8000',
      'output:9000',
      'cleanup:11000',
      'task:14000',
    ];
    for (const point of points) {
      const run = await runSluice(args(16), dir, point);
      expect(run.signal, `kill at ${point}: ${run.stderr}`).toBe('SIGKILL');
    }
    const last = await runSluice(args(16), dir);
    expect(last.code, last.stderr).toBe(0);
    // then there is one dead letter per malformed line, the same as without kills
    expect(await deadLetters(dir)).toHaveLength((await droppedLines(dir)).malformed);
    expect(await deadLetters(dir)).toEqual(await deadLetters(uninterrupted));
  }, 90_000);

  it('keeps a jsonl output at the path __proto__ exactly once after a kill', async () => {
    // given a run killed after batch 3 appended to the file `__proto__` but before its checkpoint
    const dir = await fresh('proto');
    expect((await runSluice(args(5, '#protoPath'), dir, 'output:3000')).signal).toBe('SIGKILL');
    // when it is resumed
    expect((await runSluice(args(5, '#protoPath'), dir)).code).toBe(0);
    // then the file was cut back to its checkpointed size: every batch once
    const lines = (await readFile(join(dir, '__proto__'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).batchTime)).toEqual([1000, 2000, 3000, 4000, 5000]);
  }, 60_000);
});
