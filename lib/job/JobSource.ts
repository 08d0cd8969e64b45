import { isAbsolute, resolve } from 'node:path';
import { JobFileError } from '../errors';
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
  const mod = await importModuleFile(path);
  const name = source.exportName ?? 'default';
  const job = jobExportOf(mod, name);
  if (job === undefined) {
    // The job's fault, as a missing file is: one line and exit code 2 in the CLI, not a stack trace.
    throw new JobFileError(
      source.exportName === undefined ? source.path : `${source.path}#${source.exportName}`,
      `the module has no job export named ${name}; export a job made with defineJob(options, build)`,
    );
  }
  return contextFromModule(job);
}
