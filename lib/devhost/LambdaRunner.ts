import { AsyncLocalStorage } from 'node:async_hooks';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';

/**
 * The body of one function's child process under `LambdaHost`, in the role of Lambda's Node runtime: it imports
 * the handler module once (module scope is reused across invocations, as in a warm container), then runs every
 * invocation the host sends over IPC, several at once, each with its own log.
 */

/** An error as the Lambda Invoke API reports it in the body of a failed invocation. */
export interface LambdaError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

/** What the handler's `context` is built from. */
export interface InvokeContext {
  readonly functionName: string;
  readonly invokedFunctionArn: string;
  /** When the invocation times out, in epoch ms. */
  readonly deadlineMs: number;
  readonly memoryLimitInMB: string;
  /** The decoded `X-Amz-Client-Context`, when the caller sent one. */
  readonly clientContext?: unknown;
}

/** Host to runner: run one invocation. */
export interface InvokeMessage {
  readonly type: 'invoke';
  /** The request id. */
  readonly id: string;
  /** The event as JSON text, exactly as the caller sent it. */
  readonly payload: string;
  readonly context: InvokeContext;
}

/** Runner to host: the module is loaded (or failed to load), or one invocation's outcome with its log. */
export type RunnerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'initError'; readonly error: LambdaError }
  | { readonly type: 'result'; readonly id: string; readonly payload: string; readonly log: string }
  | { readonly type: 'error'; readonly id: string; readonly error: LambdaError; readonly log: string };

type Handler = (
  event: unknown,
  context: object,
  callback?: (error?: unknown, value?: unknown) => void,
) => unknown;

/** How much of an invocation's own log is kept: the host reports at most the last 4 KB of it. */
const KEPT_LOG_CHARS = 8 * 1024;

/** An error as Lambda reports it. */
export function lambdaError(error: unknown, fallbackType = 'Error'): LambdaError {
  if (error instanceof Error) {
    return {
      errorType: error.name || fallbackType,
      errorMessage: error.message,
      trace: (error.stack ?? '').split('\n'),
    };
  }
  return { errorType: fallbackType, errorMessage: String(error), trace: [] };
}

/**
 * Serves the host: loads the handler module, then runs each invocation the host sends. Called once by
 * `lambdaRunner.mjs` in the child process the host forks; importing this file has no effect.
 */
export async function serveInvocations(
  modulePath: string | undefined,
  handlerName = 'handler',
): Promise<void> {
  const logs = new AsyncLocalStorage<{ requestId: string; text: string }>();
  captureConsole(logs);
  const send = (message: RunnerMessage) => process.send!(message);

  let handler: Handler;
  try {
    if (!modulePath) throw new Error('the runner needs the handler module path as its first argument');
    const mod = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
    const exported = mod[handlerName];
    if (typeof exported !== 'function') {
      throw Object.assign(new Error(`${modulePath}.${handlerName} is undefined or not exported`), {
        name: 'Runtime.HandlerNotFound',
      });
    }
    handler = exported as Handler;
  } catch (error) {
    // Lambda reports a module that fails to load as the error of the invocation that found it.
    send({ type: 'initError', error: lambdaError(error, 'Runtime.ImportModuleError') });
    process.disconnect();
    process.exitCode = 1;
    return;
  }

  // A host that is gone cannot collect answers: exit rather than linger as an orphan.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: InvokeMessage) => {
    const log = { requestId: message.id, text: '' };
    void logs.run(log, async () => {
      try {
        const value = await call(handler, JSON.parse(message.payload), contextOf(message));
        // A handler that returns nothing answers `null`, as on Lambda.
        send({ type: 'result', id: message.id, payload: JSON.stringify(value) ?? 'null', log: log.text });
      } catch (error) {
        const reported = lambdaError(error);
        console.error('Invoke Error', JSON.stringify(reported));
        send({ type: 'error', id: message.id, error: reported, log: log.text });
      }
    });
  });
  send({ type: 'ready' });
}

/** Calls an async handler, or a callback-style one (three parameters), and waits for its value. */
function call(handler: Handler, event: unknown, context: object): Promise<unknown> {
  if (handler.length < 3) return Promise.resolve().then(() => handler(event, context));
  return new Promise((resolve, reject) => {
    const returned = handler(event, context, (error, value) => (error ? reject(error) : resolve(value)));
    if (returned instanceof Promise) returned.then(resolve, reject);
  });
}

/** The `context` argument of Lambda's Node runtime. */
function contextOf(message: InvokeMessage): object {
  const { context } = message;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: context.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: context.invokedFunctionArn,
    memoryLimitInMB: context.memoryLimitInMB,
    awsRequestId: message.id,
    logGroupName: `/aws/lambda/${context.functionName}`,
    logStreamName: `local/${process.pid}`,
    clientContext: context.clientContext,
    identity: undefined,
    getRemainingTimeInMillis: () => Math.max(0, context.deadlineMs - Date.now()),
  };
}

/**
 * Formats console output the way Lambda's Node runtime does (`time, request id, level, message`), writes it to
 * stdout as usual, and keeps the tail of each invocation's own lines for `X-Amz-Log-Type: Tail`. Invocations
 * run concurrently, so the invocation a line belongs to is found through async context, not a global.
 */
function captureConsole(logs: AsyncLocalStorage<{ requestId: string; text: string }>): void {
  const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'TRACE' };
  for (const [method, level] of Object.entries(levels) as Array<[keyof typeof levels, string]>) {
    console[method] = (...args: unknown[]) => {
      const current = logs.getStore();
      const line = `${new Date().toISOString()}\t${current?.requestId ?? 'undefined'}\t${level}\t${format(...args)}\n`;
      if (current) {
        current.text += line;
        if (current.text.length > 2 * KEPT_LOG_CHARS) current.text = current.text.slice(-KEPT_LOG_CHARS);
      }
      process.stdout.write(line);
    };
  }
}
