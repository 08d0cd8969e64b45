import { type EncodedReceivedBlock, encodeReceivedBlock } from '../storage/ReceivedBlock';

const NEWLINE = 0x0a;
const NEWLINE_BYTES = Buffer.from('\n');

/** A run of complete lines as they came off the wire: valid UTF-8, no `\r`, joined by `\n`, no final newline. */
interface TextRun {
  readonly bytes: Buffer;
  readonly count: number;
}

/** A block taken from the lines waiting: its bytes, their format, and how many records it holds. */
export interface TakenBlock extends EncodedReceivedBlock {
  readonly records: number;
}

/**
 * The lines a receiving source holds until the engine takes them. Lines that came in clean runs (valid UTF-8,
 * within the line limit, no `\r`: nearly all of them) stay the bytes they arrived as, so a block of them is
 * those bytes concatenated: no line is decoded to a string on the receiving thread, and none is encoded again
 * for the block. A line that needed work (one split across chunks, a `\r\n` line, a line that is not UTF-8 or is
 * too long) waits as the record the source made of it.
 */
export class ReceivedLines {
  /** In arrival order: runs of raw lines, and single records. */
  private pending: Array<TextRun | { readonly record: unknown }> = [];
  private waiting = 0;

  /** How many records wait. */
  get size(): number {
    return this.waiting;
  }

  /** Adds `count` clean lines held in `bytes` (see {@link TextRun}). */
  pushRun(bytes: Buffer, count: number): void {
    this.pending.push({ bytes, count });
    this.waiting += count;
  }

  /** Adds one record: a decoded line, or an unreadable one. */
  push(record: unknown): void {
    this.pending.push({ record });
    this.waiting += 1;
  }

  /** The oldest `maxRecords` records (all with Infinity), decoded: lines as strings. */
  take(maxRecords: number): unknown[] {
    return recordsOf(this.takeEntries(maxRecords));
  }

  /**
   * The oldest `maxRecords` records as one stored block, or undefined when none wait. Raw runs and decoded lines
   * make a newline-delimited text block; a block holding an unreadable record is a JSON block, as
   * `encodeReceivedBlock` makes it.
   */
  takeBlock(maxRecords: number): TakenBlock | undefined {
    const entries = this.takeEntries(maxRecords);
    if (entries.length === 0) return undefined;
    const pieces: Buffer[] = [];
    let records = 0;
    for (const entry of entries) {
      if ('record' in entry && typeof entry.record !== 'string') {
        const all = recordsOf(entries);
        return { ...encodeReceivedBlock(all), records: all.length };
      }
      if (pieces.length > 0) pieces.push(NEWLINE_BYTES);
      if ('record' in entry) {
        pieces.push(Buffer.from(entry.record as string));
        records += 1;
      } else {
        pieces.push(entry.bytes);
        records += entry.count;
      }
    }
    const bytes = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
    return { bytes, format: 'text', records };
  }

  /** Removes and returns the oldest entries holding `maxRecords` records, splitting a run at a line if need be. */
  private takeEntries(maxRecords: number): Array<TextRun | { readonly record: unknown }> {
    if (maxRecords >= this.waiting) {
      const all = this.pending;
      this.pending = [];
      this.waiting = 0;
      return all;
    }
    const taken: Array<TextRun | { readonly record: unknown }> = [];
    let left = maxRecords;
    let i = 0;
    for (; i < this.pending.length && left > 0; i++) {
      const entry = this.pending[i]!;
      const count = 'record' in entry ? 1 : entry.count;
      if (count <= left) {
        taken.push(entry);
        left -= count;
        continue;
      }
      // Part of a run: the first `left` lines go, the rest stay first in line.
      const run = entry as TextRun;
      let cut = -1;
      for (let line = 0; line < left; line++) cut = run.bytes.indexOf(NEWLINE, cut + 1);
      taken.push({ bytes: run.bytes.subarray(0, cut), count: left });
      this.pending[i] = { bytes: run.bytes.subarray(cut + 1), count: run.count - left };
      left = 0;
      break;
    }
    this.pending = this.pending.slice(i);
    this.waiting -= maxRecords;
    return taken;
  }
}

/** The records of `entries`, runs decoded to their lines. */
function recordsOf(entries: ReadonlyArray<TextRun | { readonly record: unknown }>): unknown[] {
  const records: unknown[] = [];
  for (const entry of entries) {
    if ('record' in entry) records.push(entry.record);
    else for (const line of entry.bytes.toString('utf8').split('\n')) records.push(line);
  }
  return records;
}
