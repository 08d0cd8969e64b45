import { mkdir, mkdtemp, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFolderPart } from '../../lib/source/FolderPartReader';
import type { FolderReadPart } from '../../lib/source/FolderReadPlanner';
import type { BatchLimit } from '../../lib/source/RateLimit';
import type { PlanContext, ReadPlan } from '../../lib/source/Source';
import { TextFileSource } from '../../lib/source/TextFileSource';

/** A limit of `n` lines per batch. */
const atMost = (n: number): BatchLimit => ({ maxRecords: () => n });

/** A plan context of batch `batchTime` whose tasks' reports nobody reads. */
const planContext = (batchTime: number): PlanContext => ({
  folder: `input/n1/${batchTime}/`,
  readReport: async () => undefined,
});

/** The lines the tasks of a planned batch read, in partition order, as the folder reader gives them. */
async function readPlan(plan: ReadPlan): Promise<string[]> {
  const lines: string[] = [];
  for (const part of plan.parts as (FolderReadPart | null)[]) {
    if (part) for (const line of await readFolderPart(part)) lines.push(line);
  }
  return lines;
}

/** The names a source's checkpoint position holds as seen (the file read in part is apart). */
function seenOf(source: TextFileSource): string[] {
  const position = source.checkpointPosition();
  return Array.isArray(position) ? position : position.files;
}

/** A source as a restart builds it: started on the folder, then given the position in its JSON form. */
async function restarted(directory: string, position: unknown, options = {}): Promise<TextFileSource> {
  const source = new TextFileSource(directory, options);
  await source.start();
  source.restorePosition(JSON.parse(JSON.stringify(position)));
  return source;
}

