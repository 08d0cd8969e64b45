import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import { createInterface } from 'node:readline';
import { LAMBDA_MEMORY_MB } from '../aws/deploymentContract';
import { PortInUseError } from '../errors';
import type { InvokeContext, LambdaError, RunnerMessage } from './LambdaRunner';

/** One function the host serves. */
export interface HostedFunctionSpec {
  /** Absolute path of the handler module (TypeScript or JavaScript). */
  readonly module: string;
  /** The handler's export name. Default `handler`. */
  readonly handler?: string;
  /** Environment variables of the function, on top of the host process's own. */
  readonly env?: Readonly<Record<string, string>>;
  /** The invocation timeout, in ms. Default 3000, as on Lambda. */
  readonly timeoutMs?: number;
  /** How long loading the handler module may take, in ms. Default 10000, as Lambda's init phase. */
  readonly initTimeoutMs?: number;
  /**
   * The function's memory in MB, as its stack configures it: its context's `memoryLimitInMB`, its
   * `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` and its REPORT lines say it (the host does not cap the process's memory).
   * Default 128, as on Lambda.
   */
  readonly memoryMb?: number;
}

/** Settings of a `LambdaHost`. */
export interface LambdaHostOptions {
  /** The port to listen on. Default 0: any free port. */
  readonly port?: number;
  /** A loopback address to listen on. Default `127.0.0.1`. */
  readonly host?: string;
  /** The functions it serves, by name. */
  readonly functions: Readonly<Record<string, HostedFunctionSpec>>;
  /** Where the functions' stdout and stderr lines go. Default: this process's stderr, prefixed by the name. */
  readonly output?: (functionName: string, line: string) => void;
}

/** The Invoke API's payload limit for synchronous invocations, requests and responses alike (6 MB). */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** How much of an invocation's log `X-Amz-Log-Type: Tail` returns. */
const LOG_TAIL_BYTES = 4 * 1024;
const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const runnerScript = new URL('./lambdaRunner.mjs', import.meta.url);

/** The outcome of one invocation, with its log. */
type Outcome = { ok: true; payload: string; log: string } | { ok: false; error: LambdaError; log: string };

/**
 * A local host of the Lambda Invoke API for machines without Docker, in the role of `sam local start-lambda`:
 * the real `@aws-sdk/client-lambda` pointed at its `url` invokes the functions it serves. Each function runs
 * in a child process of its own that keeps its module scope across invocations (a warm container) and serves
 * several invocations at once; a process that dies is replaced at the next invocation, and its in-flight
 * invocations fail as a crashed container's would. An invocation that runs past its function's timeout gets Lambda's
 * `Sandbox.Timedout` error and its process is killed (SIGKILL, which also ends a stopped one). Qualifiers are accepted and ignored: every function is
 * `$LATEST`. Only `console` output counts toward an invocation's log tail.
 *
 * @example
 * const host = await LambdaHost.start({ functions: { worker: { module: '/abs/functions/worker.ts' } } });
 * const lambda = new LambdaClient({ endpoint: host.url, region: 'us-east-1', credentials });
 * await lambda.send(new InvokeCommand({ FunctionName: 'worker', Payload: JSON.stringify(event) }));
 * await host.stop();
 */
