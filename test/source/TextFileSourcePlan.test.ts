import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FolderReadPart } from '../../lib/source/FolderReadPlanner';
import { RateLimit } from '../../lib/source/RateLimit';
import type { PlanContext } from '../../lib/source/Source';
import { TextFileSource } from '../../lib/source/TextFileSource';

/** A plan context of batch `batchTime` whose reports are kept in `reports`. */
function planContext(batchTime: number, reports = new Map<string, string>()): PlanContext {
  return {
    folder: `input/n1/${batchTime}/`,
    readReport: async (key) => {
      const text = reports.get(key);
      return text === undefined ? undefined : new TextEncoder().encode(text);
    },
  };
}

/** The files each part reads, as `name:start-end@size`. */
function filesOf(parts: readonly unknown[]): string[][] {
  return (parts as (FolderReadPart | null)[]).map(
    (part) => part?.ranges.map((r) => `${r.name}:${r.startByte}-${r.endByte}@${r.sizeBytes}`) ?? [],
  );
}

describe('TextFileSource planning its batches', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'sluice-textfile-plan-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('reads directly by default and plans the new files by size, without their lines', async () => {
    // given a file there at start, then two new ones
    await writeFile(join(directory, 'old.txt'), 'old\n');
    const source = new TextFileSource(directory);
    await source.start();
    await writeFile(join(directory, 'b.txt'), 'b1\nb2\n');
    await writeFile(join(directory, 'a.txt'), 'a1\n');
    await writeFile(join(directory, '_b.tmp'), 'not ready\n');
    // when the next batch is planned over 2 partitions
    const plan = await source.planBatch(1000, 1000, 2, planContext(1000));
    // then the plan names the new files in name order, split by bytes; the reader is the folder reader
    expect(source.readsDirectly).toBe(true);
    expect(plan.reader).toBe('folder');
    expect(filesOf(plan.parts)).toEqual([['a.txt:0-3@3', 'b.txt:0-1@6'], ['b.txt:1-6@6']]);
    // (the folder's name is random, and held "b1" once: look for the line outside it)
    expect(JSON.stringify(plan).replaceAll(directory, '<folder>')).not.toContain('b1');
    expect((plan.parts as FolderReadPart[]).map((p) => p.reportKey)).toEqual([
      'input/n1/1000/read-0.json',
      'input/n1/1000/read-1.json',
    ]);
    expect(source.checkpointPosition()).toEqual(['a.txt', 'b.txt', 'old.txt']);
  });

  it('plans a file once: the next batch, and a source restored from the position, plan nothing of it', async () => {
    // given a batch that planned a file
    const source = new TextFileSource(directory);
    await source.start();
    await writeFile(join(directory, 'a.txt'), 'a1\n');
    await source.planBatch(1000, 1000, 1, planContext(1000));
    const restored = new TextFileSource(directory);
    await restored.start();
    restored.restorePosition(source.checkpointPosition());
    await writeFile(join(directory, 'c.txt'), 'c1\n');
    // when both plan the next batch
    const next = await source.planBatch(2000, 1000, 1, planContext(2000));
    const afterRestart = await restored.planBatch(2000, 1000, 1, planContext(2000));
    // then only the new file
    expect(filesOf(next.parts)).toEqual([['c.txt:0-3@3']]);
    expect(filesOf(afterRestart.parts)).toEqual([['c.txt:0-3@3']]);
  });

  it('plans an empty file and an empty batch as parts that read nothing', async () => {
    // given an empty new file
    const source = new TextFileSource(directory);
    await source.start();
    await writeFile(join(directory, 'empty.txt'), '');
    // when
    const plan = await source.planBatch(1000, 1000, 2, planContext(1000));
    // then it is seen, and read by no part
    expect(plan.parts).toEqual([null, null]);
    expect(source.checkpointPosition()).toEqual(['empty.txt']);
  });

  it("counts a planned batch's lines from its tasks' reports", async () => {
    // given a plan of two parts whose tasks reported 3 and 4 lines
    const source = new TextFileSource(directory);
    await source.start();
    await writeFile(join(directory, 'a.txt'), 'a\n'.repeat(7));
    const reports = new Map([
      ['input/n1/1000/read-0.json', '{"records":3}'],
      ['input/n1/1000/read-1.json', '{"records":4}'],
    ]);
    const plan = await source.planBatch(1000, 1000, 2, planContext(1000, reports));
    // when
    const records = await source.recordsRead(plan, planContext(1000, reports));
    // then
    expect(records).toBe(7);
  });

  it('refuses a rate limit with a sentence saying how to get one', async () => {
    // given a source read directly, asked to plan under a limit
    const source = new TextFileSource(directory);
    await source.start();
    const limit = new RateLimit({ maxRatePerSec: 3 }).forBatch(1000, 1000);
    // when
    const planning = source.planBatch(1000, 1000, 1, { ...planContext(1000), limit });
    // then
    await expect(planning).rejects.toThrow(
      `textFile(${directory}) is read by its tasks and so cannot count lines against a rate limit; construct it with readsDirectly: false`,
    );
  });

  it('does not read directly when told not to, and then reads lines at the tick as before', async () => {
    // given
    const source = new TextFileSource(directory, { readsDirectly: false });
    await source.start();
    await writeFile(join(directory, 'a.txt'), 'a1\na2\n');
    // when
    const lines = await source.recordsFor();
    // then
    expect(source.readsDirectly).toBe(false);
    expect(lines).toEqual(['a1', 'a2']);
  });

  it('takes the rest of a file a capped batch took in part, once the cap is lifted, and not its taken lines again', async () => {
    // given a capped source that took 2 of a file's 4 lines before the job stopped
    const source = new TextFileSource(directory, { readsDirectly: false });
    await source.start();
    await writeFile(join(directory, 'a.txt'), 'a1\na2\na3\na4\n');
    expect(
      await source.recordsFor(1000, 1000, new RateLimit({ maxRatePerSec: 2 }).forBatch(1000, 1000)),
    ).toEqual(['a1', 'a2']);
    const position = source.checkpointPosition();
    await writeFile(join(directory, 'b.txt'), 'b1\n');
    // when the job resumes without maxRatePerSec: its tasks read the folder, or the driver does
    const planned = new TextFileSource(directory);
    planned.restorePosition(position);
    const plan = await planned.planBatch(2000, 1000, 1, planContext(2000));
    const read = new TextFileSource(directory, { readsDirectly: false });
    read.restorePosition(position);
    const lines = await read.recordsFor(2000, 1000);
    // then the batch takes the file's lines not taken yet, from the byte they start at, then the new file, where it
    // read the file whole and gave a1 and a2 twice
    expect(filesOf(plan.parts)).toEqual([['a.txt:6-12@12', 'b.txt:0-3@3']]);
    expect(lines).toEqual(['a3', 'a4', 'b1']);
    // and the file counts as read: the next batch takes nothing
    expect(planned.checkpointPosition()).toEqual(['a.txt', 'b.txt']);
    expect(filesOf((await planned.planBatch(3000, 1000, 1, planContext(3000))).parts)).toEqual([[]]);
    expect(await read.recordsFor(3000, 1000)).toEqual([]);
  });
});
