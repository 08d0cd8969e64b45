import { dirname, isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TaskFailedError } from '../errors';

/**
 * Where the op that made a stream or dataset was written, so that a failing task names it: the op and JSON
 * path in a job document (`streams.counts.ops[2] (reduceByKey)`), the source line in a TypeScript job
 * (`jobs/tweets.ts:14 (map)`). It travels in the plan (`DatasetSpec.origin`) to the worker, and comes back
 * with a failed task's result.
 */

let ambient: string | undefined;

/**
 * Builds with `origin` as the origin of every stream and dataset created meanwhile: the job document builder
 * wraps each op in it. Building a graph is synchronous, so a plain variable is enough.
 *
 * @example
 * node = withOpOrigin('streams.counts.ops[2] (reduceByKey)', () => node.reduceByKey(sum));
 */
export function withOpOrigin<T>(origin: string, build: () => T): T {
  const outer = ambient;
  ambient = origin;
  try {
    return build();
  } finally {
    ambient = outer;
  }
}

/**
 * The JSON path an origin set by the job document builder starts with: `streams.counts.ops[2]` of
 * `streams.counts.ops[2] (reduceByKey)`, `streams.counts` of the stream's own settings.
 */
export function documentPathOf(origin: string): string {
  return origin.replace(/ \([^()]*\)$/, '');
}

/** The origin set by the innermost `withOpOrigin` running now, if any. */
export function ambientOpOrigin(): string | undefined {
  return ambient;
}

/** Errors whose message already leads with an origin: the innermost stream that saw the failure named it. */
const named = new WeakSet<object>();

/**
 * The error of a stream that failed in the driver, its message led by the origin of the innermost stream it
 * passed through (`streams.x.ops[1] (transform): …`). A task's failure already names its op
 * (`TaskFailedError.origin`), and an error that is not an `Error` is left as it is.
 */
export function nameFailure(error: unknown, origin: string | undefined): unknown {
  if (origin === undefined || !(error instanceof Error) || named.has(error)) return error;
  named.add(error);
  if (error instanceof TaskFailedError) return error;
  error.message = `${origin}: ${error.message}`;
  return error;
}

/** The folder of the engine (`lib/`), learnt from this file's own stack frame (works in a source-mapped bundle). */
let engineDir: string | undefined;

/**
 * The first frame of the current call stack outside the engine: the user's line that called the op, as
 * `file:line` (relative to the working folder when inside it). Undefined when no such frame is found (a bundle
 * without source maps puts the engine and the job in one file).
 */
export function userCallSite(): string | undefined {
  const limit = Error.stackTraceLimit;
  // The engine's own frames (the op, the stream's constructors) come first; leave room for the user's.
  Error.stackTraceLimit = 30;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const frames = stack
    .split('\n')
    .slice(1)
    .map(frameLocation)
    .filter((f) => f !== undefined);
  engineDir ??= frames[0] && dirname(dirname(frames[0].file)) + sep;
  for (const { file, line } of frames) {
    if (
      file.startsWith(engineDir ?? '\0') ||
      file.startsWith('node:') ||
      file.includes(`${sep}node_modules${sep}`)
    )
      continue;
    const shown = relative(process.cwd(), file);
    return `${shown.startsWith('..') || isAbsolute(shown) ? file : shown}:${line}`;
  }
  return undefined;
}

/** The file and line of a V8 stack frame (`    at f (/a/b.ts:3:9)`, `    at file:///a/b.ts:3:9`). */
function frameLocation(frame: string): { file: string; line: string } | undefined {
  const match = /\(?([^\s()]+):(\d+):\d+\)?$/.exec(frame.trim());
  if (!match) return undefined;
  const file = match[1]!.startsWith('file://') ? fileURLToPath(match[1]!) : match[1]!;
  return { file, line: match[2]! };
}