export class LambdaHost {
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly functions: ReadonlyMap<string, HostedFunction>,
    /** The base URL to give the Lambda client as its `endpoint`. */
    readonly url: string,
    /** The port it listens on. */
    readonly port: number,
  ) {}

  /**
   * Validates the functions, starts listening, and resolves once the port is open (processes start lazily); fails
   * with a `PortInUseError` when the port is taken.
   */
  static async start(options: LambdaHostOptions): Promise<LambdaHost> {
    const host = options.host ?? '127.0.0.1';
    if (!isLoopback(host)) {
      throw new RangeError(
        `the Lambda host listens on loopback only: got host ${host}, expected 127.0.0.1 or ::1`,
      );
    }
    const output =
      options.output ?? ((name: string, line: string) => process.stderr.write(`[${name}] ${line}\n`));
    const functions = new Map<string, HostedFunction>();
    for (const [name, spec] of Object.entries(options.functions)) {
      functions.set(name, new HostedFunction(name, validateSpec(name, spec), output));
    }
    const server = createServer();
    server.listen(options.port ?? 0, host);
    await once(server, 'listening').catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'EADDRINUSE' ? new PortInUseError(host, options.port ?? 0) : error;
    });
    const { port } = server.address() as AddressInfo;
    const url = `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
    const lambdaHost = new LambdaHost(server, functions, url, port);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      lambdaHost.serve(req, res).catch((error: unknown) => {
        if (!res.headersSent) reply(res, 500, 'ServiceException', (error as Error).message);
        else res.destroy();
      });
    });
    return lambdaHost;
  }

  /** Stops listening and kills the function processes this host started, by PID. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all([...this.functions.values()].map((fn) => fn.stop()));
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeAllConnections();
      await closed;
    })();
    return this.stopping;
  }

  /** Replaces a function's process with a fresh one (a cold start) and waits until it has loaded. */
  restart(name: string): Promise<void> {
    return this.function(name).restart();
  }

  /** Kills a function's process with SIGKILL, as a crashed container; the next invocation starts a new one. */
  kill(name: string): Promise<void> {
    return this.function(name).kill();
  }

  /**
   * Invocations of a function this host started so far (every type but DryRun): what Lambda would bill as
   * requests, for tests that a job asleep invokes nothing.
   */
  invocations(name: string): number {
    return this.function(name).invocations;
  }

  /** The PID of a function's current process, if one is running (for tests of restarts). */
  pidOf(name: string): number | undefined {
    return this.function(name).pid;
  }

  private function(name: string): HostedFunction {
    const fn = this.functions.get(name);
    if (!fn)
      throw new RangeError(`the Lambda host serves no function named ${name}: it serves ${this.names()}`);
    return fn;
  }

  private names(): string {
    return [...this.functions.keys()].join(', ') || 'none';
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The functions run with the developer's AWS credentials. Listening on loopback keeps other machines out, not
    // a web page in the developer's own browser: it can POST here (a simple cross-origin request), or reach the
    // port through a DNS name rebound to 127.0.0.1. SDK clients send no Origin and a loopback Host; browsers
    // always send Origin on a cross-origin POST, and a rebound name arrives as the Host.
    const refusal = browserRefusal(req);
    if (refusal) {
      req.resume();
      reply(res, 403, 'AccessDeniedException', refusal);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://lambda.local');
    const route = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
    if (req.method !== 'POST' || !route) {
      req.resume();
      reply(res, 404, 'UnknownOperationException', `the Lambda host has no ${req.method} ${url.pathname}`);
      return;
    }
    const body = await readBody(req, MAX_PAYLOAD_BYTES);
    if (!body) {
      reply(res, 413, 'RequestTooLargeException', `Request must be smaller than ${MAX_PAYLOAD_BYTES} bytes`);
      return;
    }
    const encoded = route[1]!;
    let decoded: string;
    try {
      decoded = decodeURIComponent(encoded);
    } catch {
      // The request's fault, not the host's: answered as Lambda answers a name it cannot take, not with a 500.
      reply(res, 400, 'ValidationException', `the function name ${encoded} is not valid percent-encoding`);
      return;
    }
    const name = functionName(decoded);
    const fn = this.functions.get(name);
    if (!fn || this.stopping) {
      reply(res, 404, 'ResourceNotFoundException', `Function not found: ${arnOf(name)}`);
      return;
    }
    const invocationType = header(req, 'x-amz-invocation-type') ?? 'RequestResponse';
    if (!['RequestResponse', 'Event', 'DryRun'].includes(invocationType)) {
      reply(
        res,
        400,
        'InvalidParameterValueException',
        `X-Amz-Invocation-Type must be RequestResponse, Event or DryRun, got ${invocationType}`,
      );
      return;
    }
    // An empty payload is the empty object, as on Lambda.
    const payload = body.length === 0 ? '{}' : body.toString('utf8');
    try {
      JSON.parse(payload);
    } catch (error) {
      reply(res, 400, 'InvalidRequestContentException', `Could not parse request body into json: ${error}`);
      return;
    }
    const requestId = randomUUID();
    const headers = { 'x-amzn-RequestId': requestId, 'X-Amz-Executed-Version': '$LATEST' };
    if (invocationType === 'DryRun') {
      res.writeHead(204, headers).end();
      return;
    }
    const context = { clientContext: clientContext(header(req, 'x-amz-client-context')) };
    fn.invocations++;
    if (invocationType === 'Event') {
      res.writeHead(202, headers).end();
      // Nobody waits for an asynchronous invocation: its failure, even one to start it, goes to the function's log.
      fn.invoke(requestId, payload, context).then(
        (outcome) => {
          if (!outcome.ok) fn.output(`async invocation ${requestId} failed: ${describe(outcome.error)}`);
        },
        (error: unknown) => fn.output(`async invocation ${requestId} failed: ${(error as Error).message}`),
      );
      return;
    }
    const outcome = await fn.invoke(requestId, payload, context);
    const responseHeaders: Record<string, string> = { ...headers, 'Content-Type': 'application/json' };
    if (header(req, 'x-amz-log-type') === 'Tail') {
      responseHeaders['X-Amz-Log-Result'] = Buffer.from(outcome.log)
        .subarray(-LOG_TAIL_BYTES)
        .toString('base64');
    }
    let body200 = outcome.ok ? outcome.payload : JSON.stringify(outcome.error);
    if (outcome.ok && Buffer.byteLength(body200) > MAX_PAYLOAD_BYTES) {
      body200 = JSON.stringify({
        errorType: 'Function.ResponseSizeTooLarge',
        errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_PAYLOAD_BYTES} bytes).`,
        trace: [],
      } satisfies LambdaError);
      responseHeaders['X-Amz-Function-Error'] = 'Unhandled';
    }
    if (!outcome.ok) responseHeaders['X-Amz-Function-Error'] = 'Unhandled';
    res.writeHead(200, responseHeaders).end(body200);
  }
}

