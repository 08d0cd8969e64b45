import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { JobFileError, JobValidationError } from '../../errors';
import { duplicateKeyIssues } from '../../job/duplicateKeyIssues';
import type { JobSource } from '../../job/JobSource';
import { tooDeepPath } from '../../job/jobLimits';
import { type LocalJobCheckOptions, localJobIssues } from '../localJobChecks';
import { jobDocumentText } from './jobDocumentText';
import { jobFileOf } from './jobFileOf';

/**
 * Reads a job argument: a `.json` document, or a TypeScript/JavaScript module (`path#exportName`). An argument
 * that names no such file is refused first (`jobFileOf`). A document is checked for keys given twice in one object
 * (`duplicateKeyIssues`) and against this machine (`localJobIssues`: its folders, its functions module), before
 * anything it names is imported.
 */
export async function jobSourceFromArgument(
  argument: string,
  checks: LocalJobCheckOptions = {},
): Promise<JobSource> {
  const file = await jobFileOf(argument);
  if (file.kind === 'module') {
    return { kind: 'module', path: file.path, ...(file.exportName ? { exportName: file.exportName } : {}) };
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file.path);
  } catch (error) {
    throw new JobFileError(
      argument,
      `cannot read ${file.path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  const text = jobDocumentText(bytes);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new JobValidationError([
      { path: '', message: `the job file is not valid JSON: ${(error as Error).message}` },
    ]);
  }
  const baseDir = dirname(file.path);
  // The text is here, and gone once parsed: a key given twice is found now or never. (Not in a document nested
  // deeper than a job may be, which validation refuses for that.)
  const duplicates = tooDeepPath(document) === undefined ? duplicateKeyIssues(text) : [];
  const issues = [...duplicates, ...localJobIssues(document, baseDir, checks)];
  if (issues.length > 0) throw new JobValidationError(issues);
  return { kind: 'document', document, baseDir };
}
