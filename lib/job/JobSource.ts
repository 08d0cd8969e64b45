import { isAbsolute, resolve } from 'node:path';
import { errorText, JobFileError, SluiceError } from '../errors';
import type { StreamingContext } from '../StreamingContext';
import { importModuleFile } from './importModuleFile';
import { contextFromModule, jobExportOf } from './JobModule';

/**
 * Where a job comes from, in a form that crosses threads and processes: every worker rebuilds the same graph
 * from it, so tasks can name functions by id and never ship code.
 */
export type JobSource =
  | { readonly kind: 'document'; readonly document: unknown; readonly baseDir: string }
  | { readonly kind: 'module'; readonly path: string; readonly exportName?: string };

/** Builds a fresh streaming context from a job source. */
export async function contextFromSource(source: JobSource): Promise<StreamingContext> {
  if (source.kind === 'document') {
    // Loaded on demand: TypeScript jobs should not pay for the JSON schema validator.
    const { buildJob } = await import('./buildJob');
    return buildJob(source.document, { baseDir: source.baseDir });
  }
  const path = isAbsolute(source.path) ? source.path : resolve(source.path);
  const mod = await importModuleFile(path).catch((error: unknown) => {
    throw moduleFailure(source.path, path, 'cannot be loaded', error);
  });
  const name = source.exportName ?? 'default';
  const job = jobExportOf(mod, name);
  if (job === undefined) {
    // The job's fault, as a missing file is: one line and exit code 2 in the CLI, not a stack trace.
    throw new JobFileError(
      source.exportName === undefined ? source.path : `${source.path}#${source.exportName}`,
      `the module has no job export named ${name}; export a job made with defineJob(options, build)`,
    );
  }
  try {
    return contextFromModule(job);
  } catch (error) {
    // Sluice's own refusals (a window that is no multiple of the slide) already name the module's line.
    if (error instanceof SluiceError) throw error;
    throw moduleFailure(source.path, path, 'threw while building the job', error);
  }
}

/**
 * A module that fails to load (a syntax error, a missing import, a throw at its top level) or to build its job is
 * the job's fault, as an invalid document is: one sentence and exit code 2 in the CLI, not Node's trace. The
 * sentence keeps what the trace told: the error, and where in the module it was raised.
 */
function moduleFailure(argument: string, path: string, what: string, error: unknown): JobFileError {
  const text = errorText(error);
  // The first frame in the module itself: its line, where a trace would have shown it. (A syntax error's
  // message names the line already.)
  const frame =
    error instanceof Error ? error.stack?.split('\n').find((line) => line.includes(path)) : undefined;
  const at = frame?.match(/\(?([^()\s]+:\d+:\d+)\)?\s*$/)?.[1];
  const where = at !== undefined && !text.includes(at) ? ` (at ${at})` : '';
  return new JobFileError(argument, `${what}: ${text}${where}`);
}
