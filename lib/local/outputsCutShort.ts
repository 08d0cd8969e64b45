import { stat } from 'node:fs/promises';
import { SluiceError } from '../errors';

/**
 * Refuses a resume whose appended files (jsonl outputs, the dead-letter file) are shorter than the metadata
 * checkpoint recorded. A restart cuts a longer file back to its checkpointed size, but a shorter one was cut by
 * something else (an edit, a disk that lost its end): its completed batches' lines are gone, which no rerun writes
 * again, and the last may end in half a line, to which the next batch's line would be joined. A file that is not
 * there at all was moved away on purpose: the run starts it again, with the batches after the checkpoint.
 *
 * @param positions the checkpoint's sizes, by path
 * @param fileOf the absolute path of a checkpoint's path (an older checkpoint's may be relative to `--out`)
 * @param deadLetterPath the dead-letter file, absolute, which is named as such
 */
export async function refuseOutputsCutShort(
  positions: Readonly<Record<string, number>>,
  fileOf: (path: string) => string,
  deadLetterPath: string,
): Promise<void> {
  for (const [path, size] of Object.entries(positions)) {
    const file = fileOf(path);
    const current = (await stat(file).catch(() => undefined))?.size;
    if (current === undefined || current >= size) continue;
    const what = file === deadLetterPath ? 'the dead-letter file' : 'the jsonl output';
    throw new SluiceError(
      `${what} ${file} holds ${current} bytes, fewer than the ${size} its checkpoint recorded: something cut it ` +
        '(an edit, a disk that lost its end), so lines of completed batches are gone, and the next batch would be ' +
        `appended after a partial line; put its first ${size} bytes back, or move the file away (the run then ` +
        'starts it again with the batches after the checkpoint; with --fresh as well, it writes every batch again)',
    );
  }
}
