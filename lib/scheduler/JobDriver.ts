import type { Logger } from '../log/Logger';
import type { StreamingContext } from '../StreamingContext';
import type { CheckpointData } from './CheckpointData';
import type { JobScheduler, RunLimits, RunSummary } from './JobScheduler';
import type { TaskRunner } from './TaskRunner';

/** What one run of a connected job needs besides its context and scheduler; each runtime brings its own. */
export interface DriveOptions {
  /** Batches run back to back on a logical clock: receivers then cut no blocks, and sources know. */
  readonly logicalClock: boolean;
  /** The metadata checkpoint the job resumes from; without one it starts at its first batch. */
  readonly checkpoint?: CheckpointData | undefined;
  /** When the run stops by itself. Default: when stopped or a batch fails. */
  readonly limits?: RunLimits;
  /** The runners the job's tasks ran on, closed at the end. */
  readonly runners: readonly TaskRunner[];
  /** The logger the sources get as they start. Default: none. */
  readonly log?: Logger;
}

/**
 * One run of a job whose context is connected (store, outputs, runners, sinks): starts its sources and their
 * receivers, restores the checkpoint's batches, runs the scheduler until its limits, a stop or a failed batch,
 * and then, whichever way it ended, stops the receivers and the sources and closes the runners. The embedded
 * runtime (`LocalRuntime`) and the serverless coordinator (`BatchDriver`) both run a job through it, so a job
 * starts, recovers and stops in one order wherever it runs, as Spark's `JobScheduler.start`/`stop` do.
 */
export async function driveJob(
  ssc: StreamingContext,
  scheduler: JobScheduler,
  options: DriveOptions,
): Promise<RunSummary> {
  const { logicalClock, log } = options;
  const inputs = ssc.graph.inputs;
  const sources = inputs.map((i) => i.source);
  try {
    for (const source of sources)
      await source.start?.({ intervalMs: ssc.batchIntervalMs, logicalClock, ...(log ? { log } : {}) });
    // After the sources, so that a receiver reads a connected source: a socket's lines are stored as blocks while
    // each interval runs, not at its tick.
    for (const input of inputs) input.startReceiving({ logicalClock });
    if (options.checkpoint) await scheduler.restore(options.checkpoint);
    return await scheduler.run(options.limits ?? {});
  } finally {
    await Promise.all(inputs.map((input) => input.stopReceiving()));
    await Promise.all(sources.map((s) => s.stop?.()));
    await Promise.all(options.runners.map((r) => r.close()));
  }
}
