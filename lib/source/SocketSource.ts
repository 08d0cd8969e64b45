import { createConnection, type Socket } from 'node:net';
import { preview, SluiceError } from '../errors';
import type { Source } from './Source';

/** Settings of a {@link SocketSource}. */
export interface SocketSourceOptions {
  /** Wait before the first reconnect after a failure, doubled on each further failure, in ms. Default `100`. */
  readonly minBackoffMs?: number;
  /** Longest wait between reconnect attempts, in ms. Default `2000`. */
  readonly maxBackoffMs?: number;
  /** Where connection problems are reported, one line at a time. Default: a line on `process.stderr`. */
  readonly log?: (line: string) => void;
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
 * @example
 * const source = new SocketSource('127.0.0.1', 9999);
 * await source.start();
 * const lines = await source.recordsFor(1000, 1000); // lines received so far
 * await source.stop();
 */
export class SocketSource implements Source<string> {
  /** Such as `socket(127.0.0.1:9999)`. */
  readonly description: string;
  /** False: lines that were drained cannot be asked for again. */
  readonly replayable = false;
  /** The server's host name or address. */
  readonly host: string;
  /** The server's TCP port. */
  readonly port: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly log: (line: string) => void;

  private socket: Socket | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private started = false;
  private backoffMs: number;
  /** Complete lines waiting for the next batch. */
  private lines: string[] = [];
  /** The start of a line whose newline has not arrived yet. */
  private partialLine = '';
  /** Failure kinds already logged during the current outage. */
  private readonly loggedFailures = new Set<string>();

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
    this.host = host;
    this.port = port;
    this.minBackoffMs = minBackoffMs;
    this.maxBackoffMs = maxBackoffMs;
    this.backoffMs = minBackoffMs;
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.description = `socket(${host}:${port})`;
  }

  /**
   * Connects, resolving once the first attempt has connected or failed; a failure is not an error here,
   * the source keeps retrying in the background, as a Spark receiver does.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await new Promise<void>((resolve) => this.connect(resolve));
  }

  /** The lines received since the previous batch, in arrival order. */
  async recordsFor(): Promise<string[]> {
    const lines = this.lines;
    this.lines = [];
    return lines;
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
    const socket = createConnection({ host: this.host, port: this.port });
    this.socket = socket;
    // setEncoding decodes through a StringDecoder, which holds back a multi-byte character split across chunks.
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      connected = true;
      if (this.loggedFailures.size > 0) this.log(`${this.description}: connected again`);
      this.loggedFailures.clear();
      this.backoffMs = this.minBackoffMs;
      settled();
    });
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.on('end', () => {
      // The server finished cleanly: like a line reader at end of file, keep an unterminated last line.
      if (this.partialLine !== '') this.lines.push(stripCarriageReturn(this.partialLine));
      this.partialLine = '';
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      failure = error.code ?? error.message;
    });
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      this.partialLine = ''; // a line cut by a broken connection is incomplete; the next one starts afresh
      if (this.stopped) {
        settled();
        return;
      }
      this.reportFailure(
        connected ? (failure ?? 'connection closed by the server') : (failure ?? 'unknown error'),
      );
      this.scheduleReconnect();
      settled();
    });
  }

  /** Appends a decoded chunk, cutting it into lines; the unterminated tail waits for the next chunk. */
  private receive(chunk: string): void {
    const text = this.partialLine + chunk;
    let lineStart = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', lineStart)) {
      this.lines.push(stripCarriageReturn(text.slice(lineStart, newline)));
      lineStart = newline + 1;
    }
    this.partialLine = text.slice(lineStart);
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

function stripCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/** `preview`, except that numbers print as themselves: JSON would show NaN and Infinity as `null`. */
function show(value: unknown): string {
  return typeof value === 'number' ? String(value) : preview(value);
}
