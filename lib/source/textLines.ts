import { constants, isUtf8 } from 'node:buffer';
import { notUtf8Record, OVERLONG_PREFIX_BYTES, unreadableRecord } from './UnreadableRecord';

/**
 * Bytes decoded into one string at a time. V8 cannot hold a string of more than about 512 Mi characters
 * (`MAX_STRING_LENGTH`), so a file or range of more had to be cut somewhere; a few MiB keep each decode's string
 * small while costing one split per chunk.
 */
const DECODE_CHUNK_BYTES = 16 * 1024 * 1024;

/**
 * The lines of a text file's bytes (whole lines: a file, or the lines a task reads of a byte range of one). A
 * line that is not UTF-8 is handed on as an `UnreadableRecord` holding its bytes in base64, which the task that
 * reads it dead-letters; so is a line of more than `maxLineBytes` (by default the longest string Node can make of
 * it), holding its length and its first KiB. Bytes that are UTF-8 throughout (nearly all) are decoded a chunk of
 * whole lines at a time. Lines split on `\n`, each without a trailing `\r`, without the empty line after a final
 * newline.
 */
export function linesOf(
  bytes: Uint8Array,
  chunkBytes = DECODE_CHUNK_BYTES,
  maxLineBytes: number = constants.MAX_STRING_LENGTH,
): string[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length <= chunkBytes) return decodeLines(buffer, maxLineBytes);
  const chunks: string[][] = [];
  let start = 0;
  while (start < buffer.length) {
    // A chunk ends after the last newline within `chunkBytes`, or, when one line is longer, after that line.
    let end = start + chunkBytes;
    if (end >= buffer.length) end = buffer.length;
    else {
      const newline = buffer.lastIndexOf(0x0a, end - 1);
      if (newline >= start) end = newline + 1;
      else {
        const next = buffer.indexOf(0x0a, end);
        end = next === -1 ? buffer.length : next + 1;
      }
    }
    chunks.push(decodeLines(buffer.subarray(start, end), maxLineBytes));
    start = end;
  }
  return concatLines(chunks);
}

/**
 * A file's first bytes without the UTF-8 byte order mark (EF BB BF) some editors and exports put first: Hadoop's
 * LineRecordReader, which Spark's `textFile` and `textFileStream` read through, skips it, where it became part of
 * the first line (U+FEFF before its text, so a JSON line was a dead letter). Only the start of a file has one;
 * callers pass bytes that start at byte 0 of their file.
 */
export function withoutByteOrderMark(bytes: Uint8Array): Uint8Array {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf
    ? bytes.subarray(3)
    : bytes;
}

/**
 * `linesOf` for a reader that decodes a file's lines in pieces: the first piece decoded skips a byte order mark when
 * it starts the file (`atFileStart`), as it holds the whole first line, however small the reads; the others decode
 * as they are.
 */
export function pieceDecoder(atFileStart: boolean): (bytes: Uint8Array) => string[] {
  let first = atFileStart;
  return (bytes) => {
    if (!first) return linesOf(bytes);
    first = false;
    return linesOf(withoutByteOrderMark(bytes));
  };
}

/**
 * One record's bytes as text (a Kinesis record's data), or, when they are not UTF-8, an `UnreadableRecord`
 * holding them in base64, which the task that reads it dead-letters, as the line sources do. A decoder that
 * replaced the bad bytes with U+FFFD handed the job another record than the one that was sent.
 */
export function recordTextOf(bytes: Uint8Array | undefined): string {
  if (bytes === undefined) return ''; // a record without data, as the SDK types allow
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return isUtf8(buffer) ? buffer.toString('utf8') : (notUtf8Record('record', buffer) as unknown as string);
}

/**
 * Runs of lines as one array. `concat`, a block copy, not `flat()`, which V8 runs element by element: for a
 * range of two 16 MiB pieces that cost a sixth of the task. At most a thousand arrays go to one call (its
 * arguments are on the stack), for a part of many small files.
 */
export function concatLines(runs: readonly string[][]): string[] {
  if (runs.length === 1) return runs[0]!;
  let lines: string[] = [];
  for (let i = 0; i < runs.length; i += 1000) lines = lines.concat(...runs.slice(i, i + 1000));
  return lines;
}

/** {@link linesOf} for bytes that fit one string (unless a line is over-long, which goes on its own). */
function decodeLines(buffer: Buffer, maxLineBytes: number): string[] {
  if (buffer.length <= maxLineBytes && isUtf8(buffer)) return splitLines(buffer.toString('utf8'));
  const lines: string[] = [];
  let start = 0;
  while (start < buffer.length) {
    const newline = buffer.indexOf(0x0a, start);
    const end = newline === -1 ? buffer.length : newline;
    const line = buffer.subarray(start, end > start && buffer[end - 1] === 0x0d ? end - 1 : end);
    if (line.length > maxLineBytes) {
      const reason = `line of ${line.length} bytes is longer than a line may be (${maxLineBytes} bytes, the longest string Node can hold); its first KiB is kept`;
      const prefix = line.subarray(0, OVERLONG_PREFIX_BYTES).toString('utf8');
      lines.push(unreadableRecord(reason, { bytes: line.length, prefix }) as unknown as string);
    } else if (isUtf8(line)) lines.push(line.toString('utf8'));
    else lines.push(notUtf8Record('line', line) as unknown as string); // the input dataset dead-letters it
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
