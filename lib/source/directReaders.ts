/**
 * The functions that read one part of a {@link ReadPlan} inside a task, by reader name. The engine knows none:
 * an adapter registers its own (the AWS runtime registers `kinesis` and `s3` in its worker), so the engine stays
 * free of the clients a reader needs.
 */
import type { ReadPlan } from './Source';

/** What a reader is told about the task it reads for. */
export interface DirectReadContext {
  /** The batch the task belongs to. */
  readonly batchTime: number;
  /** The partition the part is for. */
  readonly partition: number;
  /**
   * Writes a report of the task into the job's store (a key of the batch's folder, `PlanContext.folder`), such as
   * how many records it read, which the source reads back with `PlanContext.readReport`.
   */
  putReport(key: string, bytes: string): Promise<void>;
}

/** Reads one part of a plan: the partition's records, in order; the same part always gives the same records. */
export type DirectReader = (part: unknown, ctx: DirectReadContext) => Promise<unknown[]>;

const readers = new Map<string, DirectReader>();

/** Makes `reader` the reader of plans whose `reader` is `name` in this process (a later call replaces it). */
export function registerDirectReader(name: string, reader: DirectReader): void {
  readers.set(name, reader);
}

/** The reader of `plan`, or an error saying which runtime has it. */
export function directReader(plan: ReadPlan): DirectReader {
  const reader = readers.get(plan.reader);
  if (!reader) {
    throw new Error(
      `no reader for input read directly from ${JSON.stringify(plan.reader)} in this process: such a source ` +
        'is read by the serverless runtime’s workers; run the job there, or set the source not to read directly',
    );
  }
  return reader;
}
