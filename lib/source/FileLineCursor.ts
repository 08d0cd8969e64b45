import { type FileHandle, open } from 'node:fs/promises';
import { readFully } from '../storage/readFully';
import { concatLines, pieceDecoder } from './textLines';

/** Where the lines of a file not taken yet start: past `taken` lines, at byte `byte` (when known). */
export interface LinePosition {
  readonly taken: number;
  readonly byte?: number;
}

/** What {@link readLinesAt} read: the lines, where the next ones start, and whether the file has no more. */
export interface LinesRead {
  readonly lines: string[];
  /** The byte after the last line read. */
  readonly byte: number;
  readonly ended: boolean;
}

/** The first read of a batch; each further read doubles, so a batch of few lines reads little of a big file. */
const FIRST_PIECE_BYTES = 64 * 1024;
const MAX_PIECE_BYTES = 16 * 1024 * 1024;

/**
 * At most `maxLines` lines of a file from `position`, read a piece at a time, decoded as every folder line is
 * (`linesOf`). A rate-limited folder source takes a file's lines over several batches: it keeps only where the next
 * line starts, not the lines, so a file of any size costs the driver the lines of one batch. A position without
 * its byte (a checkpoint written before bytes were kept) is found by counting `taken` lines from the start.
 * Undefined when the file is gone.
 */
export async function readLinesAt(
  path: string,
  position: LinePosition,
  maxLines: number,
): Promise<LinesRead | undefined> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // ErrnoException is what fs rejects with
    throw error;
  }
  try {
    const { size } = await file.stat();
    const start = position.byte ?? (await scan(file, size, 0, position.taken, false)).byte;
    return await scan(file, size, start, maxLines, true);
  } finally {
    await file.close();
  }
}

/**
 * Reads from `start` past at most `maxLines` newlines (or to the end of the file), keeping the lines when `keep`.
 * A last line without a newline counts as a line once the file ends. Lines kept from the start of the file skip a
 * UTF-8 byte order mark (see `withoutByteOrderMark`); counting them needs no skip, since a mark holds no newline.
 */
async function scan(
  file: FileHandle,
  size: number,
  start: number,
  maxLines: number,
  keep: boolean,
): Promise<LinesRead> {
  const runs: string[][] = [];
  const open: Buffer[] = []; // the bytes of a line not ended yet, when kept
  let lines = 0;
  let position = start; // the byte after the last whole line counted
  let read = start; // the byte after the last byte read
  let pieceBytes = FIRST_PIECE_BYTES;
  // The first bytes decoded hold the file's whole first line: where a mark would be.
  const decode = pieceDecoder(start === 0);
  while (lines < maxLines && read < size) {
    const piece = await readFully(file, Buffer.allocUnsafe(Math.min(pieceBytes, size - read)), read);
    if (piece.length === 0) break; // cut short since the size was taken
    pieceBytes = Math.min(2 * pieceBytes, MAX_PIECE_BYTES);
    let cut = -1; // the last newline of the piece that ends a line counted
    for (let at = piece.indexOf(0x0a); at !== -1 && lines < maxLines; at = piece.indexOf(0x0a, at + 1)) {
      cut = at;
      lines++;
    }
    if (cut !== -1) {
      if (keep) runs.push(decode(Buffer.concat([...open, piece.subarray(0, cut + 1)])));
      open.length = 0;
      position = read + cut + 1;
    }
    if (keep && lines < maxLines) open.push(piece.subarray(cut + 1));
    read += piece.length;
  }
  if (lines < maxLines && read >= size && position < size) {
    // The file's last line has no newline: it ends with the file.
    if (keep) runs.push(decode(Buffer.concat(open)));
    lines++;
    position = size;
  }
  return { lines: concatLines(runs), byte: position, ended: position >= size };
}
