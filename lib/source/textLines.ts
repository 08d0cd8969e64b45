import { isUtf8 } from 'node:buffer';
import { unreadableRecord } from './UnreadableRecord';

/**
 * The lines of a text file's bytes (whole lines: a file, or the lines a task reads of a byte range of one). A
 * line that is not UTF-8 is handed on as an `UnreadableRecord` holding its bytes in base64, which the task that
 * reads it dead-letters; bytes that are UTF-8 throughout (nearly all) are decoded at once. Lines split on `\n`,
 * each without a trailing `\r`, without the empty line after a final newline.
 */
export function linesOf(bytes: Uint8Array): string[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buffer)) return splitLines(buffer.toString('utf8'));
  const lines: string[] = [];
  let start = 0;
  while (start < buffer.length) {
    const newline = buffer.indexOf(0x0a, start);
    const end = newline === -1 ? buffer.length : newline;
    const line = buffer.subarray(start, end > start && buffer[end - 1] === 0x0d ? end - 1 : end);
    if (isUtf8(line)) lines.push(line.toString('utf8'));
    else {
      const reason = 'line is not valid UTF-8; its bytes are kept in base64';
      const unreadable = unreadableRecord(reason, { bytes: line.length, base64: line.toString('base64') });
      lines.push(unreadable as unknown as string); // never reaches a function: the input dataset dead-letters it
    }
    start = end + 1;
  }
  return lines;
}

/** Lines split on `\n`, each without a trailing `\r`, without the empty line after a final newline. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.endsWith('\r')) lines[i] = line.slice(0, -1);
  }
  return lines;
}
