import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GeneratorSource } from '../../lib/source/GeneratorSource';
import { QueueSource } from '../../lib/source/QueueSource';
import { type BatchLimit, RateLimit } from '../../lib/source/RateLimit';
import { SocketSource } from '../../lib/source/SocketSource';
import { TextFileSource } from '../../lib/source/TextFileSource';

const intervalMs = 1000;

/** A limit of `n` records per batch. */
const atMost = (n: number): BatchLimit => ({ maxRecords: () => n });

describe('RateLimit', () => {
  it('gives each batch the records its interval allows, exactly over time', () => {
    // given 2.5 records a second
    const limit = new RateLimit({ maxRatePerSec: 2.5 });
    // when four 1 s batches ask
    const perBatch = [1000, 2000, 3000, 4000].map((t) => limit.forBatch(t, intervalMs).maxRecords());
    // then 2, 3, 2, 3: 10 records in 4 s
    expect(perBatch).toEqual([2, 3, 2, 3]);
  });

  it('has no bound without a cap or an estimate, and takes the lower of the two', () => {
    // given
    const limit = new RateLimit();
    expect(limit.forBatch(1000, intervalMs).maxRecords()).toBe(Number.POSITIVE_INFINITY);
    const capped = new RateLimit({ maxRatePerSec: 500 });
    // when backpressure estimates above and then below the cap
    capped.update(800);
    const above = capped.forBatch(1000, intervalMs).maxRecords();
    capped.update(300);
    const below = capped.forBatch(2000, intervalMs).maxRecords();
    // then
    expect([above, below]).toEqual([500, 300]);
  });

  it('caps each shard at maxRatePerSec and shares an estimate among the shards', () => {
    // given
    const limit = new RateLimit({ maxRatePerSec: 100 });
    // then the cap is per shard
    expect(limit.forBatch(1000, intervalMs).maxRecords(4)).toBe(100);
    // and an estimate of 200/s for the source is 50/s for each of 4 shards
    limit.update(200);
    expect(limit.forBatch(2000, intervalMs).maxRecords(4)).toBe(50);
  });

  it('refuses a rate that is not a positive number, naming the setting', () => {
    expect(() => new RateLimit({ maxRatePerSec: 0 })).toThrow(/maxRatePerSec must be a positive number/);
    expect(() => new RateLimit({ initialRatePerSec: -1 })).toThrow(/initialRatePerSec/);
  });
});

describe('a rate-limited QueueSource', () => {
  it('takes at most the limit per batch and hands out the rest later, in order, none twice', async () => {
    // given 7 records arriving in the first batch and 3 in the second
    const source = new QueueSource([
      [1, 2, 3, 4, 5, 6, 7],
      [8, 9, 10],
    ]);
    // when five batches take at most 3 each
    const batches: number[][] = [];
    for (let n = 1; n <= 5; n++) batches.push(await source.recordsFor(n * intervalMs, intervalMs, atMost(3)));
    // then
    expect(batches).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10], []]);
  });

  it('starts a cap added on a restart from what arrived before its first batch, not from the first record', async () => {
    // given a queue whose first two batches ran without a cap, and so left no position
    const source = new QueueSource([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    // when the job resumes at batch 3 with a cap of 1 record a batch
    const batches: number[][] = [];
    for (let n = 3; n <= 6; n++) batches.push(await source.recordsFor(n * intervalMs, intervalMs, atMost(1)));
    // then it takes the third batch's records on, where it handed out 1, 2, 3 and 4 a second time
    expect(batches).toEqual([[5], [6], [], []]);
  });

  it('continues from its checkpointed position after a restart', async () => {
    // given a queue that handed out 4 records
    const before = new QueueSource([[1, 2, 3, 4, 5, 6]]);
    await before.recordsFor(1000, intervalMs, atMost(4));
    // when a new source restores the position
    const after = new QueueSource([[1, 2, 3, 4, 5, 6]]);
    after.restorePosition(before.checkpointPosition());
    // then it hands out the rest
    expect(await after.recordsFor(2000, intervalMs, atMost(4))).toEqual([5, 6]);
  });

  it('refuses a broken position with a sentence that names the field', () => {
    const queue = new QueueSource([[1, 2]]);
    expect(() => queue.restorePosition({ taken: 1.5 })).toThrow(
      /position\.taken must be a count of records, got 1\.5/,
    );
    expect(() => queue.restorePosition(null)).toThrow(
      /position\.taken must be a count of records, got undefined/,
    );
  });
});

describe('a rate-limited GeneratorSource', () => {
  it('hands out contiguous index ranges of at most the limit, the backlog first', () => {
    // given 10 records a second
    const source = new GeneratorSource({ kind: 'lines', ratePerSec: 10 });
    // when 3 batches take at most 4, then one takes at most 100
    const ranges = [1000, 2000, 3000].map((t) => source.takeRange(t, intervalMs, atMost(4)));
    const drained = source.takeRange(4000, intervalMs, atMost(100));
    // then nothing is skipped, and the last takes everything that arrived by 4 s
    expect(ranges).toEqual([
      { first: 0, end: 4 },
      { first: 4, end: 8 },
      { first: 8, end: 12 },
    ]);
    expect(drained).toEqual({ first: 12, end: 40 });
  });

  it('restores its position and refuses a broken one', () => {
    // given
    const source = new GeneratorSource({ kind: 'lines', ratePerSec: 10 });
    source.takeRange(1000, intervalMs, atMost(3));
    const restored = new GeneratorSource({ kind: 'lines', ratePerSec: 10 });
    // when
    restored.restorePosition(source.checkpointPosition());
    // then
    expect(restored.takeRange(2000, intervalMs, atMost(3))).toEqual({ first: 3, end: 6 });
    expect(() => restored.restorePosition({ nextIndex: -1 })).toThrow(/position.nextIndex/);
  });
});

