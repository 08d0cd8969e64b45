import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { SluiceError } from '../errors';
import type { BatchInfo, StreamingListener } from '../scheduler/StreamingListener';

/**
 * Writes every completed batch's full metrics (`BatchInfo`, output operations, stages and tasks included) as one
 * JSON line, for plotting elsewhere (`sluice run --metrics file.jsonl`). Lines are appended, so a run resumed
 * from its checkpoint continues the same file. Written synchronously: a line is complete before the next batch
 * is reported, and a crash loses no batch that was reported.
 */
export class MetricsJsonl implements StreamingListener {
  /** Creates the file (and its folder) now: one it cannot append to is refused before the run starts. */
  constructor(private readonly path: string) {
    try {
      mkdirSync(dirname(path), { recursive: true });
      appendFileSync(path, '');
    } catch (error) {
      // A folder or a read-only file stopped the run after its first batch ran, with a bare EISDIR.
      // The remedy too: EISDIR or EACCES alone named the trouble, not what to give instead.
      throw new SluiceError(
        `--metrics ${path}: cannot append to it: ${(error as Error).message}; give --metrics the path of a file ` +
          'this user may write, such as metrics.jsonl (it is created, with its folder, when missing)',
      );
    }
  }

  onBatchCompleted(info: BatchInfo): void {
    appendFileSync(this.path, `${JSON.stringify(info)}\n`);
  }
}
