/**
 * Spark's `rdd.saveAsTextFile(path)`, the action that writes a dataset as a folder of text files, and the writer
 * behind it that `DStream.saveAsTextFiles` uses for each batch's folder, as Spark's does (`foreachRDD(rdd =>
 * rdd.saveAsTextFile(file))`): one `part-NNNNN` per partition, written by the partition's task where the other
 * tasks run (a worker thread, a Lambda worker), each record's line as `formatRecord` shows it, then `_SUCCESS`.
 */

import { posix } from 'node:path';
import { SluiceError } from '../errors';
import type { ValueShape } from '../executor/ValueShape';
import { outputPathProblem } from '../job/outputPathProblem';
import { crashPoint } from '../scheduler/crashPoint';
import type { BlockStore } from '../storage/BlockStore';
import { Dataset } from './Dataset';
import { defineMethod } from './defineMethod';

declare module './Dataset' {
  interface Dataset<T> {
    /**
     * Writes the dataset as a folder of text files (an action; Spark's `saveAsTextFile`): `part-00000`… one per
     * partition, a record per line (a string as it is, a `[key, value]` pair as `(key,value)`, anything else as
     * JSON, as `saveAsTextFiles` writes them), then an empty `_SUCCESS`. `path` is relative to the output folder
     * (`--out` locally, `outputs/` in the bucket on AWS). A folder already there is rewritten whole, so a batch
     * run again after a crash leaves the same folder; name it by the batch time to keep every batch's.
     *
     * @example
     * counts.foreachRDD(async (rdd, batchTime) => rdd.saveAsTextFile(`counts/${batchTime}`));
     */
    saveAsTextFile(path: string): Promise<void>;
  }
}

/** The key of partition `partition`'s file in the folder `path`, as Hadoop's `FileOutputFormat` names it. */
export function textPartKey(path: string, partition: number): string {
  return `${path}/part-${String(partition).padStart(5, '0')}`;
}

/**
 * Writes `ds` as the text folder `path` of the output store and returns how many records each partition wrote.
 *
 * Spark refuses a folder that exists (`FileAlreadyExistsException`), but its streaming scheduler turns that check
 * off for batch jobs (`disableOutputSpecValidation`), since a batch rerun after recovery writes the same folder
 * again. Sluice's `foreachRDD` is at least once as well, so refusing would fail every rerun of a batch that got as
 * far as `_SUCCESS` before the crash. The folder is rewritten whole instead, `_SUCCESS` last: what was there is
 * removed first (locally all of it; on S3 an incomplete folder, as a complete one may be a successor
 * coordinator's, see `FencedStore`), and files that this write did not rewrite (the parts of an earlier write
 * with more partitions) are removed before `_SUCCESS`, so a rerun leaves the same folder as the first run.
 */
export async function saveTextFolder(
  ds: Dataset,
  path: string,
  valueShape: ValueShape = 'plain',
): Promise<number[]> {
  const { ctx, scope } = ds.driverContext();
  if (ctx.refusesAction?.('saveAsTextFile')) return new Promise(() => {});
  const outputs = ctx.outputStore();
  const folder = `${path}/`;
  const marker = `${path}/_SUCCESS`;
  const earlier = await unlessUnwritable(path, () => outputs.list(folder));
  if (earlier.length > 0) await unlessUnwritable(path, () => outputs.deletePrefix(folder));
  let counts: number[];
  try {
    counts = (await ctx.runJob(
      ds,
      valueShape === 'plain' ? { type: 'saveText', path } : { type: 'saveText', path, valueShape },
      scope.job,
    )) as number[];
    const written = new Set(counts.map((_, partition) => textPartKey(path, partition)));
    const stale = earlier.filter((key) => key !== marker && !written.has(key));
    if (stale.length > 0) await deleteKeys(outputs, stale);
  } catch (error) {
    // A failed write leaves no partial folder behind.
    await outputs.deletePrefix(folder);
    throw error;
  }
  const job = scope.job;
  if (job !== undefined) crashPoint('output', job.batch.batchTime);
  await outputs.put(marker, '');
  // Complete, yet not a result while its batch can still fail (a later output, a flood of dead letters).
  job?.batch.onFailure(() => outputs.deletePrefix(folder));
  return counts;
}

async function deleteKeys(outputs: BlockStore, keys: readonly string[]): Promise<void> {
  if (outputs.deleteKeys) return outputs.deleteKeys(keys);
  await Promise.all(keys.map((key) => outputs.deletePrefix(key)));
}

/**
 * Runs a store call on the folder `path`, turning a failure into a sentence that names the folder: locally a file
 * where the folder (or one above it) should be fails with a bare `ENOTDIR`.
 */
async function unlessUnwritable<R>(path: string, call: () => Promise<R>): Promise<R> {
  try {
    return await call();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SluiceError(
      `cannot write the text folder ${JSON.stringify(path)} in the output folder: ${reason}; ` +
        'is a file there, or above it, where the folder should be?',
    );
  }
}

/** The folder `path` names, as a key prefix of the output store: relative, inside it, without `.` or a trailing `/`. */
function textFolderPath(path: unknown): string {
  if (typeof path !== 'string' || path === '') {
    throw new TypeError(`saveAsTextFile needs a folder path, got ${JSON.stringify(path) ?? String(path)}`);
  }
  const problem = outputPathProblem(path, false);
  const normalized = posix.normalize(path.replaceAll('\\', '/')).replace(/\/+$/, '');
  if (problem !== undefined) throw new RangeError(`saveAsTextFile's path ${JSON.stringify(path)} ${problem}`);
  if (normalized === '.' || normalized === '') {
    throw new RangeError(
      `saveAsTextFile's path ${JSON.stringify(path)} names the output folder itself; name a folder inside it`,
    );
  }
  return normalized;
}

defineMethod(Dataset.prototype, 'saveAsTextFile', async function (this: Dataset<any>, path: string) {
  await saveTextFolder(this, textFolderPath(path));
});
