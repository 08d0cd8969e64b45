import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One S3 request seen by an {@link S3RequestLog}, classed as S3 bills it. */
export interface LoggedS3Request {
  /** Which proxy saw it: the name given to `proxy()` (such as `coordinator` or `worker`). */
  readonly who: string;
  /** `PUT` (PutObject), `LIST`, `DELETE` (DeleteObjects, a POST), `GET`, `RANGE` (a ranged GET), `HEAD`. */
  readonly kind: 'PUT' | 'LIST' | 'DELETE' | 'GET' | 'RANGE' | 'HEAD' | 'OTHER';
  /** The object key (or the listed prefix), without the bucket. */
  readonly key: string;
  /** The HTTP status LocalStack answered. */
  readonly status: number;
}

/**
 * Logging proxies in front of LocalStack's S3: each `proxy(who)` is an endpoint URL to give a function as its
 * `AWS_ENDPOINT_URL_S3`; every request through it is forwarded unchanged and logged with the function's name,
 * its billing class and its key. How the tests and the request breakdown count the S3 requests of the real
 * coordinator and workers (in their own processes) without touching their code.
 */
export class S3RequestLog {
  /** Every request so far, in the order they were answered. */
  readonly requests: LoggedS3Request[] = [];
  private readonly servers: Server[] = [];

  constructor(private readonly target = 'http://127.0.0.1:4566') {}

  /** Starts a proxy on a free loopback port whose requests are logged as `who`'s; resolves to its URL. */
  async proxy(who: string): Promise<string> {
    const target = new URL(this.target);
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://proxy');
      const [, , ...rest] = url.pathname.split('/');
      const key = decodeURIComponent(rest.join('/') || url.searchParams.get('prefix') || '');
      const kind = classify(req.method ?? 'GET', url.searchParams, req.headers.range !== undefined);
      const upstream = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          this.requests.push({ who, kind, key, status: answer.statusCode ?? 0 });
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', (error) => res.destroy(error));
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Forgets the requests logged so far. */
  clear(): void {
    this.requests.length = 0;
  }

  /** Stops every proxy. */
  async stop(): Promise<void> {
    for (const server of this.servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }
}

/** S3 bills PUT, COPY, POST and LIST at the write rate, GET and HEAD at the read rate. */
export const WRITE_KINDS: ReadonlySet<LoggedS3Request['kind']> = new Set(['PUT', 'LIST', 'DELETE', 'OTHER']);

function classify(method: string, query: URLSearchParams, ranged: boolean): LoggedS3Request['kind'] {
  if (method === 'PUT') return 'PUT';
  if (method === 'POST' && query.has('delete')) return 'DELETE';
  if (method === 'HEAD') return 'HEAD';
  if (method === 'GET' && (query.has('list-type') || query.has('prefix'))) return 'LIST';
  if (method === 'GET') return ranged ? 'RANGE' : 'GET';
  return 'OTHER';
}

/**
 * A key with its numbers (batch times, partitions, epochs) and random names replaced by `#`, so that the
 * requests of different batches fall into the same line of a breakdown.
 */
export function keyPattern(key: string): string {
  return key
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
    .replace(/[0-9]+/g, '#');
}
