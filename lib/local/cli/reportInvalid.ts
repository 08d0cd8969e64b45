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
    process.stderr.write(`${error instanceof StreamGraphError ? error.located : error.message}\n`);
    return EXIT.invalid;
  }
  throw error;
}
