/**
 * How a block of received records is stored: newline-delimited UTF-8 when every record is a string without a
 * newline (a socket's lines), so that nothing between the socket and the task encodes or parses a record; a JSON
 * array otherwise (a line holding a newline, an unreadable line's dead letter, structured records), for that
 * block only.
 */
export type ReceivedBlockFormat = 'text' | 'json';

/** A block's bytes and how to read them. */
export interface EncodedReceivedBlock {
  readonly bytes: Buffer;
  readonly format: ReceivedBlockFormat;
}

const NEWLINE = 0x0a;

/** Encodes one block of records (at least one). */
export function encodeReceivedBlock(records: readonly unknown[]): EncodedReceivedBlock {
  if (records.every((r) => typeof r === 'string' && !r.includes('\n'))) {
    return { bytes: Buffer.from((records as readonly string[]).join('\n')), format: 'text' };
  }
  return { bytes: Buffer.from(JSON.stringify(records)), format: 'json' };
}

/**
 * Records [from, to) of a block of `count` records. A text block is cut at newlines and only the lines asked for
 * are decoded: the per-record cost is a split, not a parse.
 */
export function decodeReceivedRecords(
  bytes: Uint8Array,
  format: ReceivedBlockFormat,
  count: number,
  from: number,
  to: number,
): unknown[] {
  if (to <= from) return [];
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (format === 'json') {
    const records = JSON.parse(buffer.toString('utf8')) as unknown[];
    return from === 0 && to === records.length ? records : records.slice(from, to);
  }
  const [start, end] = textLineBounds(buffer, count, from, to);
  return buffer.toString('utf8', start, end).split('\n');
}

/**
 * Hands lines [from, to) of a text block of `count` lines to `consume` about `chunkBytes` at a time, each chunk
 * ending at a line's end, awaiting what `consume` returns before the next chunk.
 */
export async function forEachTextChunk(
  bytes: Uint8Array,
  count: number,
  from: number,
  to: number,
  chunkBytes: number,
  // biome-ignore lint/suspicious/noConfusingVoidType: a consumer that returns nothing (void) is the common, synchronous case
  consume: (lines: string[]) => void | Promise<unknown>,
): Promise<void> {
  if (to <= from) return;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [start, end] = textLineBounds(buffer, count, from, to);
  for (let chunkStart = start; ; ) {
    // The first newline past the chunk's size ends it; a newline is always followed by one more line.
    const newline = end - chunkStart > chunkBytes ? buffer.indexOf(NEWLINE, chunkStart + chunkBytes) : -1;
    const chunkEnd = newline !== -1 && newline < end ? newline : end;
    const pending = consume(buffer.toString('utf8', chunkStart, chunkEnd).split('\n'));
    if (pending) await pending;
    if (chunkEnd === end) return;
    chunkStart = chunkEnd + 1;
  }
}

/**
 * The bytes [start, end) that hold lines [from, to) of a text block of `count` lines, without their last newline.
 * A newline byte never occurs inside a multi-byte UTF-8 character, so cutting bytes at newlines is safe.
 */
function textLineBounds(buffer: Buffer, count: number, from: number, to: number): [number, number] {
  let start = 0;
  for (let i = 0; i < from; i++) start = buffer.indexOf(NEWLINE, start) + 1;
  let end = buffer.length;
  if (to < count) {
    end = start - 1;
    for (let i = from; i < to; i++) end = buffer.indexOf(NEWLINE, end + 1);
  }
  return [start, end];
}
