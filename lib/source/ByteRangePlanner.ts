import { sliceBounds } from '../dataset/Dataset';

/** A file of a batch (a folder's file, an S3 object), as the listing saw it. */
export interface ListedFile {
  /** The file's name inside the folder, or the object's key. */
  readonly name: string;
  /** Its size when the batch was planned: the task reads no byte past it, even if the file grew since. */
  readonly sizeBytes: number;
  /**
   * Where the batch's bytes of the file begin, at the start of a line: the rest of a file a rate-limited batch took
   * in part, after the cap was lifted. Default 0.
   */
  readonly fromByte?: number;
}

/** The bytes [`startByte`, `endByte`) of one listed file, for one task. */
export interface PlannedRange<F extends ListedFile> {
  readonly file: F;
  readonly startByte: number;
  readonly endByte: number;
}

/**
 * The most bytes one task of a batch reads (Hadoop caps a split at its file system's block size, 128 MiB on HDFS).
 * A task holds its lines as strings before its pipeline runs, about as many characters as it read bytes: a batch
 * of gigabytes over a handful of partitions needed that much heap in each task, more than a 1,769 MB Lambda worker
 * has. More tasks of a bounded size fit, and spread over more threads or workers.
 */
export const MAX_PART_BYTES = 128 * 1024 * 1024;

/** A source's `maxPartBytes` option: the value given, or {@link MAX_PART_BYTES}; a RangeError for anything else. */
export function maxPartBytesOf(value: number | undefined): number {
  const bytes = value ?? MAX_PART_BYTES;
  if (!Number.isInteger(bytes) || bytes < 1) {
    throw new RangeError(`maxPartBytes must be a positive whole number, got ${bytes}`);
  }
  return bytes;
}

/**
 * Splits a batch's files into runs of (nearly) equal bytes, as Hadoop's input format splits files: the files, in
 * the given order, are laid end to end and cut into at least `partitions` runs, more when a run would exceed
 * `maxPartBytes`. So a big file is read by several tasks at once, small files are grouped into one task's part,
 * and reading the parts in order gives the lines in file order. A run that gets no byte is empty; so is every run
 * of a batch without bytes.
 *
 * @example
 * planByteRanges([{ name: 'a', sizeBytes: 10 }, { name: 'b', sizeBytes: 30 }], 2);
 * // [[a 0–10, b 0–10], [b 10–30]]
 * planByteRanges([{ name: 'a', sizeBytes: 300 }], 1, 100); // three runs of 100 bytes
 */
export function planByteRanges<F extends ListedFile>(
  files: readonly F[],
  partitions: number,
  maxPartBytes: number = MAX_PART_BYTES,
): PlannedRange<F>[][] {
  const bytesOf = (file: F) => file.sizeBytes - (file.fromByte ?? 0);
  const totalBytes = files.reduce((sum, file) => sum + bytesOf(file), 0);
  const runs = Math.max(partitions, Math.ceil(totalBytes / maxPartBytes));
  const parts: PlannedRange<F>[][] = [];
  let fileIndex = 0;
  let fileStartByte = 0; // where file `fileIndex` begins in the files laid end to end
  for (let run = 0; run < runs; run++) {
    const [from, to] = sliceBounds(totalBytes, runs, run);
    const ranges: PlannedRange<F>[] = [];
    while (fileIndex < files.length) {
      const file = files[fileIndex]!; // fileIndex < files.length
      const fileEndByte = fileStartByte + bytesOf(file);
      const skipped = file.fromByte ?? 0;
      const startByte = Math.max(from, fileStartByte) - fileStartByte + skipped;
      const endByte = Math.min(to, fileEndByte) - fileStartByte + skipped;
      if (endByte > startByte) ranges.push({ file, startByte, endByte });
      if (fileEndByte > to) break; // the rest of this file belongs to the next runs
      fileStartByte = fileEndByte;
      fileIndex++;
    }
    parts.push(ranges);
  }
  return parts;
}
