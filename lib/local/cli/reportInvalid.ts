import { CheckpointMismatchError, JobValidationError, SluiceError, StreamGraphError } from '../../errors';
import { EXIT } from './exitCodes';

/** Prints an error that is the job's fault as its message alone and returns `EXIT.invalid`; rethrows any other. */
export function reportInvalid(error: unknown): number {
  if (
    error instanceof JobValidationError ||
    error instanceof StreamGraphError ||
    error instanceof CheckpointMismatchError ||
    // Any other of Sluice's named errors while building a job is a setting the engine refused, such as a
    // TypeScript job's generator seed beyond the safe integers: its message says which; a stack trace does not.
    error instanceof SluiceError ||
    error instanceof RangeError
  ) {
    process.stderr.write(`${whereMade(error)}${error.message}\n`);
    return EXIT.invalid;
  }
  throw error;
}

/**
 * A graph error of a TypeScript job leads with the line that made the stream (`job.ts:4 (window): `):
 * its message names the argument, not where it was written. A job document's reach the CLI as issues at their
 * JSON paths instead, and a message that names its stream already is left as it is.
 */
function whereMade(error: Error): string {
  if (!(error instanceof StreamGraphError) || error.origin === undefined) return '';
  const line = error.origin.replace(/ \([^()]*\)$/, '');
  return error.message.includes(line) ? '' : `${error.origin}: `;
}
