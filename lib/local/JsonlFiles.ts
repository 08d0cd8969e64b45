import { SluiceError } from '../errors';
import { appendToFile } from './appendToFile';

/**
 * The jsonl files of a local run. A batch's lines are held until the scheduler commits the batch, then appended
 * in batch order, in the same step of the checkpoint chain as the checkpoint that records the batch as done. So
 * every checkpoint's file sizes and its last completed batch agree: a restart cuts each file back to its size
 * and reruns exactly the batches whose lines it cut. Appending as the output ran let a checkpoint written meanwhile
 * (the next batch's, with the real clock and a batch longer than its interval) record a size that held a line,
 * or half of one, of a batch it still called pending, which the rerun then wrote again.
 */
export class JsonlFiles {
  /**
   * @param fsync whether an appended batch is on the disk before its checkpoint records the file's size (see
   *   `appendToFile`); default true
   */
  constructor(private readonly fsync = true) {}

  /** The held lines of each batch not yet committed, in the order its outputs wrote them. */
  private readonly held = new Map<number, Array<{ readonly file: string; readonly line: string }>>();

  /** Holds a batch's line for `file` until the batch is committed. */
  hold(file: string, line: string, batchTime: number): void {
    let lines = this.held.get(batchTime);
    if (lines === undefined) {
      lines = [];
      this.held.set(batchTime, lines);
    }
    lines.push({ file, line });
  }

  /** Appends the held lines of `batchTimes`, in that order; a batch with none adds nothing. */
  async commit(batchTimes: readonly number[]): Promise<void> {
    for (const batchTime of batchTimes) {
      const lines = this.held.get(batchTime);
      if (lines === undefined) continue;
      // One append per file and batch, in the order the outputs wrote them.
      const byFile = new Map<string, string[]>();
      for (const { file, line } of lines) {
        const text = byFile.get(file);
        if (text === undefined) byFile.set(file, [`${line}\n`]);
        else text.push(`${line}\n`);
      }
      for (const [file, text] of byFile) {
        try {
          await appendToFile(file, text.join(''), { fsync: this.fsync, makeFolder: true });
        } catch (error) {
          throw new SluiceError(
            `batch ${batchTime} ran, but its lines could not be appended to the jsonl output ${file}: ` +
              `${(error as Error).message}; it is not counted as done, and the next run writes it again`,
          );
        }
      }
      this.held.delete(batchTime);
    }
  }

  /** Drops a failed batch's lines: they never reach a file. */
  discard(batchTime: number): void {
    this.held.delete(batchTime);
  }
}
