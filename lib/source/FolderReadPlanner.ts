import { sliceBounds } from '../dataset/Dataset';

/** A file of a folder batch, as the listing saw it. */
export interface ListedFile {
  /** The file's name inside the folder. */
  readonly name: string;
  /** Its size when the batch was planned: the task reads no byte past it, even if the file grew since. */
  readonly sizeBytes: number;
}

/**
 * One byte range of a file (Hadoop's file split): the task reads the lines that START inside
 * [`startByte`, `endByte`), the last one to its end, so a line crossing into the next range is read once, here.
 */
export interface FolderFileRange {
  readonly name: string;
  readonly startByte: number;
  readonly endByte: number;
  /** The file's size when planned (see {@link ListedFile.sizeBytes}). */
  readonly sizeBytes: number;
}

/** What one task of a folder batch reads: these ranges, in this order, as lines. */
export interface FolderReadPart {
  /** The folder the files are in. */
  readonly directory: string;
  readonly ranges: readonly FolderFileRange[];
  /** Where in the job's store the task writes how many lines it read (`{"records": n}`), for the metrics. */
  readonly reportKey?: string;
}

/**
 * Splits a batch's files over `partitions` tasks by bytes, as Hadoop's input format does: the files, in the
 * given order, are laid end to end and cut into `partitions` runs of (nearly) equal bytes. So a big file is read
 * by several tasks at once, small files are grouped into one task's part, and reading the parts in partition
 * order gives the lines in file order. A partition that gets no byte has a null part (it reads nothing); so has
 * every partition of a batch without bytes.
 *
 * @example
 * planFolderParts('/in', [{ name: 'a.txt', sizeBytes: 10 }, { name: 'b.txt', sizeBytes: 30 }], 2, (p) => `r-${p}`);
 * // [{ directory: '/in', ranges: [a.txt 0–10, b.txt 0–10], reportKey: 'r-0' },
 * //  { directory: '/in', ranges: [b.txt 10–30], reportKey: 'r-1' }]
 */
export function planFolderParts(
  directory: string,
  files: readonly ListedFile[],
  partitions: number,
  reportKeyOf?: (partition: number) => string,
): (FolderReadPart | null)[] {
  const totalBytes = files.reduce((sum, file) => sum + file.sizeBytes, 0);
  const parts: (FolderReadPart | null)[] = [];
  let fileIndex = 0;
  let fileStartByte = 0; // where file `fileIndex` begins in the files laid end to end
  for (let partition = 0; partition < partitions; partition++) {
    const [from, to] = sliceBounds(totalBytes, partitions, partition);
    const ranges: FolderFileRange[] = [];
    while (fileIndex < files.length) {
      const file = files[fileIndex]!; // fileIndex < files.length
      const fileEndByte = fileStartByte + file.sizeBytes;
      const startByte = Math.max(from, fileStartByte) - fileStartByte;
      const endByte = Math.min(to, fileEndByte) - fileStartByte;
      if (endByte > startByte) {
        ranges.push({ name: file.name, startByte, endByte, sizeBytes: file.sizeBytes });
      }
      if (fileEndByte > to) break; // the rest of this file belongs to the next partitions
      fileStartByte = fileEndByte;
      fileIndex++;
    }
    parts.push(
      ranges.length === 0
        ? null
        : { directory, ranges, ...(reportKeyOf ? { reportKey: reportKeyOf(partition) } : {}) },
    );
  }
  return parts;
}
