import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BatchInfo, StreamingListener } from '../scheduler/StreamingListener';

/**
 * Writes every completed batch's full metrics (`BatchInfo`, output operations, stages and tasks included) as one
 * JSON line, for plotting elsewhere (`sluice run --metrics file.jsonl`). Lines are appended, so a run resumed
 * from its checkpoint continues the same file. Written synchronously: a line is complete before the next batch
 * is reported, and a crash loses no batch that was reported.
 */
export class MetricsJsonl implements StreamingListener {
  constructor(private readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  onBatchCompleted(info: BatchInfo): void {
    appendFileSync(this.path, `${JSON.stringify(info)}\n`);
  }
}
