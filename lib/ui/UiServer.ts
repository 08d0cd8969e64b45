import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PortInUseError } from '../errors';
import type { StreamingSummary, StreamingUiSource } from './StreamingUiState';

/** The port of the UI unless told otherwise, Spark's. */
export const DEFAULT_UI_PORT = 4040;

const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'static');
// uPlot is served from node_modules: the page loads nothing from outside this machine.
const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));

/** The files the page is made of, by URL path: nothing else on disk can be asked for. */
const FILES: Readonly<Record<string, { readonly file: string; readonly type: string }>> = {
  '/': { file: join(STATIC_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/static/app.js': { file: join(STATIC_DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/static/pageFormat.js': {
    file: join(STATIC_DIR, 'pageFormat.js'),
    type: 'text/javascript; charset=utf-8',
  },
  '/static/batchTables.js': {
    file: join(STATIC_DIR, 'batchTables.js'),
    type: 'text/javascript; charset=utf-8',
  },
  '/static/batchPage.js': {
    file: join(STATIC_DIR, 'batchPage.js'),
    type: 'text/javascript; charset=utf-8',
  },
  '/static/app.css': { file: join(STATIC_DIR, 'app.css'), type: 'text/css; charset=utf-8' },
  '/static/uPlot.iife.min.js': {
    file: join(UPLOT_DIR, 'uPlot.iife.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  '/static/uPlot.min.css': { file: join(UPLOT_DIR, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

/** Host names a browser on this machine uses for 127.0.0.1; any other Host is a DNS-rebinding attempt. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The Streaming UI's web server (Spark's Streaming tab): the page, and the JSON it polls, `/api/streaming` (the
 * header, the batches and the stability signal) and `/api/batch/<batch time>` (one batch's page), and, when given
 * a `sluice tune` search, `/api/tune` (its table, recommendation and trials, for the tune page). It listens
 * on 127.0.0.1 only and answers only requests whose Host names the loopback, so a web page elsewhere cannot
 * read a job's metrics by pointing a name of its own at this port.
 *
 * @example
 * const server = await UiServer.start(state, 0);
 * console.log(server.url); // http://127.0.0.1:<free port>/
 * await server.close();
 */
export class UiServer {
  private constructor(
    private readonly server: Server,
    /** The port it listens on (the one picked, when asked for 0). */
    readonly port: number,
  ) {}

  /** The page's address. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /**
   * Starts listening on 127.0.0.1:`port` (0: a free one); fails with a `PortInUseError` when the port is taken.
   * @param source the job whose batches the page shows; undefined for a page of a tune search only
   * @param tune the tune page's JSON (see `tuneView`); default none
   */
  static async start(
    source: StreamingUiSource | undefined,
    port = DEFAULT_UI_PORT,
    tune?: object,
  ): Promise<UiServer> {
    const server = createServer((request, response) => {
      handle(source, tune, request, response).catch((error: unknown) => {
        const message = `The UI could not read the metrics: ${String(error)}`;
        // The page shows an API error's own sentence, which it finds only in JSON.
        if (pathOf(request.url ?? '/')?.startsWith('/api/')) sendJson(response, 500, { error: message });
        else send(response, 500, 'text/plain; charset=utf-8', message);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EADDRINUSE' ? new PortInUseError('127.0.0.1', port) : error),
      );
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return new UiServer(server, (server.address() as AddressInfo).port);
  }

  /** Stops listening and ends open connections (the page's polls). */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function handle(
  source: StreamingUiSource | undefined,
  tune: object | undefined,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  // Host names are case-insensitive: LOCALHOST is localhost.
  const host = (request.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
  if (!LOOPBACK_HOSTS.has(host)) {
    send(
      response,
      403,
      'text/plain; charset=utf-8',
      `The Sluice UI answers only on 127.0.0.1, not on ${host || 'no host'}`,
    );
    return;
  }
  // HEAD is GET without the body, which Node's response leaves out by itself.
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    send(
      response,
      405,
      'text/plain; charset=utf-8',
      'The Sluice UI is read-only: only GET and HEAD are answered',
      {
        allow: 'GET, HEAD',
      },
    );
    return;
  }
  const path = pathOf(request.url ?? '/');
  if (path === undefined) {
    send(response, 400, 'text/plain; charset=utf-8', `Not a request target: ${request.url}`);
    return;
  }
  if (path === '/api/tune') {
    if (tune) sendJson(response, 200, tune);
    else sendJson(response, 404, { error: 'no sluice tune search on this page' });
    return;
  }
  if (path.startsWith('/api/') && !source) {
    // A page of a tune search only: the page then opens on it.
    sendJson(response, 404, { error: 'no streaming job on this page' });
    return;
  }
  if (path === '/api/streaming' && source) {
    sendJson(response, 200, await source.summary());
    return;
  }
  const batchPath = /^\/api\/batch\/([^/]*)$/.exec(path);
  if (batchPath && source) {
    const batchTime = Number(batchPath[1]);
    // Only the number as the page writes it: 0003000 or 3e3 would be a second address of batch 3000.
    if (!Number.isSafeInteger(batchTime) || batchTime < 0 || String(batchTime) !== batchPath[1]) {
      sendJson(response, 404, {
        error: `no batch ${batchPath[1]}: a batch time is a whole number of milliseconds, such as 3000`,
      });
      return;
    }
    const detail = await source.batch(batchTime);
    if (detail) sendJson(response, 200, detail);
    else sendJson(response, 404, { error: noBatchReason(await source.summary(), batchTime) });
    return;
  }
  if (path.startsWith('/api/')) {
    sendJson(response, 404, {
      error: `nothing at ${path}: the API is /api/streaming, /api/batch/<batch time> and /api/tune`,
    });
    return;
  }
  if (path === '/favicon.ico') {
    // The page has no icon: an empty answer, not a 404 that a browser logs as an error on every load.
    send(response, 204, 'image/x-icon', '');
    return;
  }
  const file = FILES[path];
  if (!file) {
    send(response, 404, 'text/plain; charset=utf-8', `Nothing at ${path}`);
    return;
  }
  send(response, 200, file.type, await readFile(file.file));
}

/** Why the batch at `batchTime` has no page: still running, dropped from the retained history, or never there. */
function noBatchReason(summary: StreamingSummary, batchTime: number): string {
  const active = summary.active.find((a) => a.batchTime === batchTime);
  if (active && summary.ended) {
    return `batch ${batchTime} was ${active.status} when the run ended and never completed: it has no page`;
  }
  if (active) return `batch ${batchTime} is still ${active.status}: its page opens once it completes`;
  if (batchTime % summary.batchIntervalMs !== 0) {
    return `no batch ${batchTime} in this run: batch times are multiples of the batch interval, ${summary.batchIntervalMs} ms`;
  }
  const oldest = summary.batches[0];
  // On AWS the kept metrics do not say how many batches ran before them.
  const dropped = summary.completedBatches > summary.batches.length || summary.readOnly;
  if (oldest && batchTime < oldest.batchTime && dropped) {
    return `batch ${batchTime} is no longer retained: the UI keeps the last ${summary.batches.length} completed batches, the oldest is batch ${oldest.batchTime}`;
  }
  // A batch in an unreadable metrics file may well have completed: say that the page could not tell.
  const unreadable = summary.unreadable?.length
    ? ` (as far as the readable metrics tell: ${summary.unreadable.join('; ')})`
    : '';
  return `no batch ${batchTime} has completed in this run${unreadable}`;
}

/** The path of a request target, or undefined when it is not one (`http://[`). */
function pathOf(target: string): string | undefined {
  try {
    return new URL(target, 'http://127.0.0.1').pathname;
  } catch {
    return undefined;
  }
}

function send(
  response: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  headers: Readonly<Record<string, string>> = {},
): void {
  response.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  response.end(body);
}

/** The API's answers, found or not, are JSON: an error is `{ error }` in a sentence. */
function sendJson(response: ServerResponse, status: number, body: unknown): void {
  send(response, status, 'application/json', JSON.stringify(body));
}
