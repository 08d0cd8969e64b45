import { createServer, type Server, type Socket } from 'node:net';
import { GeneratorSource } from '../../lib/source/GeneratorSource';
import { LINE_BYTES } from '../jobs';
import { FEED_HOST } from './sluiceJobs';

/** What a feeder sends: `lines` (100-byte text lines) or `tweets` (a tweet's text, hashtags included). */
export type InputKind = 'lines' | 'tweets';

/**
 * Deterministic input lines laid end to end in one buffer, each ending in `\n`, so that sending the next n
 * lines is one or two slices of the buffer and costs no generation at send time. Line `i` is record `i` of
 * Sluice's `GeneratorSource` (seed 1); sending wraps around to line 0 after the last one.
 */
export class LinePool {
  /** Every line, newline included. */
  readonly bytes: Buffer;
  /** Line `i` is `bytes[starts[i] .. starts[i + 1])`. */
  readonly starts: Uint32Array;

  private constructor(
    readonly kind: InputKind,
    /** The lines as strings, for the driver's reference results. */
    readonly lines: readonly string[],
  ) {
    this.starts = new Uint32Array(lines.length + 1);
    let at = 0;
    lines.forEach((line, i) => {
      at += Buffer.byteLength(line) + 1;
      this.starts[i + 1] = at;
    });
    this.bytes = Buffer.from(`${lines.join('\n')}\n`);
  }

  /** `count` lines of `kind` from the generator. */
  static generate(kind: InputKind, count: number): LinePool {
    const lines: string[] = new Array(count);
    if (kind === 'lines') {
      const source = new GeneratorSource({ kind: 'lines', ratePerSec: 1, lineBytes: LINE_BYTES, seed: 1 });
      for (let i = 0; i < count; i++) lines[i] = source.recordAt(i);
    } else {
      const source = new GeneratorSource({ kind: 'tweets', ratePerSec: 1, seed: 1 });
      for (let i = 0; i < count; i++) lines[i] = source.recordAt(i).text;
    }
    return new LinePool(kind, lines);
  }

  /** How many lines the pool holds. */
  get size(): number {
    return this.lines.length;
  }

  /** The bytes of `count` lines starting at line `first`, wrapping around: one or two slices. */
  slices(first: number, count: number): Buffer[] {
    const out: Buffer[] = [];
    let at = first % this.size;
    let left = count;
    while (left > 0) {
      const take = Math.min(left, this.size - at);
      out.push(this.bytes.subarray(this.starts[at]!, this.starts[at + take]!)); // at + take ≤ size
      left -= take;
      at = 0;
    }
    return out;
  }
}

/** A constant-rate stretch of input between two wall-clock moments. */
interface Schedule {
  readonly linesPerSec: number;
  readonly fromMs: number;
  readonly untilMs: number;
  /** Lines of this schedule handed to the clients so far. */
  sent: number;
}

/** Bytes a client may have waiting in its user-space send buffer before further lines are dropped for it. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/** How often a paced schedule writes, in ms: small enough that each batch gets a smooth stream of chunks. */
const TICK_MS = 5;

/**
 * The benchmark's input: a TCP server on 127.0.0.1 (port chosen by the OS) that both engines connect to as
 * `socketTextStream` clients, and that writes the same lines to every connected client. It paces lines at a
 * rate within a wall-clock stretch ({@link feed}) in small chunks every few ms, or writes a burst at once
 * ({@link burst}). A client that does not read fast enough is not allowed to queue without bound: once
 * {@link MAX_QUEUED_BYTES} wait for it, further lines are dropped for it and counted in {@link droppedLines}.
 */
export class LineFeeder {
  /** Lines handed to the clients (every client gets each of them, unless dropped for it). */
  sentLines = 0;
  /** Lines dropped for the slowest client because it was not reading. */
  droppedLines = 0;
  private readonly clients = new Set<Socket>();
  private readonly dropped = new Map<Socket, number>();
  private cursor = 0;
  private schedule: Schedule | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly waiters: Array<() => void> = [];

  private constructor(
    private readonly server: Server,
    /** The port the server listens on. */
    readonly port: number,
    private readonly pool: LinePool,
  ) {
    server.on('connection', (socket) => {
      socket.setNoDelay(true);
      this.clients.add(socket);
      this.dropped.set(socket, 0);
      socket.on('error', () => {}); // a client that goes away is simply forgotten on close
      socket.on('close', () => this.clients.delete(socket));
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Listens on 127.0.0.1 and an ephemeral port. */
  static async start(pool: LinePool): Promise<LineFeeder> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, FEED_HOST, () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the line server has no TCP port');
    return new LineFeeder(server, address.port, pool);
  }

  /** Clients connected now. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Resolves once `count` clients are connected, or rejects after `timeoutMs`. */
  async waitForClients(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.clients.size < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no engine connected to the line server within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * Sends `linesPerSec` lines a second, evenly, from `fromMs` until `untilMs` (wall-clock ms since the epoch),
   * replacing any earlier schedule. Lines continue from where the previous ones stopped in the pool.
   */
  feed(linesPerSec: number, fromMs: number, untilMs: number): void {
    this.stop();
    this.schedule = { linesPerSec, fromMs, untilMs, sent: 0 };
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** Stops the current schedule. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.schedule = undefined;
  }

  /** Writes the next `count` lines to every client at once. */
  burst(count: number): void {
    this.write(count);
  }

  /** Restarts the pool at line 0, so the next lines sent are the generator's first. */
  rewind(): void {
    this.cursor = 0;
  }

  /** Stops sending, disconnects every client and closes the server. */
  async close(): Promise<void> {
    this.stop();
    for (const socket of this.clients) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private tick(): void {
    const s = this.schedule;
    if (!s) return;
    const now = Math.min(Date.now(), s.untilMs);
    if (now > s.fromMs) {
      const due = Math.floor((s.linesPerSec * (now - s.fromMs)) / 1000);
      if (due > s.sent) {
        this.write(due - s.sent);
        s.sent = due;
      }
    }
    if (Date.now() >= s.untilMs) this.stop();
  }

  private write(count: number): void {
    const slices = this.pool.slices(this.cursor, count);
    this.cursor = (this.cursor + count) % this.pool.size;
    this.sentLines += count;
    for (const socket of this.clients) {
      if (socket.writableLength > MAX_QUEUED_BYTES) {
        const dropped = (this.dropped.get(socket) ?? 0) + count;
        this.dropped.set(socket, dropped);
        this.droppedLines = Math.max(this.droppedLines, dropped);
        continue;
      }
      socket.cork();
      for (const slice of slices) socket.write(slice);
      socket.uncork();
    }
  }
}
