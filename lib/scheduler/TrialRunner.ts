import type { BatchInfo } from './StreamingListener';

/*
 * A trial of `sluice tune`: the job run for a few batches at one configuration and input rate, whose batches the
 * stability rule (`judgeStability`) then judges. Runs in this process (`runTuneTrial`) or on the deployed stack
 * (`awsTrialRunner`); the search (`searchRate`) is the same for both.
 */

/** The configuration and input rate of one trial run. */
export interface TrialConfig {
  readonly intervalMs: number;
  /** Partitions of every input block, and of shuffles whose op names none (`defaultPartitions`). */
  readonly partitions: number;
  /** Records a second fed to every source. */
  readonly ratePerSec: number;
}

/** How a trial runs. */
export interface TrialRun {
  /** `system` for batches on wall-clock ticks, `logical` for batches back to back. */
  readonly clock: 'system' | 'logical';
  readonly batches: number;
  /** Worker threads; default one per core. */
  readonly workers?: number;
  /** Stop once a batch's total delay passes this, in ms: the backlog only grows from there. Default: never. */
  readonly stopAboveTotalDelayMs?: number;
}

/** What one trial saw. */
export interface TrialOutcome {
  readonly batches: readonly BatchInfo[];
  readonly stoppedEarly: boolean;
  readonly error?: string;
}

/** Runs one trial of a configuration at a rate: in this process, or on the deployed stack with `--aws`. */
export type TrialRunner = (config: TrialConfig, run: TrialRun) => Promise<TrialOutcome>;
