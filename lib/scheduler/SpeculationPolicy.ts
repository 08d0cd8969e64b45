/** Settings of speculative execution: Spark's `spark.speculation.*`, per job. */
export interface SpeculationOptions {
  /** Launch copies of stragglers at all. Default: the runtime's choice (on with Lambda workers, off locally). */
  readonly enabled?: boolean;
  /** The fraction of a stage's tasks that must have finished before any copy is launched. Default 0.75. */
  readonly quantile?: number;
  /** A task is a straggler once it ran this many times the median of the finished ones. Default 1.4. */
  readonly multiplier?: number;
  /** Nor before it ran this long, in ms: a copy of a short task only adds load. Default 100. */
  readonly minTaskRuntimeMs?: number;
}

/**
 * Spark's speculation rule, as the D-Streams paper uses it against stragglers: once `quantile` of a stage's
 * tasks finished, a task still running after `multiplier` × the median duration of the finished ones (and
 * at least `minTaskRuntimeMs`) gets one speculative copy, and the first result wins. The rule only judges;
 * the DAG scheduler tracks the durations and launches the copies on its runner.
 *
 * @example
 * const policy = new SpeculationPolicy({ quantile: 0.5 });
 * policy.thresholdMs([40, 60], 4); // 84: tasks of this stage running longer than 84 ms get a copy
 */
export class SpeculationPolicy {
  /** The fraction of tasks that must have finished first. */
  readonly quantile: number;
  /** How many times the median a straggler has run. */
  readonly multiplier: number;
  /** The least running time of a straggler, in ms. */
  readonly minTaskRuntimeMs: number;

  constructor(options: Omit<SpeculationOptions, 'enabled'> = {}) {
    const { quantile = 0.75, multiplier = 1.4, minTaskRuntimeMs = 100 } = options;
    if (!(quantile > 0 && quantile <= 1)) {
      throw new RangeError(`speculation quantile must be above 0 and at most 1, got ${quantile}`);
    }
    if (!(Number.isFinite(multiplier) && multiplier >= 1)) {
      throw new RangeError(`speculation multiplier must be a number of at least 1, got ${multiplier}`);
    }
    if (!(Number.isFinite(minTaskRuntimeMs) && minTaskRuntimeMs >= 0)) {
      throw new RangeError(
        `speculation minTaskRuntimeMs must be a number of ms of zero or more, got ${minTaskRuntimeMs}`,
      );
    }
    this.quantile = quantile;
    this.multiplier = multiplier;
    this.minTaskRuntimeMs = minTaskRuntimeMs;
  }

  /**
   * How long a task of the stage may run before it gets a copy, given the durations of the tasks that finished
   * (in ms); undefined while too few finished to judge.
   */
  thresholdMs(finishedDurationsMs: readonly number[], numTasks: number): number | undefined {
    // Spark's count: floor(quantile × tasks), at least one, so a one-task stage is never speculated.
    const needed = Math.max(1, Math.floor(this.quantile * numTasks));
    if (finishedDurationsMs.length < needed || finishedDurationsMs.length >= numTasks) return undefined;
    return Math.max(this.multiplier * median(finishedDurationsMs), this.minTaskRuntimeMs);
  }
}

/** The median of a non-empty list: the middle value, or the mean of the two middle ones. */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
