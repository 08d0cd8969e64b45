import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { BufferPool } from '../storage/BufferPool';
import { readFully } from '../storage/readFully';
import type { FolderFileRange, FolderReadPart } from './FolderReadPlanner';
import { type RangeBytes, readRangeLines } from './LineRangeReader';
import { concatLines } from './textLines';

/**
 * The memory a range's pieces are read into, lent again for the next piece: a piece is decoded to strings before it
 * is given back. One pool per thread (a worker thread loads its own copy of this module).
 */
const buffers = new BufferPool();

/**
 * How much of a range a task reads at a time. A range is up to `MAX_PART_BYTES`; read whole, it took a buffer as
 * large (which the pool then kept), and past 512 MiB (before parts were capped) it could not be decoded at all.
 * Pieces of a few MiB are few enough not to cost in the per-piece work.
 */
const PIECE_BYTES = 16 * 1024 * 1024;

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
    await readRangeLines(fileBytes(file), range, lines, pieceBytes);
  } finally {
    await file.close();
  }
}

/** An open file's bytes, read into the thread's pooled buffers. */
function fileBytes(file: FileHandle): RangeBytes {
  return {
    async *pieces(start, end, pieceBytes) {
      // The page cache serves a read as fast as it is split, so nothing is read ahead.
      for (let position = start; position < end; ) {
        const piece = await readFully(file, buffers.take(Math.min(pieceBytes, end - position)), position);
        try {
          if (piece.length === 0) return; // cut short while read: the size check saw it whole
          yield piece;
        } finally {
          buffers.give(piece);
        }
        position += piece.length;
      }
    },
  };
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
