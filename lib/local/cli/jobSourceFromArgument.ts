import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { JobValidationError } from '../../errors';
import type { JobSource } from '../../job/JobSource';
import { type LocalJobCheckOptions, localJobIssues } from '../localJobChecks';

/**
 * Reads a job argument: a `.json` document, or a TypeScript/JavaScript module (`path#exportName`). A document
 * is checked against this machine first (`localJobIssues`: its folders, its functions module), before anything
 * it names is imported.
 */
export async function jobSourceFromArgument(
  argument: string,
  checks: LocalJobCheckOptions = {},
): Promise<JobSource> {
  const [path, exportName] = argument.split('#') as [string, string | undefined];
  const absolute = resolve(path);
  if (extname(absolute) === '.json') {
    let text: string;
    try {
      text = await readFile(absolute, 'utf8');
    } catch {
      throw new JobValidationError([{ path: '', message: `cannot read the job file ${absolute}` }]);
    }
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new JobValidationError([
        { path: '', message: `the job file is not valid JSON: ${(error as Error).message}` },
      ]);
    }
    const issues = localJobIssues(document, dirname(absolute), checks);
    if (issues.length > 0) throw new JobValidationError(issues);
    return { kind: 'document', document, baseDir: dirname(absolute) };
  }
  return { kind: 'module', path: absolute, ...(exportName ? { exportName } : {}) };
}
