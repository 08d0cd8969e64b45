import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { JobFileError, JobValidationError } from '../../errors';
import { duplicateKeyIssues } from '../../job/duplicateKeyIssues';
import type { JobSource } from '../../job/JobSource';
import { tooDeepPath } from '../../job/jobLimits';
import { type LocalJobCheckOptions, localJobIssues } from '../localJobChecks';
import { controlEventJob, inStartEvent } from './controlEventJob';
import { jobDocumentText } from './jobDocumentText';
import { jobFileOf } from './jobFileOf';

/**
 * Reads a job argument: a `.json` document, or a TypeScript/JavaScript module (`path#exportName`). An argument
 * that names no such file is refused first (`jobFileOf`). A document is checked for keys given twice in one object
 * (`duplicateKeyIssues`) and against this machine (`localJobIssues`: its folders, its functions module), before
 * anything it names is imported. An event for the control function on AWS is refused, but for a start event's job
 * where `startEvents` asks for it (`controlEventJob`).
 */
export async function jobSourceFromArgument(
  argument: string,
  checks: LocalJobCheckOptions & ArgumentOptions = {},
): Promise<ArgumentJob> {
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
      {
        path: '',
        message: `the job file is not valid JSON: ${withLineAndColumn((error as Error).message, text)}`,
      },
    ]);
  }
  const baseDir = dirname(file.path);
  // The text is here, and gone once parsed: a key given twice is found now or never. (Not in a document nested
  // deeper than a job may be, which validation refuses for that.) In a start event its paths are the event's.
  const duplicates = tooDeepPath(document) === undefined ? duplicateKeyIssues(text) : [];
  const eventJob = controlEventJob(argument, document, checks.startEvents === true);
  const job = eventJob ?? document;
  const local = localJobIssues(job, baseDir, checks);
  const issues = [...duplicates, ...(eventJob ? inStartEvent(local) : local)];
  if (issues.length > 0) throw new JobValidationError(issues);
  return { kind: 'document', document: job, baseDir, ...(eventJob ? { inStartEvent: true } : {}) };
}

/** How a job argument may be given beyond a job file. */
export interface ArgumentOptions {
  /** Accept a start event for the control function on AWS, and read its job (`sluice validate`); default refused. */
  readonly startEvents?: boolean;
}

/** A job argument's job, and whether it came from a start event, whose paths the job's problems are then given in. */
export type ArgumentJob = JobSource & { readonly inStartEvent?: true };

/**
 * JSON.parse's message with the line and column of the character it stopped at: Node 20 gives the position alone
 * (`… in JSON at position 412`), which in a job file of a hundred lines leaves the user counting characters. A
 * message that has them already (Node 22's `(line 12 column 7)`) or has no position is kept as it is.
 */
function withLineAndColumn(message: string, text: string): string {
  const match = /at position (\d+)(?! \(line)/.exec(message);
  if (!match) return message;
  const before = text.slice(0, Number(match[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${message} (line ${line}, column ${column})`;
}
