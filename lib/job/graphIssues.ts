import { documentPathOf } from '../dataset/OpOrigin';
import { type JobIssue, JobValidationError, StreamGraphError } from '../errors';
import { childPath, type JobDocument } from './JobDocument';
import { type JobFunctions, JobGraphBuilder } from './JobGraphBuilder';

/**
 * What the engine refuses in a job's graph, each problem at the JSON path of the op (or stream setting) that
 * raised it: windows, slides and checkpoint intervals that are not multiples of their input's slide, windows
 * that keep too many batches, inputs of different slides combined batch by batch. The graph is built as
 * `buildJob` builds it, with functions that never run, so the engine's own checks are the only ones; a stream
 * that reads a refused one is not reported again.
 *
 * The document's names and references must have been checked first (`ReferenceChecker`): the builder follows
 * them.
 */
export function graphIssues(job: JobDocument): JobIssue[] {
  const issues: JobIssue[] = [];
  const seen = new Set<unknown>();
  // Nothing a job document names is read or started: sources, files and outputs open only when a run starts.
  new JobGraphBuilder(job, placeholders, '.', {}).buildAll((error, path) => {
    if (seen.has(error)) return;
    seen.add(error);
    issues.push(...issuesOf(error, path));
  });
  return issues;
}

/** An engine error as issues: at its stream's origin and argument when it names them, else where it arose. */
function issuesOf(error: unknown, path: string): JobIssue[] {
  if (error instanceof JobValidationError) return [...error.issues];
  if (!(error instanceof StreamGraphError)) {
    return [{ path, message: error instanceof Error ? error.message : String(error) }];
  }
  const at = error.origin === undefined ? path : documentPathOf(error.origin);
  return error.problems.map(({ field, message, value }) => ({
    path: field === undefined ? at : childPath(at, field),
    message,
    ...(value === undefined ? {} : { value }),
  }));
}

/** Stands for every function while the graph is only checked; building never calls one, running would. */
function neverRuns(): never {
  throw new Error('a function of a job that was only validated ran; validateJob builds graphs it never runs');
}

const placeholders: JobFunctions = {
  resolve: () => neverRuns,
  expression: () => async () => neverRuns(),
};
