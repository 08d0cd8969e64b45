import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReceivedBlocksDataset } from '../../lib/dataset/ReceivedBlocksDataset';
import type { TaskContext } from '../../lib/dataset/TaskContext';
import { BlockGenerator, type BlockTimer } from '../../lib/dstream/BlockGenerator';
import type { InputDStream } from '../../lib/dstream/InputDStream';
import { MissingBlockError } from '../../lib/errors';
import { StreamingContext } from '../../lib/StreamingContext';
import type { InProcessRunner } from '../../lib/scheduler/InProcessRunner';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import { VirtualClock } from '../../lib/scheduler/VirtualClock';
import { RateLimit } from '../../lib/source/RateLimit';
import { SocketSource } from '../../lib/source/SocketSource';
import type { ReceiverSource } from '../../lib/source/Source';
import { unreadableRecord } from '../../lib/source/UnreadableRecord';
import type { BlockStore } from '../../lib/storage/BlockStore';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import {
  decodeReceivedRecords,
  encodeReceivedBlock,
  forEachTextChunk,
} from '../../lib/storage/ReceivedBlock';
import { CountingStore } from '../helpers/CountingStore';
import { connectInProcess } from '../helpers/connectInProcess';

/** A timer the test fires by hand: each `fire()` is one block interval passing. */
function handTimer(): { timer: BlockTimer; fire: () => void; stopped: () => boolean } {
  let tick: (() => void) | undefined;
  let cancelled = false;
  return {
    timer: (_ms, t) => {
      tick = t;
      return () => {
        cancelled = true;
      };
    },
    fire: () => tick?.(),
    stopped: () => cancelled,
  };
}

/** Records that arrive when the test says so, as a socket's lines arrive on their own. */
class Arrivals implements ReceiverSource<unknown> {
  readonly description = 'arrivals';
  readonly replayable = false;
  readonly receives = true;
  waiting: unknown[] = [];
  async recordsFor(): Promise<unknown[]> {
    return this.takeReceived(Number.POSITIVE_INFINITY);
  }
  takeReceived(maxRecords: number): unknown[] {
    return this.waiting.splice(0, maxRecords);
  }
}

/** A block generator over `source` into `store`, as a socket stream's: blocks every 200 ms, 1 s batches. */
function generatorOf(source: ReceiverSource<unknown>, store: BlockStore): BlockGenerator<unknown> {
  return new BlockGenerator({
    source,
    store: () => store,
    folder: 'input/n1/',
    blockIntervalMs: 200,
    batchIntervalMs: 1000,
  });
}

