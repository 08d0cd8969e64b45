import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamGraphError } from '../../lib/errors';
import { LocalRuntime, runBatches } from '../../lib/local/LocalRuntime';
import { StreamingContext } from '../../lib/StreamingContext';
import { LogicalClock } from '../../lib/scheduler/Clock';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { CountingStore } from '../helpers/CountingStore';
import { connectInProcess } from '../helpers/connectInProcess';
import { SlowerDStream } from '../helpers/SlowerDStream';

const jobs = new URL('../helpers/runtimeJobs.ts', import.meta.url).pathname;
const job = (exportName: string) => ({ kind: 'module', path: jobs, exportName }) as const;
const sliceJobs = new URL('../helpers/sliceJobs.ts', import.meta.url).pathname;
const sliceJob = (exportName: string) => ({ kind: 'module', path: sliceJobs, exportName }) as const;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-runtime-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('batch times and empty batches', () => {
  it('numbers batches as multiples of the interval and keeps producing empty batches after the queue', async () => {
    // given a queue of two batches and a count, with 500 ms batches
    // when four batches run
    const result = await runBatches(job('countUntilQueueRunsOut'), 4);
    // then the batch times are 500, 1000, 1500, 2000 and the empty batches count 0
    expect(result.outputs.map((o) => o.batchTime)).toEqual([500, 1000, 1500, 2000]);
    expect(result.recordsOf('counts')).toEqual([[1], [2], [0], [0]]);
  });
});

