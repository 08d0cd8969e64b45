import { isUtf8 } from 'node:buffer';
import { createConnection, type Socket } from 'node:net';
import { preview, SluiceError } from '../errors';
import type { BatchLimit } from './RateLimit';
import { ReceivedLines, type TakenBlock } from './ReceivedLines';
import type { ReceiverSource, SourceContext } from './Source';
import { type SourceError, type SourceStatus, sourceError } from './SourceStatus';
import { notUtf8Record, OVERLONG_PREFIX_BYTES, unreadableRecord } from './UnreadableRecord';

/** The default longest line, in bytes: 4 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;

/** One read's bytes at most: the size Node reads a socket in by default. */
const READ_BUFFER_BYTES = 64 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Settings of a {@link SocketSource}. */
export interface SocketSourceOptions {
  /** Wait before the first reconnect after a failure, doubled on each further failure, in ms. Default `100`. */
  readonly minBackoffMs?: number;
  /** Longest wait between reconnect attempts, in ms. Default `2000`. */
  readonly maxBackoffMs?: number;
  /** Where connection problems are reported, one line at a time. Default: a line on `process.stderr`. */
  readonly log?: (line: string) => void;
  /**
   * The longest line, in bytes (without its newline). A longer line is a dead letter holding its length and
   * first KiB, and is never held whole in memory. Default {@link DEFAULT_MAX_LINE_BYTES} (4 MiB).
   */
  readonly maxLineBytes?: number;
}

/**
 * UTF-8 text lines read from a TCP server, like Spark's `socketTextStream(host, port)`: the source is the
 * client, so something must listen first (for example `nc -lk 9999`). Lines are buffered as they arrive and
 * each batch takes the lines that arrived before its tick.
 *
 * A refused or lost connection is retried with a backoff from 100 ms doubling to 2 s, until {@link stop};
 * each kind of failure is logged once per outage, not once per attempt. Lines sent while disconnected are
 * lost, as in Spark.
 *
 * A line longer than `maxLineBytes`, or one that is not valid UTF-8, is not a record: it reaches the batch as
 * an `UnreadableRecord`, a dead letter with the reason (an over-long line keeps its length and first KiB, a
 * line that is not UTF-8 its bytes in base64). Lines are assembled from the chunks as they come, each byte
 * scanned once, so a line costs time and memory in proportion to its length.
 *
 * @example
 * const source = new SocketSource('127.0.0.1', 9999);
 * await source.start();
 * const lines = await source.recordsFor(1000, 1000); // lines received so far
 * await source.stop();
 */
export class SocketSource implements ReceiverSource<string> {
  /** Such as `socket(127.0.0.1:9999)`. */
  readonly description: string;
  /** False: lines that were drained cannot be asked for again. */
  readonly replayable = false;
  /** Lines arrive on their own: the engine cuts them into blocks every block interval. */
  readonly receives = true;
  /** The server's host name or address. */
  readonly host: string;
  /** The server's TCP port. */
  readonly port: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private log: (line: string) => void;
  /** Whether `log` was given: the runtime's logger then does not replace it. */
  private readonly ownLog: boolean;
  private readonly maxLineBytes: number;

  private socket: Socket | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private started = false;
  private backoffMs: number;
  /** Complete lines waiting for the next batch, most of them still the bytes they came as. */
  private readonly lines = new ReceivedLines();
  /**
   * Rate-limited: reading stops while this many lines wait (two batches' worth under the last limit), so the
   * sender's TCP window fills and it slows down instead of this process's memory growing; undefined: no limit.
   */
  private pauseAtLines: number | undefined;
  private paused = false;
  /** Where the socket reads into; what is kept of a read is copied out before the next. */
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  /** The chunks of a line whose newline has not arrived yet (only its start once it is over the limit). */
  private partialLine: Buffer[] = [];
  /** The bytes of that line so far, all of them even when it is over the limit. */
  private partialBytes = 0;
  /** Failure kinds already logged during the current outage. */
  private readonly loggedFailures = new Set<string>();
  /** Whether a connection is open now. */
  private connected = false;
  /** The latest failure of a connection, for the Streaming UI; kept once connected again, as Spark keeps it. */
  private lastError: SourceError | undefined;

