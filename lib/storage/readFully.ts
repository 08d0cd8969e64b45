import type { FileHandle } from 'node:fs/promises';

/**
 * Fills `buffer` from `position` of an open file, read after read (one read may return fewer bytes than asked),
 * until it is full or the file ends: the bytes read, a view of `buffer`.
 */
export async function readFully(file: FileHandle, buffer: Buffer, position: number): Promise<Buffer> {
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await file.read(buffer, filled, buffer.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}
