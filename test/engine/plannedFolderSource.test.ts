import { type Dirent, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InputDStream } from '../../lib/dstream/InputDStream';
import { runBatches } from '../../lib/local/LocalRuntime';
import { StreamingContext } from '../../lib/StreamingContext';
import type { FolderReadPart } from '../../lib/source/FolderReadPlanner';
import type { TextFileSource } from '../../lib/source/TextFileSource';

/** A job that collects the folder's batches as they come, over 3 partitions, and counts the lines of each. */
function folderJob(name: string, source: Record<string, unknown> = {}) {
  return {
    name,
    batchIntervalMs: 1000,
    sources: { input: { type: 'textFileStream', directory: 'in', partitions: 3, ...source } },
    outputs: [{ stream: 'input', type: 'collectBatches' }],
  };
}

/** What lands in the folder once batch 1 (and batch 2) completed: lines that make splitting hard. */
const DROPS: Record<number, Record<string, Buffer>> = {
  1000: {
    'a.txt': Buffer.from('a1\r\na2\r\n\r\na4\r\n'),
    'b.txt': Buffer.from(Array.from({ length: 200 }, (_, i) => `b${i} ${'x'.repeat(i % 13)}`).join('\n')),
    'c.txt': Buffer.alloc(0),
    'd.txt': Buffer.concat([Buffer.from('d1\n'), Buffer.from([0x64, 0xff]), Buffer.from('\nd3\n')]),
  },
  2000: { 'e.txt': Buffer.from('é1\né2\n'), '_f.tmp': Buffer.from('not ready\n') },
};

/** Drops each batch's files into `folder` once the batch before completed, as a producer renaming them in would. */
function producer(folder: string) {
  return {
    onBatchCompleted: (info: { batchTime: number }) => {
      for (const [name, bytes] of Object.entries(DROPS[info.batchTime] ?? {})) {
        writeFileSync(join(folder, name), bytes);
      }
    },
  };
}

/** Every file under the store's input folder, as paths relative to it. */
function inputFiles(storeDir: string): string[] {
  const input = join(storeDir, 'input');
  try {
    return (readdirSync(input, { recursive: true, withFileTypes: true }) as Dirent[])
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name).slice(input.length + 1))
      .sort();
  } catch {
    return [];
  }
}