/** One served function: its current process, and the processes it retired that still finish invocations. */
class HostedFunction {
  private current: FunctionProcess | undefined;
  private readonly processes = new Set<FunctionProcess>();
  private readonly timeoutMs: number;
  private readonly initTimeoutMs: number;
  private readonly memoryMb: number;
  /** Invocations started (see `LambdaHost.invocations`). */
  invocations = 0;

  constructor(
    readonly name: string,
    private readonly spec: HostedFunctionSpec,
    private readonly write: (functionName: string, line: string) => void,
  ) {
    this.timeoutMs = spec.timeoutMs ?? 3000;
    this.initTimeoutMs = spec.initTimeoutMs ?? 10_000;
    this.memoryMb = spec.memoryMb ?? LAMBDA_MEMORY_MB.min;
  }

  get pid(): number | undefined {
    return this.current?.alive ? this.current.child.pid : undefined;
  }

  output(line: string): void {
    this.write(this.name, line);
  }

  /** Runs one invocation; every failure (handler error, timeout, crash, failed init) is an outcome. */
  async invoke(
    requestId: string,
    payload: string,
    extra: Pick<InvokeContext, 'clientContext'>,
  ): Promise<Outcome> {
    const started = performance.now();
    const container = this.process();
    const init = await container.ready;
    if (init) {
      // A module that failed to load is loaded again by the next invocation, as Lambda retries an init.
      this.retire(container);
      return this.withReport(requestId, started, { ok: false, error: init, log: '' });
    }
    const context: InvokeContext = {
      functionName: this.name,
      invokedFunctionArn: arnOf(this.name),
      deadlineMs: Date.now() + this.timeoutMs,
      memoryLimitInMB: String(this.memoryMb),
      ...extra,
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => {
        // The process is already being killed (another of its invocations timed out first): this one fails as on a
        // crash when the exit is seen, as it would have had the exit come a moment sooner.
        if (container.killing) return;
        container.abandon(requestId);
        // Lambda kills the environment of an invocation that timed out: its handler must not run on (a coordinator
        // past its timeout would still write). So the process is killed now; new invocations get a fresh one,
        // and any other invocation it was running fails as on a crashed container (Lambda runs one per environment).
        this.retire(container);
        void container.kill();
        const seconds = (this.timeoutMs / 1000).toFixed(2);
        resolve({
          ok: false,
          error: {
            errorType: 'Sandbox.Timedout',
            errorMessage: `RequestId: ${requestId} Error: Task timed out after ${seconds} seconds`,
            trace: [],
          },
          log: '',
        });
      }, this.timeoutMs);
    });
    const outcome = await Promise.race([container.invoke(requestId, payload, context), timedOut]);
    clearTimeout(timer);
    return this.withReport(requestId, started, outcome);
  }

  /** Kills the current process and starts a fresh one, ready to serve. */
  async restart(): Promise<void> {
    const old = this.current;
    this.current = undefined;
    await old?.kill();
    const fresh = this.process();
    const init = await fresh.ready;
    if (init) throw new Error(`function ${this.name} failed to start: ${describe(init)}`);
  }

  /** SIGKILLs the current process; its in-flight invocations fail and the next invocation starts a new one. */
  async kill(): Promise<void> {
    await this.current?.kill();
  }

  /** Kills every process of this function. */
  async stop(): Promise<void> {
    this.current = undefined;
    await Promise.all([...this.processes].map((p) => p.kill()));
  }

  private process(): FunctionProcess {
    if (!this.current?.alive) {
      const started = new FunctionProcess(this.spec, this.memoryMb, this.initTimeoutMs, (line) =>
        this.output(line),
      );
      this.processes.add(started);
      void started.exited.then(() => this.processes.delete(started));
      this.current = started;
    }
    return this.current;
  }

  private retire(container: FunctionProcess): void {
    if (this.current === container) this.current = undefined;
    container.retire();
  }

  /** Lambda's START, END and REPORT lines around the invocation's own log. */
  private withReport(requestId: string, started: number, outcome: Outcome): Outcome {
    const durationMs = performance.now() - started;
    const log =
      `START RequestId: ${requestId} Version: $LATEST\n${outcome.log}END RequestId: ${requestId}\n` +
      `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\t` +
      `Billed Duration: ${Math.ceil(durationMs)} ms\tMemory Size: ${this.memoryMb} MB\t\n`;
    return { ...outcome, log };
  }
}

