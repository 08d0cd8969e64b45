/**
 * What a source hands on in place of input it could not turn into a record: a line longer than its limit, bytes
 * that are not UTF-8. It travels in the batch's input block like a record, and the task that reads the block
 * makes it a dead letter (see `BlockDataset`), so it is counted, kept and exactly-once like any other dead
 * letter, and no function of the job ever sees it. Sources of text lines use it: a line is a string, so an
 * object with this one key is never a real record of theirs.
 */
export interface UnreadableRecord {
  readonly [UNREADABLE]: {
    /** Why it is not a record: `line of 16777216 bytes is longer than maxLineBytes (4194304)`. */
    readonly reason: string;
    /** What is kept of the input: its bytes in base64, or the start of an over-long line. */
    readonly input: UnreadableInput;
  };
}

/** What a dead letter keeps of input that could not be read. */
export interface UnreadableInput {
  /** The input's length in bytes. */
  readonly bytes: number;
  /** The bytes as they came, in base64 (bytes that are not UTF-8). */
  readonly base64?: string;
  /** The start of an over-long line, as text (cut at a character boundary, invalid bytes replaced). */
  readonly prefix?: string;
}

/** What a dead letter keeps of an over-long line: its first KiB (`UnreadableInput.prefix`). */
export const OVERLONG_PREFIX_BYTES = 1024;

/** The marker's one key. */
export const UNREADABLE = '$sluiceUnreadable';

/** Wraps a reason and what is kept of the input as a record for the input block. */
export function unreadableRecord(reason: string, input: UnreadableInput): UnreadableRecord {
  return { [UNREADABLE]: { reason, input } };
}

/** `what` (a line, a record) whose bytes are not UTF-8, kept as they came, in base64. */
export function notUtf8Record(what: string, bytes: Buffer): UnreadableRecord {
  return unreadableRecord(`${what} is not valid UTF-8; its bytes are kept in base64`, {
    bytes: bytes.length,
    base64: bytes.toString('base64'),
  });
}

/** The marker's content when `record` is one, else undefined. */
export function unreadableOf(record: unknown): UnreadableRecord[typeof UNREADABLE] | undefined {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return undefined;
  return (record as Partial<UnreadableRecord>)[UNREADABLE];
}
