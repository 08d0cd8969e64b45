/**
 * How a job's shuffles are carried (`StreamingContextOptions.shuffle`).
 *
 * @example
 * defineJob({ batchIntervalMs: 1000, shuffle: { combine: 'never' } }, (ssc) => { … });
 */
export interface ShuffleOptions {
  /**
   * `auto` combines a shuffle (see `ShuffleMerger`) whose map tasks × reduce partitions reach
   * `combineMinPairs`; `always` and `never` force the choice. Default `auto`.
   */
  readonly combine?: 'auto' | 'always' | 'never';
  /** The map × reduce pairs from which `auto` combines. Default `DEFAULT_COMBINE_MIN_PAIRS`. */
  readonly combineMinPairs?: number;
  /** The most merge tasks a combining shuffle runs: each reduce task reads one range from each. Default 4. */
  readonly maxMergeTasks?: number;
  /** Map outputs up to this many bytes travel with the task statuses, not through storage. Default 64 KiB. */
  readonly inlineMaxBytes?: number;
}

/**
 * From how many map × reduce pairs `auto` combines. Measured (bench/RESULTS.md, "Shuffle requests"): combining
 * makes fewer requests from M = R = 4 on (13 against 20), and on the emulators it was as fast or faster from
 * M = R = 8 on. The in-process benchmark does not see what the merge stage costs on Lambda: one more round of
 * invocations plus an S3 write and read (about 100 ms), more than a few ranged reads cost; from 256 pairs
 * (M = R = 16: 66 requests against 272) the saving is 4× the requests and clearly the time.
 */
export const DEFAULT_COMBINE_MIN_PAIRS = 256;

/** Default of `ShuffleOptions.maxMergeTasks`. */
export const DEFAULT_MAX_MERGE_TASKS = 4;

/**
 * The fewest map outputs a merge task combines (fewer when the shuffle has fewer). Each merge task costs a
 * task, a write and one ranged read per reducer, so fewer, larger groups save requests; the bound is the bytes
 * one task holds (a group's outputs), which `maxMergeTasks` caps from the other side.
 */
export const MIN_MERGE_GROUP = 8;

/**
 * How many map outputs each merge task of a shuffle combines, or undefined when the shuffle is read directly.
 *
 * Requests of a shuffle whose M map outputs are all stored (above the inline limit), with R reduce partitions:
 * - direct: M writes, then each reduce task reads one range of every map output: M + M·R.
 * - combining: M writes; K = ceil(M / groupSize) ≤ maxMergeTasks merge tasks each read the whole outputs of
 *   their group (M reads in all) and write one object (K writes); each reduce task reads one range of each
 *   merged object (K·R): 2M + K + K·R ≤ 2M + maxMergeTasks·(R + 1), which is O(M + R).
 * With groups of at least `MIN_MERGE_GROUP`: M = R = 4 gives 13 against 20, 16 gives 66 against 272, 64 gives
 * 388 against 4,160. At run time a group with fewer than two stored outputs is not merged (`groupsToMerge`).
 */
export function mergeGroupSize(
  numMapTasks: number,
  numReducePartitions: number,
  options: ShuffleOptions = {},
): number | undefined {
  const combine = options.combine ?? 'auto';
  if (combine === 'never' || numMapTasks < 2) return undefined;
  if (
    combine === 'auto' &&
    numMapTasks * numReducePartitions < (options.combineMinPairs ?? DEFAULT_COMBINE_MIN_PAIRS)
  )
    return undefined;
  const maxMergeTasks = Math.max(1, options.maxMergeTasks ?? DEFAULT_MAX_MERGE_TASKS);
  return Math.max(MIN_MERGE_GROUP, Math.ceil(numMapTasks / maxMergeTasks));
}