describe('print', () => {
  it("uses Spark's format and prints the header for an empty batch", async () => {
    // given a job printing 10 records per batch
    let text = '';
    // when three batches run, the first with 12 records
    await runBatches(job('printJob'), 3, { write: (t) => (text += t) });
    // then each batch has the dashes, the time, the first 10 records, an ellipsis when more, and a blank line
    const dashes = '-------------------------------------------';
    const first = [
      dashes,
      'Time: 1000 ms',
      dashes,
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
      '10',
      '...',
      '',
    ];
    const second = [dashes, 'Time: 2000 ms', dashes, '(k,1)', ''];
    const third = [dashes, 'Time: 3000 ms', dashes, ''];
    expect(text).toBe(`${[...first, ...second, ...third].join('\n')}\n`);
  });

  it('prints a number JSON cannot write by its name, as Spark prints a double', async () => {
    // given a job whose function makes Infinity, NaN and -Infinity, each the value of a pair
    let text = '';
    // when its batch runs
    await runBatches(job('printNonFinite'), 1, { write: (t) => (text += t) });
    // then they print as Spark's doubles do, not as JSON's null
    expect(text.split('\n').slice(3, 6)).toEqual(['(k,Infinity)', '(k,NaN)', '(k,-Infinity)']);
  });

  it("prints a group as Spark's CompactBuffer, a group of two included, after a filter and a window too", async () => {
    // given a job printing groupByKey's groups, filtered and windowed, a cogroup's, groupByKeyAndWindow's, and a map's copy
    let text = '';
    // when its batch runs
    await runBatches(job('printGroups'), 1, { write: (t) => (text += t) });
    // then each group prints as Spark prints a CompactBuffer, not as a pair or as JSON
    const batches = text.split('\n\n').map((batch) => batch.split('\n').slice(3));
    expect(batches.slice(0, 5)).toEqual([
      ['(a,CompactBuffer(1))', '(b,CompactBuffer(2, 3))', '(c,CompactBuffer(4, 5, 6))'],
      ['(a,CompactBuffer(1))', '(b,CompactBuffer(2, 3))'],
      [
        '(a,(CompactBuffer(1),CompactBuffer()))',
        '(b,(CompactBuffer(2, 3),CompactBuffer(2, 3)))',
        '(c,(CompactBuffer(4, 5, 6),CompactBuffer()))',
      ],
      ['(a,CompactBuffer(1))', '(b,CompactBuffer(2, 3))', '(c,CompactBuffer(4, 5, 6))'],
      // and a map's records are whatever the function made: print cannot know they are groups
      ['(a,[1])', '(b,(2,3))', '(c,[4,5,6])'],
    ]);
  });

  it("prints an outer join's sides as Spark's Some and None, nested in groups too, where functions see null", async () => {
    // given a job printing the outer joins, windowed, filtered on the missing side, unioned, of groups, and a map's copy
    let text = '';
    // when its batch runs
    await runBatches(job('printOuterJoins'), 1, { write: (t) => (text += t) });
    // then each record prints as Spark's toString prints the Scala tuple of Options and CompactBuffers
    const batches = text.split('\n\n').map((batch) => batch.split('\n').slice(3).sort());
    expect(batches.slice(0, 11)).toEqual([
      ['(a,(1,Some(2)))', '(b,(3,None))'],
      ['(a,(Some(1),2))', '(c,(None,4))'],
      ['(a,(Some(1),Some(2)))', '(b,(Some(3),None))', '(c,(None,Some(4)))'],
      ['(a,(Some(1),Some(2)))', '(b,(Some(3),None))', '(c,(None,Some(4)))'],
      // and the filter's function saw the missing side as null
      ['(b,(3,None))'],
      ['(a,(1,Some(2)))', '(b,(3,None))', '(b,(3,None))'],
      ['(a,(CompactBuffer(1),Some(CompactBuffer(2, 5))))', '(b,(CompactBuffer(3),None))'],
      ['(a,(CompactBuffer(1),CompactBuffer(2)))'],
      ['(a,CompactBuffer((1,Some(2))))', '(b,CompactBuffer((3,None)))'],
      [
        '(a,(CompactBuffer(CompactBuffer(1)),CompactBuffer(2)))',
        '(b,(CompactBuffer(CompactBuffer(3)),CompactBuffer()))',
        '(c,(CompactBuffer(),CompactBuffer(4)))',
      ],
      // and a map's records are whatever the function made: print cannot know a side is an Option
      ['(a,(1,2))', '(b,(3,null))'],
    ]);
  });

  it('prints undefined as null, as the record reads once it crossed JSON', async () => {
    // given a job whose function puts undefined in a pair's value, in its key, and as the whole record
    let text = '';
    // when its batch runs
    await runBatches(job('printUndefined'), 1, { write: (t) => (text += t) });
    // then each prints as null, as after a shuffle or on Lambda, where the record travelled as JSON
    expect(text.split('\n').slice(3, 6)).toEqual(['(k,null)', '(null,1)', 'null']);
  });

  it('prints only the header and an ellipsis with print(0), as Spark does', async () => {
    // given a job printing 0 records per batch
    let text = '';
    // when two batches run, the first with 2 records, the second empty
    await runBatches(job('printNoRecords'), 2, { write: (t) => (text += t) });
    // then the first batch shows its header and `...`, the empty one its header alone
    const dashes = '-------------------------------------------';
    const first = [dashes, 'Time: 1000 ms', dashes, '...', ''];
    const second = [dashes, 'Time: 2000 ms', dashes, ''];
    expect(text).toBe(`${[...first, ...second].join('\n')}\n`);
  });
});

describe('saveAsTextFiles', () => {
  it('writes one folder per batch with part files and a completion marker, replacing an earlier attempt', async () => {
    // given a stale part file left by an earlier attempt of batch 1000
    await mkdir(join(dir, 'out/counts-1000.txt'), { recursive: true });
    await writeFile(join(dir, 'out/counts-1000.txt/part-00009'), 'stale\n');
    // when two batches run
    const result = await runBatches(job('saveText'), 2, { outputDir: dir });
    expect(result.error).toBeUndefined();
    // then each batch folder holds exactly its part files and _SUCCESS
    const first = (await readdir(join(dir, 'out/counts-1000.txt'))).sort();
    expect(first).toEqual(['_SUCCESS', 'part-00000', 'part-00001']);
    const lines = (
      await Promise.all(
        first
          .filter((f) => f.startsWith('part'))
          .map((f) => readFile(join(dir, 'out/counts-1000.txt', f), 'utf8')),
      )
    )
      .join('')
      .split('\n')
      .filter(Boolean)
      .sort();
    expect(lines).toEqual(['(a,1)', '(b,2)']);
    expect((await readdir(join(dir, 'out/counts-2000.txt'))).sort()).toEqual([
      '_SUCCESS',
      'part-00000',
      'part-00001',
    ]);
  });

  it("names a batch's folder by its time alone when the prefix is empty, as Spark does", async () => {
    // given saveAsTextFiles('', 'txt')
    // when two batches run
    const result = await runBatches(job('saveTextNoPrefix'), 2, { outputDir: dir });
    // then the folders are 1000.txt and 2000.txt, not -1000.txt
    expect(result.error).toBeUndefined();
    expect((await readdir(dir)).filter((name) => name.endsWith('.txt')).sort()).toEqual([
      '1000.txt',
      '2000.txt',
    ]);
    expect(await readFile(join(dir, '1000.txt', 'part-00000'), 'utf8')).toBe('a\n');
  });
});

