import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';
import { type CheckpointData, METADATA_KEY } from '../../lib/scheduler/CheckpointData';

const jobs = new URL('../helpers/runtimeJobs.ts', import.meta.url).pathname;
const job = (exportName: string) => ({ kind: 'module', path: jobs, exportName }) as const;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-dead-letter-once-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a task retried after it dead-lettered records', () => {
  for (const workers of [0, 2]) {
    it(`writes each dead letter once (${workers} workers)`, async () => {
      // given a partition whose map rejects two lines, and whose task then fails once as a whole
      // when the batch runs, retrying the task
      const result = await runBatches(job('failsOnceAfterDeadLetters'), 1, { workers, storeDir: dir });
      // then the retry happened, the good line is out, and each rejected line is one dead letter, in the file too
      expect(result.error).toBeUndefined();
      expect(result.batches[0]!.taskAttempts).toBeGreaterThan(result.batches[0]!.tasks);
      expect(result.recordsOf('numbers')).toEqual([[1]]);
      expect(result.deadLetters.map((l) => l.record).sort()).toEqual(['x', 'y']);
      const file = (await readFile(join(dir, 'dead-letter.jsonl'), 'utf8')).trim().split('\n');
      expect(file.map((line) => JSON.parse(line).record).sort()).toEqual(['x', 'y']);
      // and the letter as written holds no trace of the bookkeeping that wrote it once
      expect(Object.keys(JSON.parse(file[0]!))).not.toContain('from');
    });
  }
});

describe('a task retried after it cached a dataset that dead-lettered records', () => {
  it('writes each dead letter once: the retry in the same process computes the dataset again', async () => {
    // given cached parsed lines whose map rejects two, read by a task that then fails once as a whole
    // when the batch runs in one process, retrying the task there
    const result = await runBatches(job('cachedThenFailsOnce'), 1, { workers: 0, storeDir: dir });
    // then the retry did not find the failed attempt's partition in memory: it parsed the lines again, and each
    // rejected line is one letter (before, the retry read the cached partition and the letters were lost)
    expect(result.error).toBeUndefined();
    expect(result.batches[0]!.taskAttempts).toBeGreaterThan(result.batches[0]!.tasks);
    expect(result.recordsOf('numbers')).toEqual([[1]]);
    expect(result.deadLetters.map((l) => l.record).sort()).toEqual(['x', 'y']);
  });
});

describe('a dataset read directly and through a union', () => {
  it('writes its dead letters once, though the union computes its partition under another number', async () => {
    // given parsed lines read by an output and by a union after another stream
    // when two batches run
    const result = await runBatches(job('parsedTwiceThroughUnion'), 2, { workers: 0, storeDir: dir });
    // then both outputs have the good lines, and each rejected line is one letter
    expect(result.recordsOf('both').map((b) => [...b].sort())).toEqual([
      [1, 10],
      [2, 20],
    ]);
    expect(result.deadLetters.map((l) => [l.batchTime, l.record])).toEqual([
      [1000, 'x'],
      [2000, 'y'],
    ]);
  });
});

describe('a dataset read through a coalesce, whose task computes several of its partitions', () => {
  for (const workers of [0, 2]) {
    it(`writes each dead letter once, though the task is retried and an output reads the dataset directly (${workers} workers)`, async () => {
      // given parsed lines whose map rejects a line in each of its two partitions, coalesced into one partition
      // whose task then fails once as a whole, and read directly by a second output
      // when the batch runs, retrying the coalesced task
      const result = await runBatches(job('coalescedAfterDeadLetters'), 1, { workers, storeDir: dir });
      // then the retry happened, both outputs have the good lines, and each rejected line is one letter (named by
      // the task's partition, both letters of the coalesced task were of partition 0, and the direct output's task
      // of partition 1 wrote y again)
      expect(result.error).toBeUndefined();
      expect(result.batches[0]!.taskAttempts).toBeGreaterThan(result.batches[0]!.tasks);
      expect(result.recordsOf('coalesced')).toEqual([[1, 2]]);
      expect(result.recordsOf('parsed').map((b) => [...b].sort())).toEqual([[1, 2]]);
      // (in the order the tasks rejected them, which concurrent tasks do not fix)
      expect(result.deadLetters.map((l) => l.record).sort()).toEqual(['x', 'y']);
      const file = (await readFile(join(dir, 'dead-letter.jsonl'), 'utf8')).trim().split('\n');
      expect(file.map((line) => JSON.parse(line).record).sort()).toEqual(['x', 'y']);
    });
  }
});