/** One child process running a function's handler: a container. */
class FunctionProcess {
  readonly child: ChildProcess;
  /** Resolves once the handler module is loaded: to undefined, or to the error that stopped it loading. */
  readonly ready: Promise<LambdaError | undefined>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  alive = true;
  /** Set once SIGKILL is sent: the process is as good as gone, and its exit settles what it still runs. */
  killing = false;
  private readonly pending = new Map<string, (outcome: Outcome) => void>();
  private retired = false;

  constructor(
    spec: HostedFunctionSpec,
    memoryMb: number,
    initTimeoutMs: number,
    output: (line: string) => void,
  ) {
    this.child = fork(runnerScript, [spec.module, spec.handler ?? 'handler'], {
      // As Lambda sets them: Powertools reports `cold_start` only when the initialization type is on-demand, and
      // the coordinator bills its own time at its memory size.
      env: {
        ...process.env,
        ...spec.env,
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
      },
      execArgv: [],
      // Structured clone instead of JSON: payloads cross as strings without being escaped again.
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream) createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', output);
    }
    let loaded: (error: LambdaError | undefined) => void = () => {};
    this.ready = new Promise((resolve) => {
      loaded = resolve;
    });
    const initTimer = setTimeout(() => {
      loaded({
        errorType: 'Runtime.InitTimeout',
        errorMessage: `the handler module took more than ${initTimeoutMs} ms to load`,
        trace: [],
      });
      this.child.kill('SIGKILL');
    }, initTimeoutMs);
    this.child.on('message', (message: RunnerMessage) => {
      if (message.type === 'ready' || message.type === 'initError') {
        clearTimeout(initTimer);
        loaded(message.type === 'initError' ? message.error : undefined);
        return;
      }
      const settle = this.pending.get(message.id);
      this.pending.delete(message.id);
      settle?.(
        message.type === 'result'
          ? { ok: true, payload: message.payload, log: message.log }
          : { ok: false, error: message.error, log: message.log },
      );
      this.killIfDrained();
    });
    this.exited = new Promise((resolve) => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        this.alive = false;
        clearTimeout(initTimer);
        const reason = signal ? `signal: ${signal === 'SIGKILL' ? 'killed' : signal}` : `exit status ${code}`;
        loaded({
          errorType: 'Runtime.ExitError',
          errorMessage: `Runtime exited with error: ${reason}`,
          trace: [],
        });
        // A crashed container takes its in-flight invocations with it.
        for (const [id, settle] of this.pending) {
          settle({
            ok: false,
            error: {
              errorType: 'Runtime.ExitError',
              errorMessage: `RequestId: ${id} Error: Runtime exited with error: ${reason}`,
              trace: [],
            },
            log: '',
          });
        }
        this.pending.clear();
        resolve();
      };
      this.child.once('exit', onExit);
      // A process that could not even be spawned never emits 'exit'.
      this.child.on('error', (error) => {
        if (this.child.pid === undefined && this.alive) {
          output(`could not start the function process: ${error.message}`);
          onExit(1, null);
        }
      });
    });
  }

  /** Sends one invocation; resolves with its outcome, or with an error if the process dies first. */
  invoke(id: string, payload: string, context: InvokeContext): Promise<Outcome> {
    return new Promise((resolve) => {
      if (!this.alive) {
        resolve({
          ok: false,
          error: {
            errorType: 'Runtime.ExitError',
            errorMessage: 'Runtime exited before the invocation',
            trace: [],
          },
          log: '',
        });
        return;
      }
      this.pending.set(id, resolve);
      this.child.send({ type: 'invoke', id, payload, context }, (error) => {
        // The channel closed under the message: the process is dying, and its exit fails the others.
        if (error && this.pending.delete(id)) {
          resolve({
            ok: false,
            error: {
              errorType: 'Runtime.ExitError',
              errorMessage: `RequestId: ${id} Error: ${error.message}`,
              trace: [],
            },
            log: '',
          });
        }
      });
    });
  }

  /** Forgets an invocation that timed out: whatever it answers later is dropped. */
  abandon(id: string): void {
    this.pending.delete(id);
  }

  /** Marks the process for killing once it runs no invocation. */
  retire(): void {
    this.retired = true;
    this.killIfDrained();
  }

  /** SIGKILLs the process, by its PID, and waits until it has exited. */
  async kill(): Promise<void> {
    if (this.alive) {
      this.killing = true;
      this.child.kill('SIGKILL');
    }
    await this.exited;
  }

  private killIfDrained(): void {
    if (this.retired && this.pending.size === 0) void this.kill();
  }
}