describe('jsonl', () => {
  it('writes one line per batch with output, batchTime and records', async () => {
    // when three batches run with a jsonl file output
    await runBatches(job('jsonlFile'), 3, { outputDir: dir });
    // then the file holds three lines, the empty batch included
    const lines = (await readFile(join(dir, 'out/numbers.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { output: 'numbers', batchTime: 1000, records: [1, 2] },
      { output: 'numbers', batchTime: 2000, records: [] },
      { output: 'numbers', batchTime: 3000, records: [3] },
    ]);
  });
});

describe('foreachRDD', () => {
  for (const workers of [0, 2]) {
    it(`runs the user function with transformations made inside it (${workers} workers)`, async () => {
      // when a foreachRDD body maps and collects
      const result = await runBatches(job('foreachWithTransformations'), 2, { workers });
      // then the results are right, and the stage with the body's function ran in the driver
      expect(result.error).toBeUndefined();
      expect(result.recordsOf('doubled').map((b) => [...b].sort())).toEqual([[2, 4, 6], [8]]);
      if (workers > 0) expect(result.batches.every((b) => b.driverStages > 0)).toBe(true);
    });
  }
});

describe('dead letters', () => {
  for (const workers of [0, 2]) {
    it(`sends malformed records to the dead-letter output and goes on (${workers} workers)`, async () => {
      // when batches hold a malformed JSON line and a value of the wrong type
      const result = await runBatches(job('malformedRecords'), 2, { workers, storeDir: dir });
      // then the good records are summed, and each bad one is a dead letter with its batch and reason
      expect(result.error).toBeUndefined();
      expect(result.recordsOf('sums')).toEqual([[['a', 3]], [['b', 'x']]]);
      expect(result.deadLetters.map((d) => [d.batchTime, d.record])).toEqual([[1000, 'not json']]);
      expect(result.deadLetters[0]!.error).toMatch(/SyntaxError/);
      expect(result.batches.map((b) => b.deadLetters)).toEqual([1, 0]);
      const file = await readFile(join(dir, 'dead-letter.jsonl'), 'utf8');
      expect(JSON.parse(file.trim()).record).toBe('not json');
    });
  }
});

describe('dead letters of sortBy', () => {
  for (const workers of [0, 2]) {
    it(`dead-letters a record whose sort key throws and sorts the others (${workers} workers)`, async () => {
      // given a sort key that throws on one record of four
      const result = await runBatches(job('sortByThrowingKey'), 1, { workers });
      // then the batch completes in order without it, and it is a dead letter with the key's error
      expect(result.error).toBeUndefined();
      expect(result.recordsOf('sorted')).toEqual([[{ a: 1 }, { a: 2 }, { a: 3 }]]);
      expect(result.deadLetters.map((d) => d.record)).toEqual([{ a: 'x' }]);
      expect(result.deadLetters[0]!.error).toMatch(/a is not a number: "x"/);
    });
  }
});

describe('dead letters of a stream read by two outputs', () => {
  it('counts each rejected record once, while a record that really occurs twice stays twice', async () => {
    // given a stream that is not persisted, so both outputs compute it, over a batch with a malformed line twice
    const document = {
      name: 'two-outputs',
      batchIntervalMs: 1000,
      sources: { lines: { type: 'queue', batches: [['{"a":1}', 'not json', 'not json', '{"a":2}']] } },
      streams: { parsed: { from: 'lines', ops: [{ op: 'map', fn: 'parseJson' }] } },
      outputs: [
        { stream: 'parsed', type: 'print', name: 'first' },
        { stream: 'parsed', type: 'print', name: 'second' },
      ],
    };
    // when the batch runs
    const result = await runBatches({ kind: 'document', document, baseDir: dir }, 1, { storeDir: dir });
    // then both outputs saw the good records, and the two bad lines are two dead letters, not four
    expect(result.recordsOf('first')).toEqual([[{ a: 1 }, { a: 2 }]]);
    expect(result.recordsOf('second')).toEqual([[{ a: 1 }, { a: 2 }]]);
    expect(result.deadLetters.map((d) => d.record)).toEqual(['not json', 'not json']);
    expect(result.batches[0]!.deadLetters).toBe(2);
  });
});

describe('errors', () => {
  it('stops with a clear error when a transform returns nothing', async () => {
    // when the transform returns undefined at batch 2000
    const result = await runBatches(job('transformReturnsNothing'), 3);
    // then the run stops with a message naming the batch, and batch 2000 has no output
    expect(result.error?.message).toMatch(
      /transform function .* returned nothing for batch 2000 ms; it must return a dataset/,
    );
    expect(result.outputs.map((o) => o.batchTime)).toEqual([1000]);
  });

  it('rejects a union of streams with different slide intervals, naming both', () => {
    // given a stream every 1000 ms and one every 2000 ms
    const ssc = new StreamingContext({ batchIntervalMs: 1000 });
    const a = ssc.queueStream([[1]]);
    const b = new SlowerDStream(ssc.queueStream([[2]]), 2);
    // then their union is refused with both intervals in the message
    expect(() => a.union(b)).toThrow(StreamGraphError);
    expect(() => a.union(b)).toThrow(/every 1000 ms.*every 2000 ms/);
  });

  it('rejects a graph without outputs', async () => {
    const ssc = new StreamingContext({ batchIntervalMs: 1000 });
    ssc.queueStream([[1]]).map((x) => x);
    expect(() => ssc.graph.start(0)).toThrow(/no output operation/);
  });

  it('rejects an input stream that no output reads, naming where it was made', () => {
    // given a job whose second queue stream reaches no output
    const ssc = new StreamingContext({ batchIntervalMs: 1000 });
    ssc.queueStream([[1]]).print();
    ssc.queueStream([[2]]).map((x) => x);
    // then the graph is refused at start, at the stream's line (every batch used to fail with "stream queue(1
    // batches) has not been started")
    expect(() => ssc.graph.start(0)).toThrow(StreamGraphError);
    expect(() => ssc.graph.start(0)).toThrow(
      /^the input stream test\/engine\/runtime\.test\.ts:\d+ \(queue\(1 batches\)\) is read by no output/,
    );
  });

  it('rejects a bad batch interval with the value', () => {
    expect(() => new StreamingContext({ batchIntervalMs: 0 })).toThrow(
      /batchIntervalMs must be a positive whole number, got 0/,
    );
  });
});

describe('task retries', () => {
  it('retries a failed task and completes the batch', async () => {
    // when the only task fails on its first attempt
    const result = await runBatches(job('flakyOnce'), 1);
    // then the batch completes with the full output after a second attempt
    expect(result.error).toBeUndefined();
    expect(result.recordsOf('out')).toEqual([[1, 2, 3]]);
    expect(result.batches[0]!.taskAttempts).toBe(result.batches[0]!.tasks + 1);
  });

  it('fails the batch after the last attempt and writes no partial output', async () => {
    // when a task fails on every attempt
    const result = await runBatches(job('alwaysFails'), 2, { outputDir: dir });
    // then the run stops with a report naming the task and the attempts, and nothing was written
    expect(result.error?.message).toMatch(
      /task 0 of stage \d+ failed 2 time\(s\); last error: .*broken partition/,
    );
    expect(result.batches).toHaveLength(1);
    await expect(readdir(join(dir, 'out'))).rejects.toThrow();
  });
});

describe('runners', () => {
  it('runs tasks on worker threads when asked', async () => {
    const result = await runBatches(job('threadIds'), 1, { workers: 2 });
    const ids = result.recordsOf('threads')[0]!;
    expect(ids).toHaveLength(4);
    expect(ids.every((id) => id !== 0)).toBe(true);
  });

  it('runs tasks in the driver thread with no workers', async () => {
    const result = await runBatches(job('threadIds'), 1, { workers: 0 });
    expect(result.recordsOf('threads')[0]).toEqual([0, 0, 0, 0]);
  });

  it('runs output jobs concurrently when concurrentJobs allows it', async () => {
    const result = await runBatches(job('twoConcurrentOutputs'), 1);
    expect(result.error).toBeUndefined();
  });

  for (const workers of [0, 2]) {
    it(`keeps a held batch's state in memory while later batches' tasks run (${workers} workers)`, async () => {
      // given a running count whose batch at 400 ms holds an output until batch 1500's ran (concurrentJobs 2)
      // when fifteen batches run on the system clock
      const result = await runBatches(job('stateReadWhileLaterBatchesRun'), 15, { workers, clock: 'system' });
      // then the held output reads the count of 400 ms: a later batch's tasks evicted the memory copies it read
      // (by their own batch time), and the batch, replanning once per copy gone, failed ("no longer cached")
      expect(result.error).toBeUndefined();
      const held = result.outputs.filter((o) => o.output === 'held');
      expect(held.find((o) => o.batchTime === 400)?.records).toEqual([['a', 4]]);
      expect(result.recordsOf('counts')).toEqual(Array.from({ length: 15 }, (_, i) => [['a', i + 1]]));
    });
  }
});

describe('stream operations on the driver', () => {
  it('unions many streams at once', async () => {
    const result = await runBatches(job('unionOfMany'), 2);
    expect(result.recordsOf('all').map((b) => [...b].sort())).toEqual([[1, 2, 3], [4]]);
  });

  it('slices the remembered batches of a stream', async () => {
    const result = await runBatches(job('sliceInsideOutput'), 4);
    expect(result.recordsOf('slice').map((b) => [...b].sort())).toEqual([[1], [1, 2], [1, 2, 3], [2, 3, 4]]);
  });

  for (const workers of [0, 2]) {
    it(`hands a transform the driver's data through a dataset made in its body (${workers} workers)`, async () => {
      // given a block list the driver sets after batch 1, read by a transform through parallelize
      const result = await runBatches(job('blockListInTransform'), 3, { workers });
      // then batches 2 and 3 drop the blocked word, on worker threads too
      expect(result.error).toBeUndefined();
      expect(result.recordsOf('kept').map((b) => [...b].sort())).toEqual([['x', 'y'], ['y'], ['y']]);
    });
  }

  it('fails a task whose records hold a function, saying why instead of losing its thread', async () => {
    // given a map that puts a function in each record, run on a worker thread
    const result = await runBatches(job('functionInRecord'), 1, { workers: 1 });
    // then the batch fails saying why, where the thread used to die with "undefined"
    expect(result.error?.message).toMatch(
      /a record of its result cannot leave the worker thread \(.*could not be cloned.*\); records must be data/,
    );
    expect(result.error?.message).not.toMatch(/died/);
  });

  for (const workers of [0, 2]) {
    it(`slices the previous batch of a source that cannot replay it, without ssc.remember (${workers} workers)`, async () => {
      // given slices of the last two batches of a socket-like source, and no ssc.remember
      const result = await runBatches(sliceJob('slicePreviousUnreplayable'), 3, { workers });
      // then each slice holds the records the two batches took: a stream remembers its slide, as Spark's does
      expect(result.error).toBeUndefined();
      expect(result.recordsOf('slice')).toEqual([['r0'], ['r0', 'r1'], ['r1', 'r2']]);
    });

    it(`refuses to slice a batch that a source which cannot replay it gave before (${workers} workers)`, async () => {
      // given slices of the last three batches of a socket-like source, which remembers only its previous batch
      // when the third batch slices the first, forgotten one
      const result = await runBatches(sliceJob('sliceForgottenUnreplayable'), 3, { workers });
      // then the batch fails naming the batch and ssc.remember, rather than take the third batch's record into it
      expect(result.error?.message).toMatch(
        /next-record no longer holds its batch of 1000 ms \(only those from 2000 ms on\).*ssc\.remember\(ms\)/,
      );
      expect(result.recordsOf('slice')).toEqual([['r0'], ['r0', 'r1']]);
    });

    it(`slices such a source's batches while ssc.remember keeps them (${workers} workers)`, async () => {
      // given the same slices with the batches remembered for 3 s
      const result = await runBatches(sliceJob('sliceRememberedUnreplayable'), 4, { workers });
      // then each slice holds the records each batch took
      expect(result.error).toBeUndefined();
      expect(result.recordsOf('slice')).toEqual([
        ['r0'],
        ['r0', 'r1'],
        ['r0', 'r1', 'r2'],
        ['r1', 'r2', 'r3'],
      ]);
    });
  }

  it('slices a forgotten batch of a queue again into a folder of its own, where no deletion can race it', async () => {
    // given slices of the last three batches of a queue, which remembers only its newest batch, on a store that
    // records its writes and deletions
    const ssc = new StreamingContext({ batchIntervalMs: 1000 });
    const s = ssc.queueStream([[1], [2], [3], [4]]);
    const slices: number[][] = [];
    s.foreachRDD(async (_ds, t) => {
      const datasets = await s.slice(t - 2000, t);
      slices.push((await Promise.all(datasets.map((d) => d.collect()))).flat().sort());
    });
    const store = new OrderedLogStore(new LocalFolderStore(join(dir, 'store')));
    connectInProcess(ssc, store, dir);
    // when four batches run, each computing the forgotten batches of its slice again
    const summary = await new JobScheduler(ssc, new LogicalClock(), { name: 'slices' }).run({ batches: 4 });
    // then the slices hold the queue's batches, as Spark's remembered ones would
    expect(summary.error).toBeUndefined();
    expect(slices).toEqual([[1], [1, 2], [1, 2, 3], [2, 3, 4]]);
    // and no block was written into a folder whose deletion had started: one that raced it ended the process
    // with ENOTEMPTY, or was deleted under the batch that read it
    const raced = store.log.filter(
      (event, i) =>
        event.put &&
        store.log.slice(0, i).some((earlier) => !earlier.put && event.key.startsWith(earlier.key)),
    );
    expect(raced).toEqual([]);
  });

  it('names the folders of batches computed again per process: one ending deletes none of another', async () => {
    // given two drivers of one job on one store (a coordinator frozen past its lease, and its successor), each
    // slicing the forgotten batches of a queue again; the successor holds its slice of batch 4000 unread
    const store = new LocalFolderStore(join(dir, 'store'));
    let frozen!: () => void;
    const unfrozen = new Promise<void>((resolve) => {
      frozen = resolve;
    });
    const driver = (holdAt?: number) => {
      const ssc = new StreamingContext({ batchIntervalMs: 1000 });
      const s = ssc.queueStream([[1], [2], [3], [4]]);
      const slices: number[][] = [];
      // Only batches before the one the stream remembers, all forgotten: both drivers name the blocks of their own
      // and remembered batches alike, and a frozen coordinator learns it lost the job before it deletes those
      // (FencedStore).
      s.foreachRDD(async (_ds, t) => {
        const datasets = await s.slice(t - 3000, t - 2000);
        if (t === holdAt) await unfrozen;
        slices.push((await Promise.all(datasets.map((d) => d.collect()))).flat().sort());
      });
      connectInProcess(ssc, store, join(dir, `driver-${holdAt ?? 'other'}`));
      return {
        run: new JobScheduler(ssc, new LogicalClock(), { name: 'slices' }).run({ batches: 4 }),
        slices,
      };
    };
    const successor = driver(4000);
    // when the other driver runs to its end, deleting the blocks it computed again, and then the successor reads
    const other = driver();
    expect((await other.run).error).toBeUndefined();
    frozen();
    // then the successor's slice reads its own blocks, which the other's end left alone
    expect((await successor.run).error).toBeUndefined();
    expect(successor.slices).toEqual([[], [], [1], [1, 2]]);
  });

  it('deletes the blocks of forgotten batches computed again, with their batch or at the end of the run', async () => {
    // given slices of the last four batches of a queue, which remembers only its newest batch
    // when one run ends after five batches, and another at the fourth, which fails after its slice
    const store = join(dir, 'store');
    const done = await runBatches(sliceJob('sliceForgottenQueue'), 5, { storeDir: store });
    const inputsLeft = async () =>
      (await readdir(join(store, 'input'), { recursive: true })).filter((f) => f.endsWith('block')).sort();
    const leftAfterDone = await inputsLeft();
    await rm(store, { recursive: true });
    const failed = await runBatches(sliceJob('sliceForgottenQueueThenFail'), 5, { storeDir: store });
    // then the slices held the queue's batches, computed again
    expect(done.error).toBeUndefined();
    expect(done.recordsOf('slice').at(-1)?.sort()).toEqual([2, 3, 4, 5]);
    expect(failed.error?.message).toMatch(/batch 4000 fails after its slice/);
    // and the store holds no block of a batch computed again: only the last batch's own, which the stream
    // remembers, and the failed batch's, which a restart runs
    expect(leftAfterDone).toEqual(['n1/5000/block']);
    expect(await inputsLeft()).toEqual(['n1/3000/block', 'n1/4000/block']);
  });

  it('slices, after a restart, a batch the run before forgot once its last checkpoint was written', async () => {
    // given slices of the last four batches of a queue, run for three batches and stopped
    const store = join(dir, 'store');
    const first = await runBatches(sliceJob('sliceForgottenQueue'), 3, { storeDir: store });
    expect(first.error).toBeUndefined();
    // when the job resumes on its store for two more batches
    const resumed = await runBatches(sliceJob('sliceForgottenQueue'), 5, { storeDir: store });
    // then each slice holds the queue's batches: batch 3000's block, named by the last checkpoint and deleted by
    // the cleanup after it, is forgotten at the restore too and computed again, not read (ENOENT)
    expect(resumed.error).toBeUndefined();
    expect(resumed.recordsOf('slice').map((b) => [...b].sort())).toEqual([
      [1, 2, 3, 4],
      [2, 3, 4, 5],
    ]);
  });

  it('slices, after a restart, the previous batch of a source that cannot give it again', async () => {
    // given slice(t − 1000, t) over a source that cannot replay a batch, run for one batch and stopped
    const store = join(dir, 'store');
    const first = await runBatches(sliceJob('slicePreviousUnreplayable'), 1, { storeDir: store });
    expect(first.error).toBeUndefined();
    // when the job resumes on its store for one more batch
    const resumed = await runBatches(sliceJob('slicePreviousUnreplayable'), 2, { storeDir: store });
    // then batch 1000, remembered by the last checkpoint, is read back with the record it took (the restarted
    // source counts from r0 again)
    expect(resumed.error).toBeUndefined();
    expect(resumed.recordsOf('slice')).toEqual([['r0', 'r0']]);
  });

  it('refuses, after a restart, to slice such a batch of a source that cannot give it again', async () => {
    // given slice(t − 2000, t) over a source that cannot replay a batch, run for two batches and stopped
    const store = join(dir, 'store');
    const first = await runBatches(sliceJob('sliceForgottenUnreplayable'), 2, { storeDir: store });
    expect(first.error).toBeUndefined();
    // when the job resumes on its store for one more batch
    const resumed = await runBatches(sliceJob('sliceForgottenUnreplayable'), 3, { storeDir: store });
    // then batch 1000, forgotten after the last checkpoint, is refused as it is without a restart, not handed the
    // record arriving now
    expect(resumed.error?.message).toMatch(/no longer holds its batch of 1000 ms/);
  });

  it('floors both ends of a slice to batch times, as Spark does', async () => {
    // given slices from t − 1500 to t − 500 ms over 1 s batches
    const result = await runBatches(job('sliceUnaligned'), 4);
    // then each holds the batches at the floors of both ends: at 3000 ms, 1000 and 2000
    expect(result.recordsOf('slice').map((b) => [...b].sort())).toEqual([[], [1], [1, 2], [2, 3]]);
  });
});

/** A block store that logs its writes and prefix deletions in the order they were asked for. */
class OrderedLogStore extends CountingStore {
  readonly log: Array<{ put: boolean; key: string }> = [];

  override put(key: string, bytes: Uint8Array | string): Promise<void> {
    this.log.push({ put: true, key });
    return super.put(key, bytes);
  }

  override deletePrefix(prefix: string): Promise<void> {
    this.log.push({ put: false, key: prefix });
    return super.deletePrefix(prefix);
  }
}

describe('cleanup', () => {
  it('keeps memory and storage flat over many batches', async () => {
    // given a job with a shuffle and a transform, run for 60 batches with a kept store
    const runtime = await LocalRuntime.start(job('manyBatches'), {
      clock: 'logical',
      batches: 60,
      workers: 0,
      storeDir: dir,
      write: () => {},
    });
    const summary = await runtime.run();
    expect(summary.error).toBeUndefined();
    // then no stream holds more than its remembered batches (the newest, and the one before it, which a stream
    // remembers for its slide, as in Spark), dynamic functions were dropped, and no shuffle or old input block is
    // left in the store
    const ssc = runtime.ssc;
    for (let i = 1; ssc.graph.node(`n${i}`); i++)
      expect(ssc.graph.node(`n${i}`)!.rememberedTimes.length).toBeLessThanOrEqual(2);
    const tableAfter60 = ssc.functions.size;
    expect(tableAfter60).toBeLessThan(40);
    const left = await readdir(dir, { recursive: true });
    expect(left.filter((f) => f.startsWith('shuffle/') && f.split('/').length > 2)).toEqual([]);
    expect(left.filter((f) => f.startsWith('input/') && f.split('/').length > 2).length).toBeLessThanOrEqual(
      2,
    );
  });
});

describe('the README example', () => {
  it('runs on worker threads and prints hashtag counts', async () => {
    let text = '';
    const readmeJob = {
      kind: 'module',
      path: new URL('../fixtures/readmeJob.ts', import.meta.url).pathname,
    } as const;
    const result = await runBatches(readmeJob, 2, { workers: 2, write: (t) => (text += t) });
    expect(result.error).toBeUndefined();
    expect(text).toContain('Time: 2000 ms');
    expect(text).toMatch(/\(#\w+,\d+\)/);
  });
});

describe('persist', () => {
  for (const workers of [0, 2]) {
    it(`keeps a stream at every storage level and gives the same results (${workers} workers)`, async () => {
      // given one stream persisted at each level and read by two outputs
      const result = await runBatches(job('persistedLevels'), 2, { workers, storeDir: dir });
      // then every level gives the same records and counts
      expect(result.error).toBeUndefined();
      for (const level of ['memory', 'memorySer', 'blockStore', 'memoryAndBlockStore']) {
        expect(result.recordsOf(`${level}-a`).map((b) => [...b].sort())).toEqual([[10, 20, 30], [40]]);
        expect(result.recordsOf(`${level}-b`)).toEqual([[3], [1]]);
      }
    });
  }

  it('rejects an unknown storage level with the valid ones', () => {
    const ssc = new StreamingContext({ batchIntervalMs: 1000 });
    expect(() => ssc.queueStream([[1]]).persist('disk' as never)).toThrow(
      /storage level must be one of memory, memorySer/,
    );
  });
});

describe('inputs at every tick', () => {
  it('takes every batch of every input even when no output needs it yet', async () => {
    // given a window sliding every other batch
    const result = await runBatches(job('slowSlide'), 4);
    // then every batch's records are counted in its own batch, and the windows hold them
    expect(result.batches.map((b) => b.records)).toEqual([1, 2, 1, 2]);
    expect(result.recordsOf('pairs').map((b) => [...b].sort())).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });
});

describe('a store or output folder given where a file is', () => {
  it('is refused before the run with a sentence naming the path, not an EEXIST or ENOTDIR from mkdir', async () => {
    // given a file
    const file = join(dir, 'a-file');
    await writeFile(file, 'x\n');
    // when a run is given it, or a path under it, as its store, or as its output folder
    // then each is refused, naming the path and what to give instead
    for (const storeDir of [file, join(file, 'sub')]) {
      await expect(runBatches(job('countUntilQueueRunsOut'), 1, { storeDir })).rejects.toThrow(
        `cannot make the store folder ${storeDir}: a file is at its path or at a folder of it; give the run another --store`,
      );
    }
    await expect(
      runBatches(job('countUntilQueueRunsOut'), 1, { storeDir: join(dir, 'store'), outputDir: file }),
    ).rejects.toThrow(
      `the output folder ${file} is a file: output paths are relative to a folder; give --out a folder`,
    );
  });
});
