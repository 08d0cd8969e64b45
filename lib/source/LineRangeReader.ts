import { pieceDecoder } from './textLines';

/** Where the bytes of a planned range come from: an open file, an S3 object. */
export interface RangeBytes {
  /**
   * The bytes [`start`, `end`) in order, at most `pieceBytes` at a time, fewer in all if the bytes end early. A
   * piece is lent: it may be overwritten once the next one is asked for, so a reader copies what it keeps. With
   * `readAhead` every piece is wanted, and the next may be fetched while this one is used; without it the reader
   * may stop after any piece.
   */
  pieces(start: number, end: number, pieceBytes: number, readAhead: boolean): AsyncIterable<Uint8Array>;
}

/** One planned byte range of a file or object (Hadoop's file split). */
export interface LineRange {
  readonly startByte: number;
  readonly endByte: number;
  /** The file's size when the batch was planned: no byte past it is read. */
  readonly sizeBytes: number;
}

/** How much is read at a time past the end of a range, looking for the end of its last line. */
const TAIL_PIECE_BYTES = 64 * 1024;

/**
 * Adds the lines that START inside `range` to `lines`, a run of lines at a time, as Hadoop's LineRecordReader
 * reads a split: the last one is read to its newline even past the range (never past `sizeBytes`), and a line
 * that crosses into the range from before is left to the range it started in. So ranges laid end to end give each
 * line once, and the same range always gives the same lines. The range is read `pieceBytes` at a time, so no
 * buffer or string is as large as the range (see `linesOf` for how lines decode). A range at the start of its file
 * skips a UTF-8 byte order mark before its first line, as Hadoop's does (see `withoutByteOrderMark`).
 */
export async function readRangeLines(
  bytes: RangeBytes,
  range: LineRange,
  lines: string[][],
  pieceBytes: number,
): Promise<void> {
  // One byte before the range tells whether a line starts at its first byte (after a newline) or crosses in:
  // until a newline is seen, the bytes belong to a line that started before the range, read by that range.
  let started = range.startByte === 0;
  // The start of a line that has not ended yet, copied out of the pieces it lay in.
  const open: Buffer[] = [];
  // The first bytes decoded hold the file's whole first line, however small the pieces: where a mark would be.
  const decode = pieceDecoder(range.startByte === 0);
  for await (const lent of bytes.pieces(Math.max(0, range.startByte - 1), range.endByte, pieceBytes, true)) {
    const piece = asBuffer(lent);
    let from = 0;
    if (!started) {
      const newline = piece.indexOf(0x0a);
      if (newline === -1) continue;
      started = true;
      from = newline + 1;
    }
    const last = piece.lastIndexOf(0x0a);
    if (last >= from) {
      if (open.length > 0) {
        const newline = piece.indexOf(0x0a, from);
        lines.push(decode(Buffer.concat([...open, piece.subarray(from, newline + 1)])));
        open.length = 0;
        from = newline + 1;
      }
      if (last >= from) lines.push(decode(piece.subarray(from, last + 1)));
      from = last + 1;
    }
    if (from < piece.length) open.push(Buffer.from(piece.subarray(from))); // a copy: the piece is lent
  }
  if (open.length === 0) return;
  // The last line that starts in the range ends at its newline past the range (or at the end of the file).
  for await (const lent of bytes.pieces(range.endByte, range.sizeBytes, TAIL_PIECE_BYTES, false)) {
    const piece = asBuffer(lent);
    const newline = piece.indexOf(0x0a);
    open.push(Buffer.from(newline === -1 ? piece : piece.subarray(0, newline + 1)));
    if (newline !== -1) break;
  }
  lines.push(decode(Buffer.concat(open)));
}

/** The same memory as a Buffer, for its `indexOf`. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
