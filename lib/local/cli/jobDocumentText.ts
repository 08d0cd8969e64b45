import { isUtf8 } from 'node:buffer';
import { JobValidationError } from '../../errors';

/** The byte order mark some editors (Notepad, Excel's exports) write at the start of a UTF-8 file. */
const BYTE_ORDER_MARK = [0xef, 0xbb, 0xbf];

/**
 * A job file's bytes as text: UTF-8, as JSON must be, with a leading byte order mark skipped (it marks the
 * encoding and is no part of the document; JSON.parse refused it with ``Unexpected token '﻿'``). Any other
 * encoding is refused at the first byte that is not UTF-8: read as UTF-8, a Latin-1 `café` became `caf�`, which
 * validated, and a filter comparing with it then silently matched nothing.
 */
export function jobDocumentText(bytes: Uint8Array): string {
  const start = BYTE_ORDER_MARK.every((b, i) => bytes[i] === b) ? BYTE_ORDER_MARK.length : 0;
  const body = bytes.subarray(start);
  if (!isUtf8(body)) {
    const offset = start + firstInvalidUtf8(body);
    const line = 1 + body.subarray(0, offset - start).filter((b) => b === 0x0a).length;
    const found = (bytes[offset] ?? 0).toString(16).toUpperCase().padStart(2, '0');
    throw new JobValidationError([
      {
        path: '',
        message:
          `the job file is not UTF-8: byte ${offset} (line ${line}) is 0x${found}, which starts no UTF-8 ` +
          'character; save the file as UTF-8 (a Latin-1 é is the byte 0xE9, in UTF-8 the two bytes 0xC3 0xA9)',
      },
    ]);
  }
  return Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8');
}

/**
 * The offset of the first byte that does not begin a well-formed UTF-8 sequence (Unicode's table 3-7: no overlong
 * forms, no surrogates, nothing past U+10FFFF), for bytes that `isUtf8` refused.
 */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] as number; // i < length
    if (lead < 0x80) {
      i += 1;
      continue;
    }
    if (lead < 0xc2 || lead > 0xf4) return i;
    const continuations = lead <= 0xdf ? 1 : lead <= 0xef ? 2 : 3;
    // The second byte's range is narrower after these leads: it is what rules out overlong forms and surrogates.
    const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k <= continuations; k++) {
      const next = bytes[i + k];
      if (next === undefined || next < (k === 1 ? low : 0x80) || next > (k === 1 ? high : 0xbf)) return i;
    }
    i += continuations + 1;
  }
  return bytes.length;
}
