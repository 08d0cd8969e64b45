import { isAbsolute, resolve } from 'node:path';
import type { StreamingContext } from '../StreamingContext';
import { importModuleFile } from './importModuleFile';
import { contextFromModule, type JobModule } from './JobModule';

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
  // A dotted name reaches into an exported object (`cases.map`): test suites keep many jobs in one export.
  let job: unknown = mod;
  for (const part of name.split('.')) job = (job as Record<string, unknown> | undefined)?.[part];
  if (!isJobModule(job)) {
    throw new Error(
      `${source.path} has no job export named ${name}: export a job made with defineJob(options, build)`,
    );
  }
  return contextFromModule(job);
}

function isJobModule(value: unknown): value is JobModule {
  const job = value as Partial<JobModule> | undefined;
  return typeof job?.build === 'function' && typeof job.options === 'object';
}