describe('a rate-limited TextFileSource', () => {
  let dir: string;
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('takes files in part, keeps the rest in the folder, and resumes mid-file after a restart', async () => {
    // given a watched folder, then two new files of 5 and 3 lines
    dir = await mkdtemp(join(tmpdir(), 'sluice-rate-'));
    const source = new TextFileSource(dir);
    await source.start();
    await writeFile(join(dir, 'a.txt'), 'a1\na2\na3\na4\na5\n');
    await writeFile(join(dir, 'b.txt'), 'b1\nb2\nb3\n');
    // when two batches take at most 3 lines
    const first = await source.recordsFor(1000, intervalMs, atMost(3));
    const second = await source.recordsFor(2000, intervalMs, atMost(3));
    // and a restarted source continues from the checkpointed position
    const restarted = new TextFileSource(dir);
    await restarted.start();
    restarted.restorePosition(JSON.parse(JSON.stringify(source.checkpointPosition())));
    const third = await restarted.recordsFor(3000, intervalMs, atMost(3));
    const fourth = await restarted.recordsFor(4000, intervalMs, atMost(3));
    // then every line comes once, in order, at most 3 a batch
    expect([first, second, third, fourth]).toEqual([
      ['a1', 'a2', 'a3'],
      ['a4', 'a5', 'b1'],
      ['b2', 'b3'],
      [],
    ]);
  });

  it('resumes mid-file from a position checkpointed before it kept the byte, by counting the lines taken', async () => {
    // given a file of which batches took 2 lines, in a checkpoint that names only the lines
    dir = await mkdtemp(join(tmpdir(), 'sluice-rate-'));
    await writeFile(join(dir, 'a.txt'), 'a1\r\na2\r\na3\r\na4\r\n');
    const restarted = new TextFileSource(dir);
    await restarted.start();
    restarted.restorePosition({ files: [], partial: { name: 'a.txt', taken: 2 } });
    // when the next batches take at most 3 lines
    const next = await restarted.recordsFor(3000, intervalMs, atMost(3));
    const after = await restarted.recordsFor(4000, intervalMs, atMost(3));
    // then they go on at the third line, and the position is the file's alone
    expect([next, after]).toEqual([['a3', 'a4'], []]);
    expect(restarted.checkpointPosition()).toEqual(['a.txt']);
  });
});

describe('a rate-limited SocketSource', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('takes at most the limit per batch and keeps the rest buffered, none lost', async () => {
    // given a server that sends 25 lines
    const clients: Socket[] = [];
    const server = createServer((socket) => {
      clients.push(socket);
      socket.write(Array.from({ length: 25 }, (_, i) => `line ${i}\n`).join(''));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(async () => {
      for (const c of clients) c.destroy();
      await new Promise((resolve) => server.close(resolve));
    });
    const source = new SocketSource('127.0.0.1', (server.address() as AddressInfo).port, {
      log: () => {},
    });
    cleanups.push(() => source.stop());
    await source.start();
    // when batches of at most 4 lines are taken until all 25 came
    const batches: string[][] = [];
    for (let poll = 0; poll < 500 && batches.flat().length < 25; poll++) {
      batches.push(await source.recordsFor(poll * intervalMs, intervalMs, atMost(4)));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // then no batch held more than 4, and every line came once, in order
    expect(Math.max(...batches.map((b) => b.length))).toBe(4);
    expect(batches.flat()).toEqual(Array.from({ length: 25 }, (_, i) => `line ${i}`));
  });

  it('stops reading while two batches of lines wait, so TCP holds the sender back', async () => {
    // given a server that writes 48 MiB of lines at once, far more than the kernel's socket buffers hold
    const line = `${'x'.repeat(1023)}\n`;
    const clients: Socket[] = [];
    const server = createServer((socket) => {
      clients.push(socket);
      // The source closes its end with megabytes still unsent, which resets this end: expected, not a failure.
      socket.on('error', () => {});
      // In 1 MiB writes, so the sender's queue shrinks as the reader takes them.
      const mebibyte = line.repeat(1024);
      for (let i = 0; i < 48; i++) socket.write(mebibyte);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(async () => {
      for (const c of clients) c.destroy();
      await new Promise((resolve) => server.close(resolve));
    });
    const source = new SocketSource('127.0.0.1', (server.address() as AddressInfo).port, {
      log: () => {},
    });
    cleanups.push(() => source.stop());
    await source.start();
    // when a batch takes at most 10 lines, and the sender's queue stops moving
    const taken = await source.recordsFor(1000, intervalMs, atMost(10));
    let unsent = -1;
    for (let poll = 0, still = 0; poll < 300 && still < 3; poll++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const now = clients[0]?.writableLength ?? -1;
      still = now === unsent && now !== -1 ? still + 1 : 0;
      unsent = now;
    }
    // then the source read no further than a few chunks past two batches' worth: most of the 48 MiB still waits
    // at the sender, none of it lost, for the batches to come
    expect(taken.length).toBeLessThanOrEqual(10);
    expect(unsent).toBeGreaterThan(24 * 1024 * 1024);
  });
});
