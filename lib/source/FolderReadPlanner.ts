import { type ListedFile, MAX_PART_BYTES, planByteRanges } from './ByteRangePlanner';

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
 * Splits a batch's files over at least `partitions` tasks by bytes (see `planByteRanges`): a big file is read by
 * several tasks at once, small files are grouped into one task's part, and no part is over `maxPartBytes`, so a
 * batch larger than `partitions × maxPartBytes` gets more tasks. Reading the parts in order gives the lines in file
 * order. A task that gets no byte has a null part (it reads nothing); so has every task of a batch without bytes.
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
  maxPartBytes: number = MAX_PART_BYTES,
): (FolderReadPart | null)[] {
  return planByteRanges(files, partitions, maxPartBytes).map((planned, partition) =>
    planned.length === 0
      ? null
      : {
          directory,
          ranges: planned.map(({ file, startByte, endByte }) => ({
            name: file.name,
            startByte,
            endByte,
            sizeBytes: file.sizeBytes,
          })),
          ...(reportKeyOf ? { reportKey: reportKeyOf(partition) } : {}),
        },
  );
}