describe('a record refused after a coalesce', () => {
  for (const workers of [0, 2]) {
    it(`is dead-lettered as the line it was parsed from (${workers} workers)`, async () => {
      // given lines parsed in two partitions, coalesced into one, then upper-cased
      // when the batch runs
      const result = await runBatches(job('upperAfterCoalesce'), 1, { workers, storeDir: dir });
      // then the strings are out, and each object the map refused is a letter holding its line, in partition order
      expect(result.error).toBeUndefined();
      expect(result.recordsOf('upper')).toEqual([['A', 'B']]);
      expect(result.deadLetters.map((l) => l.record)).toEqual(['{"a":1}', '{"b":2}']);
    });
  }
});

describe('a dataset crossed with itself', () => {
  it('writes each dead letter once, though three of the product’s four tasks compute each of its partitions', async () => {
    // given parsed lines whose map rejects a line in each of its two partitions, crossed with themselves, and read
    // directly by a second output
    // when the batch runs
    const result = await runBatches(job('cartesianOfDeadLetters'), 1, { workers: 0, storeDir: dir });
    // then the product pairs the good lines, and each rejected line is one letter
    expect(result.error).toBeUndefined();
    expect(result.recordsOf('pairs')).toEqual([
      [
        [1, 1],
        [1, 2],
        [2, 1],
        [2, 2],
      ],
    ]);
    // (in the order the tasks rejected them, which concurrent tasks do not fix)
    expect(result.deadLetters.map((l) => l.record).sort()).toEqual(['x', 'y']);
  });
});

describe('a static dataset that every batch joins', () => {
  it('writes the letters of its bad records once, in the first batch, however long the job runs', async () => {
    // given a static dataset whose last record its op rejects, joined by every batch of a stream
    const document = {
      name: 'static-letters',
      batchIntervalMs: 1000,
      sources: { users: { type: 'queue', batches: [['a', 'b'], ['a'], ['b'], ['a'], ['b'], ['a']] } },
      datasets: {
        regions: {
          type: 'parallelize',
          records: ['a,1', 'b,2', 'c,zz'],
          ops: [{ op: 'map', expr: '($p := $split($, ","); [$p[0], $number($p[1])])' }],
        },
      },
      streams: {
        pairs: { from: 'users', ops: [{ op: 'map', expr: '[$, 1]' }] },
        joined: { from: 'pairs', ops: [{ op: 'join', with: 'regions' }] },
      },
      outputs: [{ stream: 'joined', type: 'collectBatches', name: 'joined' }],
    };
    // when six batches run (cleanup forgets the first batch's datasets once it completed)
    const result = await runBatches({ kind: 'document', document, baseDir: dir }, 6, {
      workers: 0,
      storeDir: dir,
    });
    // then every batch joined, and the rejected record is one letter, of the first batch (before, the ledger
    // forgot the dataset with the first batch's datasets, and every batch after the first wrote it again)
    expect(result.error).toBeUndefined();
    expect(result.recordsOf('joined').map((b) => b.length)).toEqual([2, 1, 1, 1, 1, 1]);
    expect(result.deadLetters.map((l) => [l.batchTime, l.record])).toEqual([[1000, 'c,zz']]);
    // and a run resumed from the store (a restarted driver, which names the dataset as the first did) writes none
    const resumed = await runBatches({ kind: 'document', document, baseDir: dir }, 8, {
      workers: 0,
      storeDir: dir,
    });
    expect(resumed.error).toBeUndefined();
    expect(resumed.batches.map((b) => b.batchTime)).toEqual([7000, 8000]);
    expect(resumed.deadLetters).toEqual([]);
  });
});