  /** Targets `host:port`; nothing connects until {@link start}. */
  constructor(host: string, port: number, options: SocketSourceOptions = {}) {
    if (typeof host !== 'string' || host === '') {
      throw new SluiceError(`SocketSource host must be a non-empty string, got ${show(host)}`);
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new SluiceError(`SocketSource port must be an integer from 1 to 65535, got ${show(port)}`);
    }
    const minBackoffMs = options.minBackoffMs ?? 100;
    const maxBackoffMs = options.maxBackoffMs ?? 2000;
    if (!(minBackoffMs > 0) || !Number.isFinite(minBackoffMs)) {
      throw new SluiceError(`minBackoffMs must be a positive number of ms, got ${show(minBackoffMs)}`);
    }
    if (!(maxBackoffMs >= minBackoffMs) || !Number.isFinite(maxBackoffMs)) {
      throw new SluiceError(
        `maxBackoffMs must be a number of ms at least minBackoffMs (${minBackoffMs}), got ${show(maxBackoffMs)}`,
      );
    }
    const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) {
      throw new SluiceError(
        `maxLineBytes must be a positive whole number of bytes, got ${show(maxLineBytes)}`,
      );
    }
    this.maxLineBytes = maxLineBytes;
    this.host = host;
    this.port = port;
    this.minBackoffMs = minBackoffMs;
    this.maxBackoffMs = maxBackoffMs;
    this.backoffMs = minBackoffMs;
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.ownLog = options.log !== undefined;
    this.description = `socket(${host}:${port})`;
  }

  /**
   * Connects, resolving once the first attempt has connected or failed; a failure is not an error here,
   * the source keeps retrying in the background, as a Spark receiver does.
   */
  async start(ctx?: SourceContext): Promise<void> {
    if (this.started) return;
    // The runtime's logger, when there is one: `--log-json` and `--log-level` then apply to these lines too.
    const runtimeLog = ctx?.log;
    if (!this.ownLog && runtimeLog) this.log = (line) => runtimeLog.warn(line, { source: this.description });
    this.started = true;
    await new Promise<void>((resolve) => this.connect(resolve));
  }

  /**
   * The lines received since the previous batch, in arrival order. With `limit`, the oldest `limit.maxRecords()`
   * of them; the rest stay buffered for the next batches, and while two batches' worth wait, the source stops
   * reading the socket (TCP then holds the sender back).
   */
  async recordsFor(_batchTime?: number, _intervalMs?: number, limit?: BatchLimit): Promise<string[]> {
    const maxRecords = limit?.maxRecords() ?? Number.POSITIVE_INFINITY;
    return this.takeReceived(maxRecords, Number.isFinite(maxRecords) ? 2 * maxRecords : undefined);
  }

  /**
   * The oldest `maxRecords` lines received and not taken yet; the engine's block generator calls it every block
   * interval. While `pauseAtRecords` lines wait (two batches' worth under a rate limit), reading stops.
   */
  takeReceived(maxRecords: number, pauseAtRecords: number | undefined): string[] {
    const lines = this.lines.take(maxRecords) as string[];
    this.setPauseAt(pauseAtRecords);
    return lines;
  }

  /**
   * The same lines as {@link takeReceived}, as the block the engine stores: lines that arrived in clean runs are
   * copied as the bytes they came as, never decoded here.
   */
  takeReceivedBlock(maxRecords: number, pauseAtRecords: number | undefined): TakenBlock | undefined {
    const block = this.lines.takeBlock(maxRecords);
    this.setPauseAt(pauseAtRecords);
    return block;
  }

  private setPauseAt(pauseAtRecords: number | undefined): void {
    this.pauseAtLines = pauseAtRecords === undefined ? undefined : Math.max(1, pauseAtRecords);
    this.pauseWhileFull();
  }

  /** Pauses reading while the buffer holds {@link pauseAtLines} lines, resumes once a batch drained it. */
  private pauseWhileFull(): void {
    const full = this.pauseAtLines !== undefined && this.lines.size >= this.pauseAtLines;
    if (full === this.paused) return;
    this.paused = full;
    if (full) this.socket?.pause();
    else this.socket?.resume();
  }

  /**
   * `connected`, or `retrying` while a refused or lost connection is tried again, with the latest failure (its
   * class and text, `Error: connect ECONNREFUSED 127.0.0.1:9999`); nothing before {@link start}, and only the
   * failure once stopped: a closed source is neither connected nor retrying.
   */
  status(): SourceStatus {
    if (!this.started) return {};
    if (this.stopped) return this.lastError ? { lastError: this.lastError } : {};
    return {
      state: this.connected ? 'connected' : 'retrying',
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** Closes the connection and cancels any pending reconnect so the process can exit. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.destroy();
      });
    }
  }

  /** One connection attempt; `settled` is called once it has connected or failed. */
  private connect(settled: () => void = () => {}): void {
    if (this.stopped) {
      settled();
      return;
    }
    let connected = false;
    let failure: string | undefined;
    let failedWith: SourceError | undefined;
    // Bytes, not text: a line is decoded once whole, so a character split across chunks is whole again, and
    // a line that is not UTF-8 can be kept as it came. Every read lands in the same buffer, and `receive` copies
    // out what it keeps: a new buffer per read was outside memory the collector saw only in full collections,
    // and the receiving thread, which makes little other garbage, ran one every 300-500 ms at 30 MB/s.
    const socket = createConnection({
      host: this.host,
      port: this.port,
      onread: {
        buffer: this.readBuffer,
        callback: (bytes: number, buffer: Uint8Array) => {
          this.receive(Buffer.from(buffer.buffer, buffer.byteOffset, bytes));
          return true;
        },
      },
    });
    this.socket = socket;
    socket.on('connect', () => {
      connected = true;
      this.connected = true;
      // A new connection starts flowing; one made while the buffer is full must wait too.
      if (this.paused) socket.pause();
      if (this.loggedFailures.size > 0) this.log(`${this.description}: connected again`);
      this.loggedFailures.clear();
      this.backoffMs = this.minBackoffMs;
      settled();
    });
    socket.on('end', () => {
      // The server finished cleanly: like a line reader at end of file, keep an unterminated last line.
      if (this.partialBytes > 0) this.endLine();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      failure = error.code ?? error.message;
      failedWith = sourceError(error);
    });
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      this.connected = false;
      // A line cut by a broken connection is incomplete; the next one starts afresh.
      this.partialLine = [];
      this.partialBytes = 0;
      if (this.stopped) {
        settled();
        return;
      }
      this.lastError =
        failedWith ?? sourceError(connected ? 'connection closed by the server' : 'connection failed');
      this.reportFailure(
        connected ? (failure ?? 'connection closed by the server') : (failure ?? 'unknown error'),
      );
      this.scheduleReconnect();
      settled();
    });
  }

  /**
   * Cuts a chunk into lines. Only the chunk's own bytes are scanned for newlines, and the unterminated tail is
   * kept as a chunk, not joined to a growing string: joining and re-scanning made a 64 MiB line take 24 s.
   * The whole lines in the middle of a chunk are kept as one run of bytes when they are clean (see
   * {@link cleanLines}); only the others are made into records one by one.
   */
  private receive(chunk: Buffer): void {
    let lineStart = 0;
    if (this.partialBytes > 0) {
      // The rest of a line begun in an earlier chunk.
      const newline = chunk.indexOf(NEWLINE);
      if (newline === -1) {
        this.appendToLine(chunk);
        this.pauseWhileFull();
        return;
      }
      this.appendToLine(chunk.subarray(0, newline));
      this.endLine();
      lineStart = newline + 1;
    }
    const lastNewline = chunk.lastIndexOf(NEWLINE);
    if (lastNewline >= lineStart) {
      const run = chunk.subarray(lineStart, lastNewline);
      const count = this.cleanLines(run);
      if (count > 0) this.lines.pushRun(run, count);
      else {
        for (let newline = chunk.indexOf(NEWLINE, lineStart); newline !== -1 && newline <= lastNewline; ) {
          this.appendToLine(chunk.subarray(lineStart, newline));
          this.endLine();
          lineStart = newline + 1;
          newline = chunk.indexOf(NEWLINE, lineStart);
        }
      }
      lineStart = lastNewline + 1;
    }
    if (lineStart < chunk.length) this.appendToLine(chunk.subarray(lineStart));
    this.pauseWhileFull();
  }

  /**
   * The number of lines in `run` (whole lines joined by newlines) when every one of them can stay bytes: valid
   * UTF-8 (a newline never occurs inside a UTF-8 character, so the run is valid exactly when each line is), no
   * `\r` to strip, none longer than `maxLineBytes`; 0 when one of them needs {@link endLine}.
   */
  private cleanLines(run: Buffer): number {
    if (run.indexOf(CARRIAGE_RETURN) !== -1 || !isUtf8(run)) return 0;
    let count = 1;
    let lineStart = 0;
    for (let newline = run.indexOf(NEWLINE); newline !== -1; newline = run.indexOf(NEWLINE, lineStart)) {
      if (newline - lineStart > this.maxLineBytes) return 0;
      count++;
      lineStart = newline + 1;
    }
    return run.length - lineStart > this.maxLineBytes ? 0 : count;
  }

  /** Adds bytes to the current line; past the limit, only the line's start stays, for its dead letter. */
  private appendToLine(bytes: Buffer): void {
    if (bytes.length === 0) return;
    const before = this.partialBytes;
    this.partialBytes += bytes.length;
    if (this.partialBytes <= this.maxLineBytes) {
      this.partialLine.push(Buffer.from(bytes)); // a copy: the read buffer is reused
      return;
    }
    // Over the limit: keep a copy of the line's first KiB, so the chunks (up to the limit) can be freed. Under a
    // limit below a KiB the start is not whole yet when the line goes over, so later chunks still add to it.
    const heldBytes = this.partialLine.reduce((sum, part) => sum + part.length, 0);
    if (before > this.maxLineBytes && heldBytes >= OVERLONG_PREFIX_BYTES) return;
    const prefixBytes = Math.min(OVERLONG_PREFIX_BYTES, heldBytes + bytes.length);
    this.partialLine = [Buffer.concat([...this.partialLine, bytes], prefixBytes)];
  }

  /** The current line is complete: a record, or an unreadable one when it is too long or not UTF-8. */
  private endLine(): void {
    const lineBytes = this.partialBytes;
    const parts = this.partialLine;
    this.partialLine = [];
    this.partialBytes = 0;
    if (lineBytes > this.maxLineBytes) {
      const prefix = parts[0]!.subarray(0, Math.min(OVERLONG_PREFIX_BYTES, lineBytes));
      const reason = `line of ${lineBytes} bytes is longer than maxLineBytes (${this.maxLineBytes})`;
      this.pushUnreadable(unreadableRecord(reason, { bytes: lineBytes, prefix: prefix.toString('utf8') }));
      return;
    }
    let line = parts.length === 1 ? parts[0]! : Buffer.concat(parts, lineBytes);
    if (line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN) line = line.subarray(0, -1);
    if (isUtf8(line)) this.lines.pushRun(line, 1);
    else this.pushUnreadable(notUtf8Record('line', line));
  }

  /** Queues an unreadable line; `BlockDataset` dead-letters it before any function sees the batch. */
  private pushUnreadable(record: ReturnType<typeof unreadableRecord>): void {
    this.lines.pushUnreadable(record); // never reaches a function: the block dead-letters it
  }

  /** Logs a failure the first time its kind occurs in the current outage. */
  private reportFailure(kind: string): void {
    if (this.loggedFailures.has(kind)) return;
    this.loggedFailures.add(kind);
    this.log(
      `${this.description}: ${kind}; retrying every ${this.minBackoffMs}–${this.maxBackoffMs} ms until stopped`,
    );
  }

  private scheduleReconnect(): void {
    const delayMs = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delayMs);
  }
}

/** `preview`, except that numbers print as themselves: JSON would show NaN and Infinity as `null`. */
function show(value: unknown): string {
  return typeof value === 'number' ? String(value) : preview(value);
}
