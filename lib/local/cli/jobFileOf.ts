import { stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { JobFileError } from '../../errors';

/** The file a job argument names, and how to read it. */
export interface JobFile {
  /** A job document (JSON) or a TypeScript/JavaScript job module. */
  readonly kind: 'document' | 'module';
  /** The file's absolute path. */
  readonly path: string;
  /** A module's named export (`path#exportName`); absent for its default export and for a document. */
  readonly exportName?: string;
}

/** Extensions Node (with the TypeScript loader the CLI registers) imports as modules; only in lower case. */
const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs']);

/** What a job argument may name, for the messages. */
const EXPECTED =
  'give the path of a job document (.json) or a job module (.ts, .mts, .js, .mjs; path#exportName for a named export)';

/** An export a job module may be named by after `#`: a name, or a dotted path into an exported object. */
const EXPORT_NAME = /^[A-Za-z_$][\w$.]{0,199}$/;

/**
 * Finds the file a command's job argument names and whether it is a document or a module, or throws a
 * `JobFileError` that names the argument and what was expected: a path that does not exist, a folder, a device,
 * an extension that is neither. `.json` is a document in any case (`JOB.JSON`); a module's extension must be in
 * lower case, as Node imports no other.
 *
 * @example
 * await jobFileOf('jobs/clicks.ts#sessions'); // { kind: 'module', path: '/…/jobs/clicks.ts', exportName: 'sessions' }
 */
export async function jobFileOf(argument: string): Promise<JobFile> {
  const { path, exportName } = await splitExport(argument);
  const stats = await stat(path).catch((error: NodeJS.ErrnoException) => {
    const problem =
      error.code === 'ENOENT' || error.code === 'ENOTDIR'
        ? `${path} does not exist`
        : `cannot read ${path} (${error.code ?? error.message})`;
    throw new JobFileError(argument, `${problem}; ${EXPECTED}`);
  });
  if (stats.isDirectory()) throw new JobFileError(argument, `${path} is a folder; ${EXPECTED}`);
  if (!stats.isFile()) throw new JobFileError(argument, `${path} is not a regular file; ${EXPECTED}`);
  const extension = extname(path);
  if (extension.toLowerCase() === '.json') {
    if (exportName !== undefined) {
      throw new JobFileError(argument, `a job document has no exports: drop #${exportName}`);
    }
    return { kind: 'document', path };
  }
  if (MODULE_EXTENSIONS.has(extension))
    return { kind: 'module', path, ...(exportName ? { exportName } : {}) };
  if (MODULE_EXTENSIONS.has(extension.toLowerCase())) {
    throw new JobFileError(
      argument,
      `Node imports a module only by a lower-case extension: rename it to end in ${extension.toLowerCase()}`,
    );
  }
  const found = extension === '' ? 'a file without an extension' : `a ${extension} file`;
  throw new JobFileError(argument, `${path} is ${found}; ${EXPECTED}`);
}

/**
 * Splits `path#exportName`. A path may hold `#` itself (a folder `a#b/`), so the argument is split only when, as a
 * whole, it names nothing and what follows its last `#` can be an export name.
 */
async function splitExport(argument: string): Promise<{ path: string; exportName?: string }> {
  const whole = resolve(argument);
  const hash = argument.lastIndexOf('#');
  if (hash <= 0) return { path: whole };
  const exportName = argument.slice(hash + 1);
  const exists = await stat(whole).then(
    () => true,
    () => false,
  );
  if (exists || !EXPORT_NAME.test(exportName)) return { path: whole };
  return { path: resolve(argument.slice(0, hash)), exportName };
}
