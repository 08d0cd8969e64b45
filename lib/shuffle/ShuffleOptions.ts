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
 * From how many map × reduce pairs `auto` combines. Measured in bench/RESULTS.md ("Shuffle requests"): at
 * M = R = 4 combining already makes fewer requests (13 against 20) but its extra stage costs more time than
 * 16 ranged reads save; at M = R = 16 it is cheaper in requests (66 against 272) and in time on S3.
 */
export const DEFAULT_COMBINE_MIN_PAIRS = 256;

/** Default of `ShuffleOptions.maxMergeTasks`. */
export const DEFAULT_MAX_MERGE_TASKS = 4;

/**
 * How many map outputs each merge task of a shuffle combines, or undefined when the shuffle is read directly.
 *
 * Requests of a shuffle whose M map outputs are all stored (above the inline limit), with R reduce partitions:
 * - direct: M writes, then each reduce task reads one range of every map output: M + M·R.
 * - combining: M writes; K = ceil(M / groupSize) ≤ maxMergeTasks merge tasks each read the whole outputs of
 *   their group (M reads in all) and write one object (K writes); each reduce task reads one range of each
 *   merged object (K·R): 2M + K + K·R ≤ 2M + maxMergeTasks·(R + 1), which is O(M + R).
 * Groups hold at least two outputs: merging one output alone saves no read.
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
  return Math.max(2, Math.ceil(numMapTasks / maxMergeTasks));
}
