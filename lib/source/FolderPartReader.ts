import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { BufferPool } from '../storage/BufferPool';
import { readFully } from '../storage/readFully';
import type { FolderFileRange, FolderReadPart } from './FolderReadPlanner';
import { linesOf } from './textLines';

/**
 * The memory ranges are read into, lent again for the next range: a range is decoded to strings before it is given
 * back. One pool per thread (a worker thread loads its own copy of this module).
 */
const buffers = new BufferPool();

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
 */
export async function readFolderPart(part: FolderReadPart): Promise<string[]> {
  const lines: string[] = [];
  for (const range of part.ranges) {
    for (const line of await readRange(part.directory, range)) lines.push(line);
  }
  return lines;
}

/** The lines that start in `range` of its file. */
async function readRange(directory: string, range: FolderFileRange): Promise<string[]> {
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
    // One byte before the range tells whether a line starts at its first byte (after a newline) or crosses in.
    const headStart = Math.max(0, range.startByte - 1);
    const head = await readFully(file, buffers.take(range.endByte - headStart), headStart);
    try {
      let first = 0;
      if (range.startByte > 0) {
        const newline = head.indexOf(0x0a);
        // No newline: every byte of the range belongs to a line that started before it, read by that range.
        if (newline === -1) return [];
        first = newline + 1;
      }
      if (headStart + first >= range.endByte) return [];
      if (head.at(-1) === 0x0a || range.endByte >= range.sizeBytes) return linesOf(head.subarray(first));
      // The last line that starts in the range ends at its newline past the range: the lines before it are
      // decoded from the head as they lie, that one from its start in the head and the bytes read past it.
      const lastNewline = head.lastIndexOf(0x0a);
      const lines = lastNewline >= first ? linesOf(head.subarray(first, lastNewline + 1)) : [];
      const chunks: Buffer[] = [Buffer.from(head.subarray(Math.max(first, lastNewline + 1)))];
      let position = range.endByte;
      while (position < range.sizeBytes) {
        const end = Math.min(range.sizeBytes, position + TAIL_CHUNK_BYTES);
        const chunk = await readFully(file, Buffer.allocUnsafe(end - position), position);
        if (chunk.length === 0) break; // cut short while read: the size check above saw it whole
        const newline = chunk.indexOf(0x0a);
        chunks.push(newline === -1 ? chunk : chunk.subarray(0, newline + 1));
        if (newline !== -1) break;
        position += chunk.length;
      }
      for (const line of linesOf(Buffer.concat(chunks))) lines.push(line);
      return lines;
    } finally {
      buffers.give(head);
    }
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
