import { realpathSync, statSync } from 'node:fs';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { JobIssue } from '../errors';
import { jsonPath } from '../job/JobDocument';

/** The extensions a local `functions` module may have: what the CLI's module loader imports. */
export const FUNCTIONS_MODULE_EXTENSIONS: readonly string[] = ['.js', '.mjs', '.ts', '.mts'];

/** Settings of {@link localJobIssues}. */
export interface LocalJobCheckOptions {
  /**
   * Accept a `functions` module outside the job's folder (the CLI's `--allow-functions-outside`). It must still
   * be a regular module file. Default false.
   */
  readonly allowFunctionsOutside?: boolean;
}

/**
 * What a job document needs of this machine before it runs locally, checked by `sluice validate` and
 * `sluice run` before anything is imported or started: every `textFileStream` folder exists and is a folder,
 * every static `textFile` dataset's path is a regular file, and the `functions` module is a regular `.js`, `.mjs`, `.ts` or `.mts` file inside the job's folder. The
 * serverless runtime has no job folder and checks neither (its modules are the deployed ones).
 *
 * Why the module check: importing a path runs whatever is there. `/dev/zero` is read without end;
 * `/etc/hostname` is parsed as JavaScript and its first word comes back in the error; a file outside the
 * job's folder is code the job's author did not ship with it.
 */
export function localJobIssues(
  doc: unknown,
  baseDir: string,
  options: LocalJobCheckOptions = {},
): JobIssue[] {
  if (!isObject(doc)) return [];
  const issues: JobIssue[] = [];
  for (const [name, spec] of Object.entries(isObject(doc.sources) ? doc.sources : {})) {
    if (!isObject(spec) || spec.type !== 'textFileStream' || typeof spec.directory !== 'string') continue;
    const problem = folderProblem(resolve(baseDir, spec.directory));
    if (problem !== undefined) {
      issues.push({ path: jsonPath('sources', name, 'directory'), message: problem, value: spec.directory });
    }
  }
  for (const [name, spec] of Object.entries(isObject(doc.datasets) ? doc.datasets : {})) {
    if (!isObject(spec) || spec.type !== 'textFile' || typeof spec.path !== 'string') continue;
    const problem = textFileProblem(spec.path, baseDir);
    if (problem !== undefined) {
      issues.push({ path: jsonPath('datasets', name, 'path'), message: problem, value: spec.path });
    }
  }
  if (typeof doc.functions === 'string' && doc.functions !== '') {
    const problem = functionsModuleProblem(doc.functions, baseDir, options.allowFunctionsOutside === true);
    if (problem !== undefined) issues.push({ path: 'functions', message: problem, value: doc.functions });
  }
  return issues;
}

function folderProblem(folder: string): string | undefined {
  try {
    if (!statSync(folder).isDirectory()) {
      return `names ${folder}, which is a file: a textFileStream watches a folder for new files`;
    }
    return undefined;
  } catch {
    return `the folder ${folder} does not exist: create it before the job starts (the path is relative to the job file)`;
  }
}

/**
 * Why a static `textFile` dataset cannot read `path` here, or undefined when it can. Checked before the run, as a
 * path that fails in the first batch fails it after every retry; a device such as `/dev/zero` is read without end.
 */
function textFileProblem(path: string, baseDir: string): string | undefined {
  if (/^s3:\/\//i.test(path)) {
    return 'is an s3:// URL, which only the serverless runtime reads: locally give a file path, relative to the job file';
  }
  const file = resolve(baseDir, path);
  try {
    if (!statSync(file).isFile())
      return `names ${file}, which is not a regular file: a textFile dataset reads a file`;
    return undefined;
  } catch {
    return `the file ${file} does not exist (the path is relative to the job file)`;
  }
}

/** Why `file` cannot be the job's functions module, or undefined when it can. */
function functionsModuleProblem(file: string, baseDir: string, allowOutside: boolean): string | undefined {
  const extension = extname(file);
  if (!FUNCTIONS_MODULE_EXTENSIONS.includes(extension)) {
    return `must be a module file ending in ${FUNCTIONS_MODULE_EXTENSIONS.join(', ')}`;
  }
  // The real path: a link inside the folder that points elsewhere is judged by where it points.
  let real: string;
  try {
    real = realpathSync(resolve(baseDir, file));
  } catch {
    return 'names no file: give the module path relative to the job file';
  }
  if (!statSync(real).isFile()) return 'must be a regular module file, not a folder or a device';
  if (!FUNCTIONS_MODULE_EXTENSIONS.includes(extname(real))) {
    return `links to ${real}, which is not a module file`;
  }
  if (allowOutside) return undefined;
  const folder = realpathSync(resolve(baseDir));
  const inside = relative(folder, real);
  if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    return "must be inside the job file's folder; to load a module from elsewhere, pass --allow-functions-outside";
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
