import { stat } from 'node:fs/promises';
import { SluiceError } from '../errors';

/**
 * The size of a file a local run appends to (a jsonl output, the dead-letter file) for the metadata checkpoint: 0
 * while it does not exist. Anything else at its path is refused, naming `what` it is and `otherwise` what to do:
 * a folder's size (4096) went into the checkpoint as the file's, and a restart would cut the file the run then
 * wrote to that size, in the middle of a line.
 *
 * @example
 * await outputFileSize('/s/dead-letter.jsonl', 'the dead-letter file', 'give the run another --store');
 */
export async function outputFileSize(file: string, what: string, otherwise: string): Promise<number> {
  const info = await stat(file).catch(() => undefined);
  if (info === undefined) return 0;
  if (info.isFile()) return info.size;
  const kind = info.isDirectory() ? 'a folder' : 'not a regular file';
  throw new SluiceError(
    `${what} ${file} is ${kind}, where the run appends lines to a file: remove or rename it, or ${otherwise}`,
  );
}