describe('a folder source read by its tasks', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-planned-folder-'));
    await mkdir(join(dir, 'in'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs 4 batches of the folder job with `workers` threads, in a fresh folder and store of its own. */
  async function run(name: string, workers: number, source: Record<string, unknown> = {}) {
    const base = join(dir, name);
    await mkdir(join(base, 'in'), { recursive: true });
    const storeDir = join(base, 'store');
    const plans: unknown[] = [];
    const files: string[][] = [];
    const watch = {
      // At a batch's start the checkpoint written after it was generated holds its input, as a restart finds it.
      onBatchStarted: (batchTime: number) => {
        const checkpoint = JSON.parse(readFileSync(join(storeDir, 'checkpoint/metadata.json'), 'utf8'));
        const inputs = checkpoint.inputs as Record<string, Record<string, { read?: unknown }>>;
        plans.push(Object.values(inputs)[0]?.[batchTime]?.read);
      },
      onBatchCompleted: () => files.push(inputFiles(storeDir)),
    };
    const result = await runBatches(
      { kind: 'document', document: folderJob(name, source), baseDir: base },
      4,
      { storeDir, workers, listeners: [producer(join(base, 'in')), watch] },
    );
    return { result, plans, files };
  }

  for (const workers of [0, 2]) {
    it(`gives the batches the folder read at the tick gives, ${workers ? 'on worker threads' : 'in-process'}`, async () => {
      // given the same files dropped in the same batches, read at the tick (a cap no batch reaches) and planned
      const atTick = await run('at-tick', workers, { maxRatePerSec: 100_000_000 });
      // when the tasks read the files
      const planned = await run('planned', workers);
      // then every batch has the same lines in the same order, and counts them the same; the line that is not UTF-8
      // is one dead letter, as before
      expect(planned.result.error).toBeUndefined();
      expect(atTick.result.error).toBeUndefined();
      // on worker threads, no stage of the job ran on the driver: the threads read the files
      if (workers > 0) expect(planned.result.batches.every((b) => b.driverStages === 0)).toBe(true);
      const batches = planned.result.recordsOf('input');
      expect(batches).toEqual(atTick.result.recordsOf('input'));
      expect(batches.map((b) => b.length)).toEqual([0, 206, 2, 0]);
      expect(batches[1]?.slice(0, 4)).toEqual(['a1', 'a2', '', 'a4']);
      expect(batches[2]).toEqual(['é1', 'é2']);
      expect(planned.result.batches.map((b) => b.records)).toEqual(
        atTick.result.batches.map((b) => b.records),
      );
      expect(planned.result.batches.map((b) => b.records)).toEqual([0, 207, 2, 0]);
      const letters = planned.result.deadLetters.map((l) => [l.error, l.record]);
      expect(letters).toEqual([
        [
          'Error: line is not valid UTF-8; its bytes are kept in base64',
          { bytes: 2, base64: Buffer.from([0x64, 0xff]).toString('base64') },
        ],
      ]);
      expect(atTick.result.deadLetters.map((l) => [l.error, l.record])).toEqual(letters);
    });
  }

  it('records byte ranges in the checkpoint, never lines, and stores no input block', async () => {
    // given
    // when the files are planned and read by the tasks
    const { result, plans, files } = await run('plan', 0);
    // then the plan of batch 2 in the checkpoint names files, byte ranges and sizes, and holds no line
    expect(result.error).toBeUndefined();
    const plan = plans[1] as { reader: string; parts: (FolderReadPart | null)[] };
    expect(plan.reader).toBe('folder');
    const ranges = plan.parts.flatMap((part) => part?.ranges ?? []);
    expect(new Set(ranges.map((r) => r.name))).toEqual(new Set(['a.txt', 'b.txt', 'd.txt']));
    expect(ranges.find((r) => r.name === 'b.txt')?.sizeBytes).toBe(DROPS[1000]!['b.txt']!.length);
    expect(JSON.stringify(plans)).not.toMatch(/a1|b0|é1/);
    // and the store's input folders never held a block, only the tasks' line counts
    const stored = files.flat();
    expect(stored.some((path) => path.endsWith('read-0.json'))).toBe(true);
    expect(stored.filter((path) => !/read-\d+\.json$/.test(path))).toEqual([]);
  });

  it('splits a batch over more tasks than partitions when a part would pass maxPartBytes, on worker threads', async () => {
    // given a file of 400 KiB of numbered lines dropped after batch 1, into a stream of 3 partitions capped at 64 KiB
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${'y'.repeat(i % 17)}`);
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    const base = join(dir, 'capped');
    await mkdir(join(base, 'in'), { recursive: true });
    const plans: unknown[] = [];
    const listeners = [
      {
        onBatchCompleted: (info: { batchTime: number }) => {
          if (info.batchTime === 1000) writeFileSync(join(base, 'in', 'big.txt'), bytes);
        },
        onBatchStarted: (batchTime: number) => {
          const checkpoint = JSON.parse(readFileSync(join(base, 'store/checkpoint/metadata.json'), 'utf8'));
          const inputs = checkpoint.inputs as Record<string, Record<string, { read?: unknown }>>;
          plans.push(Object.values(inputs)[0]?.[batchTime]?.read);
        },
      },
    ];
    // when the job runs 3 batches on 2 worker threads
    const document = folderJob('capped', { maxPartBytes: 65_536 });
    const result = await runBatches({ kind: 'document', document, baseDir: base }, 3, {
      storeDir: join(base, 'store'),
      workers: 2,
      listeners,
    });
    // then batch 2 was planned as parts of at most 64 KiB, more of them than partitions
    expect(result.error).toBeUndefined();
    const parts = (plans[1] as { parts: (FolderReadPart | null)[] }).parts;
    expect(parts).toHaveLength(Math.ceil(bytes.length / 65_536));
    for (const part of parts) {
      expect(part!.ranges.reduce((sum, r) => sum + r.endByte - r.startByte, 0)).toBeLessThanOrEqual(65_536);
    }
    // and its tasks read every line once, in order, and counted them
    expect(result.recordsOf('input')[1]).toEqual(lines);
    expect(result.batches.map((b) => b.records)).toEqual([0, lines.length, 0]);
  });

  it('fails the batch naming a file deleted before its tasks read it', async () => {
    // given a file deleted between the batch's plan (recorded in the checkpoint) and its tasks
    const base = join(dir, 'deleted');
    await mkdir(join(base, 'in'), { recursive: true });
    const deleteAfterPlan = {
      onBatchCompleted: (info: { batchTime: number }) => {
        if (info.batchTime === 1000) writeFileSync(join(base, 'in', 'x.txt'), 'x1\n');
      },
      onBatchStarted: (batchTime: number) => {
        if (batchTime === 2000) rmSync(join(base, 'in', 'x.txt'));
      },
    };
    // when
    const result = await runBatches({ kind: 'document', document: folderJob('deleted'), baseDir: base }, 3, {
      storeDir: join(base, 'store'),
      listeners: [deleteAfterPlan],
    });
    // then the batch fails with the file's name and what to do
    expect(result.error?.message).toContain(`file ${join(base, 'in', 'x.txt')} is gone`);
    expect(result.error?.message).toContain('must stay in the folder until their batch completed');
  });

  it('is read at the tick when rate-limited, by maxRatePerSec or by backpressure, and by its tasks otherwise', () => {
    // given three contexts: plain, with backpressure, and a stream with a cap
    const plain = new StreamingContext({ batchIntervalMs: 1000 });
    const pressed = new StreamingContext({ batchIntervalMs: 1000, backpressure: { enabled: true } });
    const capped = new StreamingContext({ batchIntervalMs: 1000 });
    // when each makes a folder stream
    const sourceOf = (stream: unknown) => (stream as InputDStream<string>).source as TextFileSource;
    const streams = [
      plain.textFileStream(dir),
      pressed.textFileStream(dir),
      capped.textFileStream(dir, 2, { maxRatePerSec: 10 }),
    ];
    // then only the stream without a rate limit is read by its tasks
    expect(streams.map((s) => sourceOf(s).readsDirectly)).toEqual([true, false, false]);
  });
});