function validateSpec(name: string, spec: HostedFunctionSpec): HostedFunctionSpec {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
    throw new RangeError(
      `function name ${JSON.stringify(name)} is not a Lambda name: 1-64 letters, digits, - or _`,
    );
  }
  if (!isAbsolute(spec.module)) {
    throw new RangeError(`function ${name}: module must be an absolute path, got ${spec.module}`);
  }
  for (const field of ['timeoutMs', 'initTimeoutMs'] as const) {
    const value = spec[field];
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw new RangeError(`function ${name}: ${field} must be a positive whole number of ms, got ${value}`);
    }
  }
  const { memoryMb } = spec;
  if (
    memoryMb !== undefined &&
    (!Number.isInteger(memoryMb) || memoryMb < LAMBDA_MEMORY_MB.min || memoryMb > LAMBDA_MEMORY_MB.max)
  ) {
    throw new RangeError(
      `function ${name}: memoryMb must be a whole number of MB from ${LAMBDA_MEMORY_MB.min} to ${LAMBDA_MEMORY_MB.max}, as on Lambda, got ${memoryMb}`,
    );
  }
  return spec;
}

/** Why a request that did not come from an SDK client on this machine is refused; undefined when it is served. */
function browserRefusal(req: IncomingMessage): string | undefined {
  if (req.headers.origin !== undefined) {
    return `the Lambda host refuses requests with an Origin header (got ${header(req, 'origin')}): only SDK clients on this machine may invoke its functions`;
  }
  const hostHeader = header(req, 'host') ?? '';
  // `127.0.0.1:4566`, `localhost:4566`, `[::1]:4566`: the name without its port and IPv6 brackets.
  const name = hostHeader.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  if (!isLoopback(name)) {
    return `the Lambda host serves only loopback names in the Host header (got ${JSON.stringify(hostHeader)}): use http://127.0.0.1:<port>`;
  }
  return undefined;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/** The function name in a name, a partial ARN or a full ARN, without its qualifier. */
function functionName(nameOrArn: string): string {
  const afterFunction = nameOrArn.split(':function:')[1];
  return (afterFunction ?? nameOrArn).split(':')[0]!;
}

function arnOf(name: string): string {
  return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The decoded `X-Amz-Client-Context` (base64 JSON), or undefined when absent or unreadable. */
function clientContext(encoded: string | undefined): unknown {
  if (!encoded) return undefined;
  try {
    return JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The request body, or undefined when it is larger than `limit` bytes. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Keep reading past the limit so the client sees the 413 instead of a reset connection.
    if (size <= limit) chunks.push(chunk);
  }
  return size <= limit ? Buffer.concat(chunks) : undefined;
}

/** An error of the Invoke API itself, in the shape the AWS SDK parses (`x-amzn-errortype`, `message`). */
function reply(res: ServerResponse, status: number, errorType: string, message: string): void {
  res
    .writeHead(status, { 'Content-Type': 'application/json', 'x-amzn-errortype': errorType })
    .end(JSON.stringify({ Type: 'User', message }));
}

function describe(error: LambdaError): string {
  return `${error.errorType}: ${error.errorMessage}`;
}
