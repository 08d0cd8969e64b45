import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { validateJob } from '../../lib/job/validateJob';
import { StderrLogger } from '../../lib/local/StderrLogger';
import {
  DEFAULT_MAX_LINE_BYTES,
  SocketSource,
  type SocketSourceOptions,
} from '../../lib/source/SocketSource';
import { unreadableOf } from '../../lib/source/UnreadableRecord';
import { decodeReceivedRecords } from '../../lib/storage/ReceivedBlock';

interface TestServer {
  readonly server: Server;
  readonly port: number;
  /** The next client connection, waiting for it if it has not arrived yet. */
  readonly nextClient: () => Promise<Socket>;
  /** Stops listening and drops every connection. */
  readonly close: () => Promise<void>;
}

/** A local TCP server on a free port that hands out each client connection as it arrives. */
async function startServer(port = 0): Promise<TestServer> {
  const all = new Set<Socket>();
  const waiting: Socket[] = [];
  const waiters: ((socket: Socket) => void)[] = [];
  const server = createServer((socket) => {
    all.add(socket);
    socket.on('close', () => all.delete(socket));
    const waiter = waiters.shift();
    if (waiter) waiter(socket);
    else waiting.push(socket);
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const nextClient = () => {
    const socket = waiting.shift();
    return socket ? Promise.resolve(socket) : new Promise<Socket>((resolve) => waiters.push(resolve));
  };
  const close = async () => {
    for (const socket of all) socket.destroy();
    if (server.listening) await new Promise((resolve) => server.close(resolve));
  };
  return { server, port: (server.address() as AddressInfo).port, nextClient, close };
}

/** Asks for batches until `count` lines arrived, or gives up after 100 polls 20 ms apart. */
async function pollLines(source: SocketSource, count: number): Promise<string[]> {
  const lines: string[] = [];
  for (let poll = 0; poll < 100 && lines.length < count; poll++) {
    lines.push(...(await source.recordsFor()));
    if (lines.length < count) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return lines;
}

describe('SocketSource', () => {
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Starts a server and a source connected to it; both are closed after the test. */
  async function connected(logs: string[] = [], options: SocketSourceOptions = {}) {
    const { server, port, nextClient, close } = await startServer();
    cleanups.push(close);
    const source = new SocketSource('127.0.0.1', port, { log: (line) => logs.push(line), ...options });
    cleanups.push(() => source.stop());
    await source.start();
    const client = await nextClient();
    return { server, port, nextClient, source, client };
  }

  it('is connected while it runs, and neither connected nor retrying once stopped', async () => {
    // given a source connected to a server
    const { source } = await connected();
    expect(source.status()).toEqual({ state: 'connected' });
    // when it is stopped (a coordinator's invocation ends, and writes its streams' state last)
    await source.stop();
    // then it has no state: a closed source does not say it retries
    expect(source.status()).toEqual({});
  });

  it('delivers lines, including one split across two writes, exactly once', async () => {
    // given
    const { source, client } = await connected();
    // when
    client.write('hello world\nsecond li');
    // Waiting for the first line makes "second li" reach the source before the rest of its line is sent.
    const first = await pollLines(source, 1);
    client.write('ne\nthird\n');
    const lines = [...first, ...(await pollLines(source, 2))];
    client.write('fourth\n'); // once this arrives, anything delivered twice would have arrived too
    const later = await pollLines(source, 1);
    // then
    expect(lines).toEqual(['hello world', 'second line', 'third']);
    expect(later).toEqual(['fourth']);
  });

  it('decodes a UTF-8 character split across two chunks', async () => {
    // given
    const { source, client } = await connected();
    const bytes = Buffer.from('café ☕\n', 'utf8');
    // when
    client.write(bytes.subarray(0, 4));
    await new Promise((resolve) => setTimeout(resolve, 20));
    client.write(bytes.subarray(4, 6));
    await new Promise((resolve) => setTimeout(resolve, 20));
    client.write(bytes.subarray(6));
    const lines = await pollLines(source, 1);
    // then
    expect(lines).toEqual(['café ☕']);
  });

  it('keeps an unterminated last line when the server ends the connection cleanly', async () => {
    // given
    const { source, client } = await connected();
    // when
    client.end('a\r\nb');
    const lines = await pollLines(source, 2);
    // then
    expect(lines).toEqual(['a', 'b']);
  });

  it('reconnects after the server closes the connection and keeps receiving', async () => {
    // given
    const logs: string[] = [];
    const { source, client, nextClient } = await connected(logs);
    client.write('before\n');
    const before = await pollLines(source, 1);
    // when
    client.destroy();
    const reconnected = await nextClient();
    reconnected.write('after\n');
    const after = await pollLines(source, 1);
    // then
    expect(before).toEqual(['before']);
    expect(after).toEqual(['after']);
    expect(logs.some((line) => line.includes('connection closed by the server'))).toBe(true);
  });

  it('keeps retrying while nothing listens, logging the failure once, and connects when a server appears', async () => {
    // given
    const { port, close } = await startServer();
    await close();
    const logs: string[] = [];
    const source = new SocketSource('127.0.0.1', port, { log: (line) => logs.push(line), maxBackoffMs: 200 });
    cleanups.push(() => source.stop());
    await source.start();
    await new Promise((resolve) => setTimeout(resolve, 400)); // time for several refused attempts
    // when
    const revived = await startServer(port);
    cleanups.push(revived.close);
    (await revived.nextClient()).write('hello again\n');
    const lines = await pollLines(source, 1);
    // then
    expect(lines).toEqual(['hello again']);
    expect(logs.filter((line) => line.includes('ECONNREFUSED'))).toHaveLength(1);
  });

  it("logs through the runtime's logger when given no log of its own", async () => {
    // given nothing listening on the port, and a runtime logger writing JSON lines
    const { port, close } = await startServer();
    await close();
    const lines: Array<Record<string, unknown>> = [];
    const log = new StderrLogger({ json: true, write: (text) => lines.push(JSON.parse(text)) });
    const source = new SocketSource('127.0.0.1', port, { maxBackoffMs: 200 });
    cleanups.push(() => source.stop());
    // when the source starts with it
    await source.start({ intervalMs: 1000, logicalClock: false, log: log.with({ job: 'sockets' }) });
    // then the refused connection is a warning of the job, naming the source
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'WARN',
        job: 'sockets',
        source: `socket(127.0.0.1:${port})`,
        message: expect.stringContaining('ECONNREFUSED'),
      }),
    ]);
  });

  it('stops retrying once stopped', async () => {
    // given a server that drops every connection, so the source keeps reconnecting
    let connections = 0;
    const dropper = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    dropper.listen(0, '127.0.0.1');
    await once(dropper, 'listening');
    cleanups.push(async () => {
      await new Promise((resolve) => dropper.close(resolve));
    });
    const source = new SocketSource('127.0.0.1', (dropper.address() as AddressInfo).port, {
      log: () => {},
      minBackoffMs: 10,
      maxBackoffMs: 20,
    });
    await source.start();
    for (let poll = 0; poll < 100 && connections < 3; poll++) await new Promise((r) => setTimeout(r, 20));
    // when
    await source.stop();
    const atStop = connections;
    await new Promise((resolve) => setTimeout(resolve, 200)); // ten backoff periods
    // then
    expect(atStop).toBeGreaterThanOrEqual(3);
    expect(connections).toBe(atStop);
  });

  it('rejects a port out of range, naming it', () => {
    // given
    const port = 70000;
    // when
    const build = () => new SocketSource('localhost', port);
    // then
    expect(build).toThrow('SocketSource port must be an integer from 1 to 65535, got 70000');
  });

  it('makes a 16 MiB line over a 4 MiB limit one unreadable record with its start, and reads the next line', async () => {
    // given the default limit of 4 MiB, and a 16 MiB line sent in 64 KiB writes
    expect(DEFAULT_MAX_LINE_BYTES).toBe(4 * 1024 * 1024);
    const { source, client } = await connected();
    const piece = Buffer.alloc(64 * 1024, 'x');
    // when the line arrives, then its newline and a short line
    for (let sent = 0; sent < 16 * 1024 * 1024; sent += piece.length) client.write(piece);
    client.write('\nnext\n');
    const records = await pollLines(source, 2);
    // then the long line is one unreadable record holding its length and first KiB, and the next line is a line
    expect(records).toHaveLength(2);
    const unreadable = unreadableOf(records[0]);
    expect(unreadable?.reason).toBe('line of 16777216 bytes is longer than maxLineBytes (4194304)');
    expect(unreadable?.input).toEqual({ bytes: 16 * 1024 * 1024, prefix: 'x'.repeat(1024) });
    expect(records[1]).toBe('next');
  });

  it('keeps the whole start of an over-long line under a limit below 1 KiB, however the line was cut', async () => {
    // given a source whose lines may have 32 bytes
    const { source, client } = await connected([], { maxLineBytes: 32 });
    // when a 40-byte line arrives 5 bytes at a time, crossing the limit inside a write
    const line = `${'0123456789'.repeat(4)}\n`;
    for (let at = 0; at < line.length; at += 5) {
      client.write(line.slice(at, at + 5));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const [record] = await pollLines(source, 1);
    // then its dead letter holds its 40 bytes as they came (it once held the bytes up to the limit, then zeros)
    expect(unreadableOf(record)?.input).toEqual({ bytes: 40, prefix: '0123456789'.repeat(4) });
  });

  it('keeps a line that is not UTF-8 as it came, in base64, and a line at the limit as a line', async () => {
    // given a limit of 8 bytes
    const { source, client } = await connected([], { maxLineBytes: 8 });
    // when a line with bytes that are not UTF-8 arrives, then one of exactly 8 bytes, then one of 9
    client.write(Buffer.from([0xff, 0xfe, 0x41, 0x0a]));
    client.write('12345678\n123456789\n');
    const records = await pollLines(source, 3);
    // then
    expect(unreadableOf(records[0])).toEqual({
      reason: 'line is not valid UTF-8; its bytes are kept in base64',
      input: { bytes: 3, base64: Buffer.from([0xff, 0xfe, 0x41]).toString('base64') },
    });
    expect(records[1]).toBe('12345678');
    expect(unreadableOf(records[2])?.input).toEqual({ bytes: 9, prefix: '123456789' });
  });

  it('rejects a maxLineBytes that is not a positive whole number, naming it', () => {
    // given
    const maxLineBytes = 0;
    // when
    const build = () => new SocketSource('localhost', 9999, { maxLineBytes });
    // then
    expect(build).toThrow('maxLineBytes must be a positive whole number of bytes, got 0');
  });

  it('takes maxLineBytes from a job document, within its bounds', () => {
    // given a job reading a socket with a line limit, and the same with a limit of 0
    const doc = (maxLineBytes: number) => ({
      name: 'socket-limit',
      batchIntervalMs: 1000,
      sources: { s: { type: 'socket', host: '127.0.0.1', port: 9999, maxLineBytes } },
      streams: {},
      outputs: [{ stream: 's', type: 'print' }],
    });
    // when they are validated
    const valid = validateJob(doc(8));
    const invalid = () => validateJob(doc(0));
    // then the limit is kept, and 0 is refused at its JSON path
    expect(valid.sources.s).toMatchObject({ maxLineBytes: 8 });
    expect(invalid).toThrow(/sources\.s\.maxLineBytes/);
  });
  it('hands over as a stored block exactly the records it would hand over one by one, however the bytes are cut', async () => {
    // given a stream of clean lines, empty lines, \r\n lines, a line that is not UTF-8, an over-long line and
    // a multi-byte character, written in cuts that fall inside lines and characters alike
    const parts = ['plain one', '', 'café ünïcode', 'crlf line\r', 'after crlf', 'x'.repeat(40), 'tail'];
    const clean = Buffer.from(`${parts.join('\n')}\n`);
    const stream = Buffer.concat([
      clean,
      Buffer.from([0xc3, 0x28, 0x0a]),
      clean,
      Buffer.from('no newline at the end'),
    ]);
    const lineCount = 2 * parts.length + 1;
    const { port, nextClient } = await startServer().then((server) => {
      cleanups.push(server.close);
      return server;
    });
    const options = { log: () => {}, maxLineBytes: 32 };
    const byRecord = new SocketSource('127.0.0.1', port, options);
    const byBlock = [
      new SocketSource('127.0.0.1', port, options),
      new SocketSource('127.0.0.1', port, options),
    ];
    cleanups.push(() => byRecord.stop(), ...byBlock.map((source) => () => source.stop()));
    const clients = [];
    for (const source of [byRecord, ...byBlock]) {
      await source.start();
      clients.push(await nextClient());
    }
    // when the same bytes reach the sources: 5 bytes at a time, 23 at a time, and all at once
    for (const [client, size] of [
      [clients[0]!, 5],
      [clients[1]!, 23],
      [clients[2]!, stream.length],
    ] as const) {
      for (let at = 0; at < stream.length; at += size) {
        client.write(stream.subarray(at, at + size));
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
    const records: unknown[] = [];
    const fromBlocks: unknown[][] = [[], []];
    const done = () => records.length >= lineCount && fromBlocks.every((got) => got.length >= lineCount);
    for (let poll = 0; poll < 200 && !done(); poll++) {
      records.push(...byRecord.takeReceived(Number.POSITIVE_INFINITY, undefined));
      // Blocks of at most 4 records, so runs are cut inside too.
      byBlock.forEach((source, i) => {
        for (
          let block = source.takeReceivedBlock(4, undefined);
          block;
          block = source.takeReceivedBlock(4, undefined)
        ) {
          fromBlocks[i]!.push(
            ...decodeReceivedRecords(block.bytes, block.format, block.records, 0, block.records),
          );
        }
      });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // then both hold the same records: \r stripped, the bad and the long line unreadable, no final partial line
    expect(records).toHaveLength(lineCount);
    for (const got of fromBlocks) expect(JSON.stringify(got)).toBe(JSON.stringify(records));
    expect(records.filter((r) => typeof r === 'string')).toEqual([
      ...['plain one', '', 'café ünïcode', 'crlf line', 'after crlf', 'tail'],
      ...['plain one', '', 'café ünïcode', 'crlf line', 'after crlf', 'tail'],
    ]);
    expect(records.map((r) => unreadableOf(r)?.reason).filter(Boolean)).toEqual([
      'line of 40 bytes is longer than maxLineBytes (32)',
      'line is not valid UTF-8; its bytes are kept in base64',
      'line of 40 bytes is longer than maxLineBytes (32)',
    ]);
    // an over-long line keeps its start whole, however it was cut (a limit under 1 KiB once left zero bytes there)
    const prefixes = [...records, ...fromBlocks.flat()].map(
      (r) => unreadableOf(r)?.input as { prefix?: string },
    );
    expect(prefixes.filter((input) => input?.prefix !== undefined).map((input) => input.prefix)).toEqual(
      Array(6).fill('x'.repeat(40)),
    );
  });
  it('makes an over-long line that arrives among clean lines of one chunk unreadable in a block as well', async () => {
    // given a source whose lines may have 32 bytes
    const { source, client } = await connected([], { maxLineBytes: 32 });
    // when one write brings a short line, a 40-byte line and another short line
    client.write(`short\n${'y'.repeat(40)}\nafter\n`);
    const records: unknown[] = [];
    for (let poll = 0; poll < 100 && records.length < 3; poll++) {
      const block = source.takeReceivedBlock(Number.POSITIVE_INFINITY, undefined);
      if (block)
        records.push(...decodeReceivedRecords(block.bytes, block.format, block.records, 0, block.records));
      else await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // then the long one is a dead letter between the two lines
    expect(records.map((r) => unreadableOf(r)?.reason ?? r)).toEqual([
      'short',
      'line of 40 bytes is longer than maxLineBytes (32)',
      'after',
    ]);
  });
});