describe('received input is stored as blocks', () => {
  let dir: string;
  const cleanups: (() => Promise<void>)[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-blocks-'));
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('while the interval runs, from a socket, so that the tick only names the blocks and writes nothing', async () => {
    // given a socket source reading a server that sends two lines, and a block generator on a hand-fired timer
    const clients: Socket[] = [];
    const server = createServer((socket) => {
      clients.push(socket);
      socket.write('première ligne\nzweite Zeile ✓\n');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(async () => {
      for (const c of clients) c.destroy();
      await new Promise((resolve) => server.close(resolve));
    });
    const source = new SocketSource('127.0.0.1', (server.address() as AddressInfo).port, { log: () => {} });
    cleanups.push(() => source.stop());
    await source.start();
    const store = new CountingStore(new LocalFolderStore(dir));
    const generator = generatorOf(source, store);
    const { timer, fire } = handTimer();
    generator.start(timer);
    // when block intervals pass until the lines came (a block interval in which nothing came stores nothing)
    for (let poll = 0; poll < 500 && store.puts.length === 0; poll++) {
      fire();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // then the lines are in the store before any tick, as newline-delimited UTF-8 text
    expect(store.puts).toHaveLength(1);
    const key = store.puts[0]!.key;
    expect(key).toMatch(/^input\/n1\/b-[0-9a-z]+-000000000\/block$/);
    // (the write, started by the timer, lands on its own: no tick waits for it here)
    await vi.waitFor(
      async () => expect(await readFile(join(dir, key), 'utf8')).toBe('première ligne\nzweite Zeile ✓'),
      {
        timeout: 10_000,
      },
    );
    // and the tick names that block and writes nothing more
    const blocks = await generator.allocate();
    expect(blocks).toEqual([{ key, records: 2, format: 'text' }]);
    expect(store.puts).toHaveLength(1);
    // and the next tick has nothing left to name
    expect(await generator.allocate()).toEqual([]);
  });

  it('names at the tick the blocks cut during the interval; what came after the last block waits for the next batch', async () => {
    // given a receiving stream on the system clock's path: its blocks are cut by a (hand-fired) timer
    const ssc = new StreamingContext({ batchIntervalMs: 1000, blockIntervalMs: 200 });
    const source = new Arrivals();
    const input = ssc.sourceStream(source, 2) as InputDStream<unknown>;
    input.collectBatches();
    const store = new CountingStore(new LocalFolderStore(dir));
    const noRunner = {} as InProcessRunner; // this test computes no task
    ssc.connect({
      store,
      outputs: store,
      runner: noRunner,
      driverRunner: noRunner,
      print: () => {},
      appendJsonl: async () => {},
      outputPositions: async () => ({}),
      restoreOutputPositions: async () => {},
    });
    ssc.graph.start(0);
    const { timer, fire } = handTimer();
    input.startReceiving({ logicalClock: false, timer });
    cleanups.push(() => input.stopReceiving());
    // when two block intervals pass with records, and one more record comes after the last block was cut
    source.waiting = ['a', 'b'];
    fire();
    source.waiting = ['c'];
    fire();
    source.waiting = ['d'];
    const putsBeforeTick = store.puts.map((p) => p.key);
    const dataset = await input.getOrCompute(1000);
    // then the tick wrote nothing: the batch is the two blocks, recorded for the checkpoint, and 'd' still waits
    expect(putsBeforeTick).toHaveLength(2);
    expect(store.puts.map((p) => p.key)).toEqual(putsBeforeTick);
    expect(dataset).toBeInstanceOf(ReceivedBlocksDataset);
    expect((dataset as ReceivedBlocksDataset).blocks.map((b) => b.key)).toEqual(putsBeforeTick);
    expect(input.blocks.get(1000)?.blocks?.map((b) => b.records)).toEqual([2, 1]);
    expect(input.recordsPerBatch.get(1000)).toBe(3);
    expect(source.waiting).toEqual(['d']);
  });

  it('takes in each block only what the rate allows over its span, exactly over time, the rest waiting', async () => {
    // given 25 records waiting and a cap of 10 a second; a block interval of 250 ms on a clock the test moves
    const source = new Arrivals();
    source.waiting = Array.from({ length: 25 }, (_, i) => `r${i}`);
    let nowMs = 0;
    const generator = new BlockGenerator({
      source,
      store: () => new LocalFolderStore(dir),
      folder: 'input/n1/',
      blockIntervalMs: 250,
      batchIntervalMs: 1000,
      rateLimit: new RateLimit({ maxRatePerSec: 10 }),
      now: () => nowMs,
    });
    const { timer, fire, stopped } = handTimer();
    generator.start(timer);
    // when 8 block intervals (2 s) pass, the first second's blocks going to one batch and the next to another
    const batches: number[][] = [];
    for (let second = 0; second < 2; second++) {
      for (let block = 0; block < 4; block++) {
        nowMs += 250;
        fire();
      }
      batches.push((await generator.allocate()).map((b) => b.records));
    }
    // then blocks of 2, 3, 2, 3: 10 records a second, and 5 still wait in the source
    expect(batches).toEqual([
      [2, 3, 2, 3],
      [2, 3, 2, 3],
    ]);
    expect(source.waiting).toEqual(['r20', 'r21', 'r22', 'r23', 'r24']);
    // and a stopped generator stops its timer and deletes the blocks no batch took
    nowMs += 250;
    fire();
    await generator.stop();
    expect(stopped()).toBe(true);
    expect(await new LocalFolderStore(dir).list('input/n1/')).toEqual(
      expect.arrayContaining([expect.stringMatching(/000000000\/block$/)]),
    );
    expect(await new LocalFolderStore(dir).list('input/n1/')).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/000000008\/block$/)]),
    );
  });

  it('releases a block for its memory to be used again only once its write settled, failed or not', async () => {
    // given a source whose blocks say when they are released, and a store whose writes the test settles
    const released: string[] = [];
    const source = new Arrivals() as Arrivals & ReceiverSource<unknown>;
    let next = 0;
    source.takeReceivedBlock = () => {
      const name = `block ${next++}`;
      return { bytes: Buffer.from(name), format: 'text', records: 1, release: () => released.push(name) };
    };
    const settle: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
    const store = new LocalFolderStore(dir);
    store.put = () => new Promise<void>((resolve, reject) => settle.push({ resolve, reject }));
    const generator = generatorOf(source, store);
    // when two blocks are cut, and their writes are still under way
    generator.take(Number.POSITIVE_INFINITY, undefined);
    generator.take(Number.POSITIVE_INFINITY, undefined);
    await new Promise((resolve) => setTimeout(resolve, 10));
    // then neither is released: the store may still read the bytes
    expect(released).toEqual([]);
    // and each is released once its write settles, whether it succeeded or failed
    settle[1]!.reject(new Error('disk full'));
    await vi.waitFor(() => expect(released).toEqual(['block 1']));
    settle[0]!.resolve();
    await vi.waitFor(() => expect(released).toEqual(['block 1', 'block 0']));
    await expect(generator.allocate()).rejects.toThrow(/could not be stored: disk full/);
  });

  it('fails the batch of a block whose write failed and has no release, leaving no rejection unhandled', async () => {
    // given a source whose blocks the generator encodes itself (they have no release), and a store that fails
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    cleanups.push(async () => {
      process.off('unhandledRejection', onUnhandled);
    });
    const source = new Arrivals();
    source.waiting = ['a', 'b'];
    const store = new LocalFolderStore(dir);
    store.put = () => Promise.reject(new Error('disk full'));
    const generator = generatorOf(source, store);
    // when a block is cut and its write fails
    generator.take(Number.POSITIVE_INFINITY, undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // then the batch that names it fails with the error, and nothing else rejected unseen
    await expect(generator.allocate()).rejects.toThrow(/could not be stored: disk full/);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(unhandled).toEqual([]);
  });

  it('keeps text as text, and a block whose lines hold a newline or a dead letter as JSON', () => {
    // given lines with non-ASCII text, an empty line, a carriage return, and one holding a newline
    const plain = ['naïve café', '', '日本語 🚀', 'tab\there\r'];
    const withNewline = ['one', 'two\nlines', 'three'];
    // when encoded
    const text = encodeReceivedBlock(plain);
    const json = encodeReceivedBlock(withNewline);
    // then the plain block is the lines joined by newlines, the other JSON, and both decode to what went in,
    // whole or any range of records
    expect(text.format).toBe('text');
    expect(text.bytes.toString('utf8')).toBe(plain.join('\n'));
    expect(json.format).toBe('json');
    for (const [block, records] of [
      [text, plain],
      [json, withNewline],
    ] as const) {
      for (let from = 0; from <= records.length; from++) {
        for (let to = from; to <= records.length; to++) {
          expect(decodeReceivedRecords(block.bytes, block.format, records.length, from, to)).toEqual(
            records.slice(from, to),
          );
        }
      }
    }
    expect(encodeReceivedBlock(['ok', unreadableRecord('not UTF-8', { bytes: 1 })]).format).toBe('json');
  });

  it('fails a partition whose block the store has lost as any read of a missing block does', async () => {
    // given a batch of one received block that is gone from the store
    const spec = { id: 1, type: 'receivedBlocks', numPartitions: 1, deps: [] };
    const blocks = [{ key: 'input/n1/1000/block-0', records: 2, format: 'text' }];
    const batch = ReceivedBlocksDataset.fromSpec({ ...spec, args: { blocks } });
    const tc = { borrowBlock: async () => undefined } as unknown as TaskContext;
    // when its partition is read, whole or a chunk at a time, then it fails naming the block and the way out
    for (const read of [batch.compute(0, tc), batch.forEachChunk(0, tc, () => {})]) {
      await expect(read).rejects.toBeInstanceOf(MissingBlockError);
      await expect(read).rejects.toThrow(
        /^block input\/n1\/1000\/block-0 is missing from the store, yet a batch reads it/,
      );
    }
  });

  it('hands a text block over in chunks that end at line ends and add up to the lines asked for', async () => {
    // given a text block of lines of mixed length, multi-byte characters and empty lines
    const lines = ['naïve café', '', '日本語 🚀', 'x', '', 'a longer line of plain words', 'ü', ''];
    const block = encodeReceivedBlock(lines);
    for (const chunkBytes of [1, 3, 7, 20, 1 << 16]) {
      for (let from = 0; from <= lines.length; from++) {
        for (let to = from; to <= lines.length; to++) {
          // when it is read in chunks of about chunkBytes
          const chunks: string[][] = [];
          await forEachTextChunk(block.bytes, lines.length, from, to, chunkBytes, (chunk) => {
            chunks.push(chunk);
          });
          // then the chunks, in order, are exactly those lines, and a small chunk size gives several chunks
          expect(chunks.flat()).toEqual(lines.slice(from, to));
          if (to - from >= 3 && chunkBytes === 1) expect(chunks.length).toBeGreaterThan(1);
          if (chunkBytes === 1 << 16) expect(chunks.length).toBe(to > from ? 1 : 0);
        }
      }
    }
  });

  it('streams the blocks through a per-record pass a chunk at a time, never a partition whole', async () => {
    // given a job that maps and filters what a receiving source got, into 2 partitions, on the logical clock
    const compute = vi.spyOn(ReceivedBlocksDataset.prototype, 'compute');
    const chunked = vi.spyOn(ReceivedBlocksDataset.prototype, 'forEachChunk');
    cleanups.push(async () => {
      compute.mockRestore();
      chunked.mockRestore();
    });
    const ssc = new StreamingContext({ batchIntervalMs: 1000 });
    const source = new Arrivals();
    const input = ssc.sourceStream(source, 2) as InputDStream<string>;
    input
      .map((line) => line.toUpperCase())
      .filter((line) => !line.startsWith('SKIP'))
      .collectBatches('kept');
    connectInProcess(ssc, new LocalFolderStore(join(dir, 'store')), dir);
    // 3,000 lines of about 40 bytes, 120 KB: more than one chunk per partition; and a dead letter in a JSON block
    const lines = Array.from(
      { length: 3000 },
      (_, i) => `${i % 10 === 0 ? 'skip' : 'line'} ${i} ${'w'.repeat(i % 50)}`,
    );
    const arrivals = [
      lines,
      ['a', unreadableRecord('line is not valid UTF-8', { bytes: 1, base64: '/w==' }), 'b'],
    ];
    source.waiting = [...arrivals[0]!]; // the source takes from the array it is given
    const kept: unknown[][] = [];
    const letters: unknown[] = [];
    ssc.addListener({
      onOutput: (e) => kept.push(e.records as unknown[]),
      onDeadLetters: (batch) => letters.push(...batch.map((letter) => letter.record)),
      onBatchCompleted: () => {
        source.waiting = [...(arrivals[kept.length] ?? [])];
      },
    });
    // when two batches run
    const summary = await new JobScheduler(ssc, new VirtualClock(), { name: 'chunks' }).run({ batches: 2 });
    // then the output is what the ops make of every line, in order, the unreadable one dead-lettered; and the
    // blocks were only ever read in chunks
    expect(summary.error).toBeUndefined();
    expect(kept).toEqual([
      lines.filter((l) => !l.startsWith('skip')).map((l) => l.toUpperCase()),
      ['A', 'B'],
    ]);
    expect(letters).toEqual([{ bytes: 1, base64: '/w==' }]);
    expect(chunked).toHaveBeenCalled();
    expect(compute).not.toHaveBeenCalled();
  });

  it('runs a batch from its blocks, split over the stream partitions in arrival order, text with newlines kept', async () => {
    // given a job reading a receiving source into 3 partitions, on the logical clock
    const clock = new VirtualClock();
    const ssc = new StreamingContext({ batchIntervalMs: 1000 });
    const source = new Arrivals();
    const input = ssc.sourceStream(source, 3) as InputDStream<unknown>;
    input.glom().collectBatches('partitions');
    const store = new LocalFolderStore(join(dir, 'store'));
    connectInProcess(ssc, store, dir);
    // the first batch's lines are plain text, the second's include one with a newline and a dead letter
    const arrivals = [
      ['α', 'β', 'γ', 'δ', 'ε'],
      [
        'line\nbroken',
        'ünïcödé',
        unreadableRecord('line is not valid UTF-8', { bytes: 1, base64: '/w==' }),
        'z',
      ],
    ];
    source.waiting = arrivals[0]!;
    const partitions: unknown[][][] = [];
    ssc.addListener({
      onOutput: (e) => partitions.push(e.records as unknown[][]),
      onBatchCompleted: () => {
        source.waiting = arrivals[partitions.length] ?? [];
      },
    });
    // when two batches run
    const summary = await new JobScheduler(ssc, clock, { name: 'blocks' }).run({ batches: 2 });
    // then each batch's records are its arrivals, in order, in 3 partitions split as Spark splits a batch, the
    // unreadable line dead-lettered instead of reaching the job
    expect(summary.error).toBeUndefined();
    expect(partitions).toEqual([
      [['α'], ['β', 'γ'], ['δ', 'ε']],
      [['line\nbroken'], ['ünïcödé'], ['z']],
    ]);
    expect(summary.batches.map((b) => b.records)).toEqual([5, 4]);
  });
});
