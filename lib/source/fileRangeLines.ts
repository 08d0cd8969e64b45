/** A byte range of a named file or object, as a folder's or an S3 prefix's read plan holds it. */
export interface NamedByteRange {
  readonly name: string;
  readonly startByte: number;
  readonly endByte: number;
  /** The file's size when the batch was planned. */
  readonly sizeBytes: number;
}

/**
 * What a batch read of files, one line per file for the batch page: a big file is split over several tasks, so a
 * file's ranges that follow one another are joined into one; a whole file is named with its size, a part with its
 * byte range.
 * @example
 * fileRangeLines([{ name: 'a.txt', startByte: 0, endByte: 10, sizeBytes: 30 },
 *                 { name: 'a.txt', startByte: 10, endByte: 30, sizeBytes: 30 }]); // ['a.txt (30 bytes)']
 */
export function fileRangeLines(ranges: readonly NamedByteRange[]): string[] {
  const joined: NamedByteRange[] = [];
  for (const range of ranges) {
    const last = joined.at(-1);
    if (last && last.name === range.name && last.endByte === range.startByte) {
      joined[joined.length - 1] = { ...last, endByte: range.endByte };
    } else joined.push(range);
  }
  return joined.map(({ name, startByte, endByte, sizeBytes }) =>
    startByte === 0 && endByte >= sizeBytes
      ? `${name} (${sizeBytes} bytes)`
      : `${name} bytes ${startByte}–${endByte} of ${sizeBytes}`,
  );
}
