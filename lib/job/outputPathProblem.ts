import { posix } from 'node:path';
import type { JobIssue } from '../errors';
import { isObject } from './documentValues';
import { jsonPath } from './JobDocument';

/**
 * Why an output path would write outside the output folder, or undefined when it stays inside: absolute paths
 * and paths that climb out with `..` are refused; a jsonl path must also name a file, not the folder itself.
 */
export function outputPathProblem(path: string, isFile: boolean): string | undefined {
  const unified = path.replaceAll('\\', '/');
  if (unified.startsWith('/') || /^[A-Za-z]:/.test(unified)) {
    return 'must be relative to the output folder (--out locally, outputs/ in the bucket on AWS), not absolute';
  }
  const normalized = posix.normalize(unified);
  if (normalized === '..' || normalized.startsWith('../')) {
    return 'climbs out of the output folder (--out locally, outputs/ in the bucket on AWS) with ..; name a place inside it';
  }
  if (isFile && (normalized === '.' || normalized.endsWith('/'))) {
    return 'must name a file inside the output folder, not a folder';
  }
  return undefined;
}

/**
 * Output files stay inside the output folder (`--out` locally, `outputs/` on S3): a jsonl path or a
 * saveAsTextFiles prefix is relative and does not climb out with `..`.
 */
export function outputPathIssues(doc: Record<string, unknown>): JobIssue[] {
  const issues: JobIssue[] = [];
  (Array.isArray(doc.outputs) ? doc.outputs : []).forEach((output: unknown, i) => {
    if (!isObject(output)) return;
    const field = output.type === 'jsonl' ? 'path' : output.type === 'saveAsTextFiles' ? 'prefix' : undefined;
    const value = field === undefined ? undefined : output[field];
    if (field === undefined || typeof value !== 'string' || value === '') return;
    const problem = outputPathProblem(value, field === 'path');
    if (problem !== undefined) {
      issues.push({ path: jsonPath('outputs', i, field), message: problem, value });
    }
  });
  return issues;
}
