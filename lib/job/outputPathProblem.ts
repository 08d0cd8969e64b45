import { posix } from 'node:path';
import type { JobIssue } from '../errors';
import { isObject } from './documentValues';
import { jsonPath } from './JobDocument';

/** A NUL in a path: validated, it failed the first batch instead, when the file system refused the name. */
const NUL_PROBLEM = 'holds a NUL character (\\u0000), which no file or folder name may hold';

/**
 * Why an output path would write outside the output folder, or undefined when it stays inside: absolute paths
 * and paths that climb out with `..` are refused, and so is a NUL; a jsonl path must also name a file, not the
 * folder itself.
 */
export function outputPathProblem(path: string, isFile: boolean): string | undefined {
  if (path.includes('\0')) return NUL_PROBLEM;
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
 * Why a saveAsTextFiles `suffix` cannot end its folders' names, or undefined when it can. Each batch's folder is
 * `prefix-<batchTime>.suffix`, so a `/` in the suffix made the batch time a folder of its own: `"../x"` sent every
 * batch to the same folder `x`, each replacing the one before, and `"/../../../x"` out of the output folder.
 */
export function outputSuffixProblem(suffix: string): string | undefined {
  if (suffix.includes('\0')) return NUL_PROBLEM;
  if (/[/\\]/.test(suffix)) {
    return "ends the name of each batch's folder (prefix-<batchTime>.suffix), so it may not hold / or \\; put folders in the prefix";
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
    const suffixProblem =
      field === 'prefix' && typeof output.suffix === 'string'
        ? outputSuffixProblem(output.suffix)
        : undefined;
    if (suffixProblem !== undefined) {
      issues.push({ path: jsonPath('outputs', i, 'suffix'), message: suffixProblem, value: output.suffix });
    }
  });
  return issues;
}
