import { registerDirectReader } from '../source/directReaders';
import { readFolderPart } from '../source/FolderPartReader';
import type { FolderReadPart } from '../source/FolderReadPlanner';

/**
 * Registers the readers of the local runtime's planned input in this process, the driver's or a worker thread's:
 * `folder`, a task's byte ranges of a folder source's files (see `TextFileSource.planBatch`). Each task reports
 * how many lines it read into its batch's folder of the store, which the source sums for the batch's metrics.
 */
export function registerLocalDirectReaders(): void {
  registerDirectReader('folder', async (part, ctx) => {
    const folderPart = part as FolderReadPart; // the folder source plans only FolderReadParts under this name
    const lines = await readFolderPart(folderPart);
    if (folderPart.reportKey !== undefined) {
      await ctx.putReport(folderPart.reportKey, JSON.stringify({ records: lines.length }));
    }
    return lines;
  });
}
