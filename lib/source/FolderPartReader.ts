import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { BufferPool } from '../storage/BufferPool';
import { readFully } from '../storage/readFully';
import type { FolderFileRange, FolderReadPart } from './FolderReadPlanner';
import { concatLines, linesOf } from './textLines';

/**
 * The memory a range's pieces are read into, lent again for the next piece: a piece is decoded to strings before it
 * is given back. One pool per thread (a worker thread loads its own copy of this module).
 */
const buffers = new BufferPool();

/**
 * How much of a range a task reads at a time. A range is as large as the batch's new bytes over its partitions,
 * gigabytes for a big file; read whole, it took a buffer as large (which the pool then kept) and past 512 MiB it
 * could not be decoded at all. Pieces of a few MiB are few enough not to cost in the per-piece work.
 */
const PIECE_BYTES = 16 * 1024 * 1024;

/** How much a task reads at a time past the end of its range, looking for the end of its last line. */
const TAIL_CHUNK_BYTES = 64 * 1024;

/**
 * Reads one part of a planned folder batch inside a task: the lines of its ranges, in order (see
 * `planFolderParts`). A range gives the lines that start inside it, the last one read to its newline even past
 * the range, never past the size the file had when the batch was planned: the same part always gives the same
 * lines. A line that is not UTF-8 is an `UnreadableRecord`, as the folder source reads it at the tick.
 *
 * A file must stay in the folder, unchanged, until its batch completed (as with Spark): a file gone or shorter
 * than planned fails the task with a sentence naming it.
 *
 * `pieceBytes` is how much is read at a time (tests make it small).
 */
export async function readFolderPart(part: FolderReadPart, pieceBytes = PIECE_BYTES): Promise<string[]> {
  const lines: string[][] = [];
  for (const range of part.ranges) await readRange(part.directory, range, lines, pieceBytes);
  return concatLines(lines);
}

/** Adds the lines that start in `range` of its file to `lines`, a run of lines at a time. */
async function readRange(
  directory: string,
  range: FolderFileRange,
  lines: string[][],
  pieceBytes: number,
): Promise<void> {
  const path = join(directory, range.name);
  const file = await openPlanned(path);
  try {
    const { size } = await file.stat();
    if (size < range.sizeBytes) {
      throw new Error(
        `file ${path} has ${size} bytes, fewer than the ${range.sizeBytes} it had when its batch was planned: ` +
          'a folder source reads each file as it was when first listed, so files must not be truncated or rewritten ' +
          'until their batch completed; write a new file instead',
      );
    }
    // One byte before the range tells whether a line starts at its first byte (after a newline) or crosses in:
    // until a newline is seen, the bytes belong to a line that started before the range, read by that range.
    let position = Math.max(0, range.startByte - 1);
    let started = range.startByte === 0;
    // The start of a line that has not ended yet, copied out of the pieces it lay in.
    const open: Buffer[] = [];
    while (position < range.endByte) {
      const end = Math.min(range.endByte, position + pieceBytes);
      const piece = await readFully(file, buffers.take(end - position), position);
      position = end;
      try {
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
            lines.push(linesOf(Buffer.concat([...open, piece.subarray(from, newline + 1)])));
            open.length = 0;
            from = newline + 1;
          }
          if (last >= from) lines.push(linesOf(piece.subarray(from, last + 1)));
          from = last + 1;
        }
        if (from < piece.length) open.push(Buffer.from(piece.subarray(from))); // a copy: the piece is lent again
      } finally {
        buffers.give(piece);
      }
    }
    if (open.length === 0) return;
    // The last line that starts in the range ends at its newline past the range (or at the end of the file).
    while (position < range.sizeBytes) {
      const end = Math.min(range.sizeBytes, position + TAIL_CHUNK_BYTES);
      const chunk = await readFully(file, Buffer.allocUnsafe(end - position), position);
      if (chunk.length === 0) break; // cut short while read: the size check above saw it whole
      const newline = chunk.indexOf(0x0a);
      open.push(newline === -1 ? chunk : chunk.subarray(0, newline + 1));
      if (newline !== -1) break;
      position += chunk.length;
    }
    lines.push(linesOf(Buffer.concat(open)));
  } finally {
    await file.close();
  }
}

/** Opens a file of a planned batch, or says that it must stay until its batch completed. */
async function openPlanned(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // ErrnoException is what fs rejects with
    throw new Error(
      `file ${path} is gone, but its batch was planned to read it: a folder source's files must stay in the folder ` +
        'until their batch completed (its tasks read them, and read them again when a task is retried or the job ' +
        'restarts); put it back as it was and start the job again to let the batch complete, and move or delete ' +
        'files only once their batch has completed',
    );
  }
}