describe('a map side that read its dataset from memory', () => {
  for (const workers of [0, 2]) {
    it(`writes its letter once though a restarted run computes the dataset again (${workers} workers)`, async () => {
      // given a window's per-batch reduce whose map side reads cached pairs, and rejects one value of batch 1000
      // when one batch runs, and a restarted run on the same store runs two more
      const first = await runBatches(job('windowOverCachedPairs'), 1, { workers, storeDir: dir });
      const restarted = await runBatches(job('windowOverCachedPairs'), 3, { workers, storeDir: dir });
      // then the sums are those of an uninterrupted run
      expect(first.error).toBeUndefined();
      expect(restarted.error).toBeUndefined();
      expect([...first.recordsOf('sums'), ...restarted.recordsOf('sums')]).toEqual([
        [['a', 1]],
        [['a', 3]],
        [['a', 5]],
      ]);
      // and the rejected value is one letter, of batch 1000: the plan read the cached pairs under no name, so the
      // checkpoint did not list their letters as written, and the restarted window, computing the pairs of 1000
      // again, wrote the letter a second time under batch 2000
      const file = (await readFile(join(dir, 'dead-letter.jsonl'), 'utf8')).trim().split('\n');
      expect(file.map((line) => [JSON.parse(line).batchTime, JSON.parse(line).record])).toEqual([
        [1000, ['a', 'x']],
      ]);
    });
  }
});

describe('a checkpoint naming a dataset stored by a batch that did not complete', () => {
  it('has the restarted driver compute the dataset again, and write its dead letters', async () => {
    // given a running sum checkpointed every 3 batches, whose update rejects batch 3's value
    const document = {
      name: 'stored-pending',
      batchIntervalMs: 1000,
      sources: { pairs: { type: 'queue', batches: [[['a', 1]], [['a', 2]], [['a', 'x']]] } },
      streams: {
        sums: {
          from: 'pairs',
          ops: [{ op: 'updateStateByKey', fn: 'sumState' }],
          checkpointIntervalMs: 3000,
        },
      },
      outputs: [{ stream: 'sums', type: 'collectBatches', name: 'sums' }],
    };
    const run = (batches: number, storeDir: string) =>
      runBatches({ kind: 'document', document, baseDir: dir }, batches, { workers: 0, storeDir });
    const first = join(dir, 'first');
    const second = join(dir, 'second');
    expect((await run(2, first)).error).toBeUndefined();
    await cp(first, second, { recursive: true });
    const third = await run(3, first);
    expect(third.deadLetters.map((l) => [l.batchTime, l.record])).toEqual([[3000, ['a', 'x']]]);
    // and the store as a driver left it that died in batch 3, after it stored batch 3's state and wrote a
    // checkpoint (as the serverless coordinator's at the next batch's generation, batches overlapping), before it
    // wrote the batch's dead letters: batch 2 the last completed, batch 3's state among the stored datasets
    const read = async (storeDir: string) =>
      JSON.parse(await readFile(join(storeDir, METADATA_KEY), 'utf8')) as CheckpointData;
    const storedInThree = (await read(first)).stored.filter(({ key }) => key.endsWith('@3000'));
    expect(storedInThree).not.toEqual([]);
    for (const { key } of storedInThree) {
      await cp(join(first, 'persist', key), join(second, 'persist', key), { recursive: true });
    }
    const afterTwo = await read(second);
    await writeFile(
      join(second, METADATA_KEY),
      JSON.stringify({ ...afterTwo, stored: [...afterTwo.stored, ...storedInThree] }),
    );
    // when a driver restarts from it
    const rerun = await run(3, second);
    // then it runs batch 3 again, with the same output, and writes its dead letter (before, it read batch 3's
    // state from the store, computed nothing, and the letter was lost)
    expect(rerun.error).toBeUndefined();
    expect(rerun.batches.map((b) => b.batchTime)).toEqual([3000]);
    expect(rerun.recordsOf('sums')).toEqual(third.recordsOf('sums').slice(-1));
    expect(rerun.deadLetters.map((l) => [l.batchTime, l.record])).toEqual([[3000, ['a', 'x']]]);
  });
});