describe('TextFileSource remembering the files it read only while they are in the folder', () => {
  let directory: string;
  const write = (name: string, text: string) => writeFile(join(directory, name), text);
  const remove = (name: string) => unlink(join(directory, name));

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'sluice-textfile-seen-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  describe('read at the tick', () => {
    it('forgets the files removed since the last listing, and keeps those still there', async () => {
      // given a file skipped at start and two read by a batch
      await write('old.txt', 'old\n');
      const source = new TextFileSource(directory, { readsDirectly: false });
      await source.start();
      await write('a.txt', 'a1\n');
      await write('b.txt', 'b1\n');
      const first = await source.recordsFor();
      const before = seenOf(source);
      // when the processed files are removed, and the next batch lists the folder
      await remove('old.txt');
      await remove('a.txt');
      const second = await source.recordsFor();
      // then the position holds only the name still in the folder, and nothing was read again
      expect(first).toEqual(['a1', 'b1']);
      expect(before).toEqual(['a.txt', 'b.txt', 'old.txt']);
      expect(second).toEqual([]);
      expect(seenOf(source)).toEqual(['b.txt']);
    });

    it('reads a file removed and then created again under the same name as a new file, once', async () => {
      // given a file read, then removed, and a batch that listed the folder without it
      const source = new TextFileSource(directory, { readsDirectly: false });
      await source.start();
      await write('a.txt', 'first a\n');
      const first = await source.recordsFor();
      await remove('a.txt');
      const whileGone = await source.recordsFor();
      // when a new file of that name appears
      await write('a.txt', 'second a\n');
      const next = await source.recordsFor();
      const after = await source.recordsFor();
      // then it is read in the next batch, and only there
      expect([first, whileGone, next, after]).toEqual([['first a'], [], ['second a'], []]);
    });

    it('forgets the files of an old position that are gone since, at the first listing after the restart', async () => {
      // given a position naming two files, one of which was removed while the job was down
      const source = new TextFileSource(directory, { readsDirectly: false });
      await source.start();
      await write('a.txt', 'a1\n');
      await write('b.txt', 'b1\n');
      await source.recordsFor();
      const position = source.checkpointPosition();
      await remove('a.txt');
      // when a restarted source takes its first batch
      const again = await restarted(directory, position, { readsDirectly: false });
      const batch = await again.recordsFor();
      // then the file still there is not read again, and the gone one is no longer remembered
      expect(batch).toEqual([]);
      expect(seenOf(again)).toEqual(['b.txt']);
    });

    it('keeps a name that is in the folder but not a ready file for a while, so it is not read again', async () => {
      // given a file read, then replaced for a batch by an entry that is not a regular file
      const source = new TextFileSource(directory, { readsDirectly: false });
      await source.start();
      await write('a.txt', 'a1\n');
      const first = await source.recordsFor();
      await remove('a.txt');
      await mkdir(join(directory, 'a.txt'));
      const whileNotReady = await source.recordsFor();
      const seenWhileNotReady = seenOf(source);
      // when the name is a regular file again
      await rmdir(join(directory, 'a.txt'));
      await write('a.txt', 'a1\n');
      const after = await source.recordsFor();
      // then the listing never found the name gone, so it was never forgotten, and it is not read twice
      expect([first, whileNotReady, after]).toEqual([['a1'], [], []]);
      expect(seenWhileNotReady).toEqual(['a.txt']);
    });
  });

  describe('rate-limited', () => {
    it('forgets the removed files and keeps the progress in the file read in part, across a restart', async () => {
      // given 3 lines a batch over a file of 2 lines and one of 5: the second is read in part
      const source = new TextFileSource(directory, { readsDirectly: false });
      await source.start();
      await write('a.txt', 'a1\na2\n');
      await write('b.txt', 'b1\nb2\nb3\nb4\nb5\n');
      const first = await source.recordsFor(1000, 1000, atMost(3));
      // when the file read whole is removed, a batch takes only lines of the file read in part, and a restarted
      // source lists the folder in the batch that finishes it and starts the next one
      await remove('a.txt');
      const second = await source.recordsFor(2000, 1000, atMost(3));
      const midway = source.checkpointPosition();
      await write('c.txt', 'c1\nc2\nc3\n');
      const again = await restarted(directory, midway, { readsDirectly: false });
      const third = await again.recordsFor(3000, 1000, atMost(3));
      const afterTrim = again.checkpointPosition();
      await remove('b.txt');
      const fourth = await again.recordsFor(4000, 1000, atMost(3));
      const fifth = await again.recordsFor(5000, 1000, atMost(3));
      // then every line comes once, in order; the file read in part continued where it stopped; the position named
      // the removed file until a batch listed the folder, and then only the names still there
      expect([first, second, third, fourth, fifth]).toEqual([
        ['a1', 'a2', 'b1'],
        ['b2', 'b3', 'b4'],
        ['b5', 'c1', 'c2'],
        ['c3'],
        [],
      ]);
      expect(midway).toEqual({ files: ['a.txt'], partial: { name: 'b.txt', taken: 4, byte: 12 } });
      expect(afterTrim).toEqual({ files: ['b.txt'], partial: { name: 'c.txt', taken: 2, byte: 6 } });
      expect(again.checkpointPosition()).toEqual(['c.txt']);
    });

    it('reads a file removed and then created again under the same name as a new file, once', async () => {
      // given a file read under a limit, then removed, and a batch that listed the folder without it
      const source = new TextFileSource(directory, { readsDirectly: false });
      await source.start();
      await write('a.txt', 'first a\n');
      const first = await source.recordsFor(1000, 1000, atMost(5));
      await remove('a.txt');
      const whileGone = await source.recordsFor(2000, 1000, atMost(5));
      // when a new file of that name appears
      await write('a.txt', 'second a\n');
      const next = await source.recordsFor(3000, 1000, atMost(5));
      const after = await source.recordsFor(4000, 1000, atMost(5));
      // then it is read in the next batch, and only there
      expect([first, whileGone, next, after]).toEqual([['first a'], [], ['second a'], []]);
    });
  });

  describe('planned, read by the tasks', () => {
    it('forgets the files removed since the last plan, and keeps those still there', async () => {
      // given two files planned by a batch
      const source = new TextFileSource(directory);
      await source.start();
      await write('a.txt', 'a1\n');
      await write('b.txt', 'b1\n');
      await source.planBatch(1000, 1000, 2, planContext(1000));
      const before = seenOf(source);
      // when one is removed once its batch completed, and the next batch is planned
      await remove('a.txt');
      const next = await source.planBatch(2000, 1000, 2, planContext(2000));
      // then the position holds only the name still in the folder, and nothing is planned again
      expect(before).toEqual(['a.txt', 'b.txt']);
      expect(next.parts).toEqual([null, null]);
      expect(seenOf(source)).toEqual(['b.txt']);
    });

    it('plans a file removed and then created again under the same name as a new file, once', async () => {
      // given a file planned, then removed, and a batch planned without it
      const source = new TextFileSource(directory);
      await source.start();
      await write('a.txt', 'first a\n');
      const first = await readPlan(await source.planBatch(1000, 1000, 1, planContext(1000)));
      await remove('a.txt');
      const whileGone = await readPlan(await source.planBatch(2000, 1000, 1, planContext(2000)));
      // when a new file of that name appears
      await write('a.txt', 'second a\n');
      const next = await readPlan(await source.planBatch(3000, 1000, 1, planContext(3000)));
      const after = await readPlan(await source.planBatch(4000, 1000, 1, planContext(4000)));
      // then it is planned in the next batch, and only there
      expect([first, whileGone, next, after]).toEqual([['first a'], [], ['second a'], []]);
    });

    it('reads every line once when files are removed after their batch and their names come back', async () => {
      // given a producer that drops two files a batch under names it reuses every third batch, and a job that plans
      // batch t before the tasks of batch t-1 read their files, removes those once read, and restarts from the
      // position after batch 5
      const written: string[] = [];
      const positions: string[][] = [];
      let source = new TextFileSource(directory);
      await source.start();
      const read: string[] = [];
      let unread: ReadPlan | undefined;
      let unreadNames: string[] = [];
      for (let batch = 1; batch <= 9; batch++) {
        const names = [`slot${batch % 3}-x.txt`, `slot${batch % 3}-y.txt`];
        for (const name of names) {
          const lines = [1, 2, 3].map((i) => `batch ${batch} ${name} line ${i}`);
          written.push(...lines);
          await write(name, `${lines.join('\n')}\n`);
        }
        // when batch t is planned while the files of batch t-1 wait for their tasks
        const plan = await source.planBatch(batch * 1000, 1000, 2, planContext(batch * 1000));
        positions.push(seenOf(source));
        if (batch === 5) source = await restarted(directory, source.checkpointPosition());
        if (unread) read.push(...(await readPlan(unread)));
        for (const name of unreadNames) await remove(name);
        unread = plan;
        unreadNames = names;
      }
      if (unread) read.push(...(await readPlan(unread)));
      // then every line written was read exactly once, none lost
      expect([...read].sort()).toEqual([...written].sort());
      // and the position only ever named the files of the batch planned and of the one whose tasks had yet to read
      for (const [i, seen] of positions.entries()) {
        const batch = i + 1;
        const slots = batch === 1 ? [batch % 3] : [(batch - 1) % 3, batch % 3];
        expect(seen).toEqual(slots.flatMap((s) => [`slot${s}-x.txt`, `slot${s}-y.txt`]).sort());
      }
    });
  });
});
