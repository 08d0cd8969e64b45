import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutputEvent } from '../lib/dstream/DStreamOps';
import { LocalRuntime } from '../lib/local/LocalRuntime';
import type { BatchInfo } from '../lib/scheduler/StreamingListener';

/** The file every benchmark job is exported from; worker threads re-import it. */
export const JOBS_PATH = new URL('./jobs.ts', import.meta.url).pathname;

/** One benchmark run of a job in local mode. */
export interface TrialSpec {
  /** The export name in `bench/jobs.ts`, such as `wordCount.250000.2`. */
  readonly exportName: string;
  /** `system` for real-time batches, `logical` for back-to-back batches. */
  readonly clock: 'system' | 'logical';
  /** How many batches to run. */
  readonly batches: number;
  /** Worker threads; 0 runs every task in this thread. */
  readonly workers: number;
  /** Stop early once a batch's total delay exceeds this, in milliseconds. Default: never. */
  readonly stopAboveTotalDelayMs?: number;
  /** Whether the store syncs what a restart reads (see `LocalRunOptions.fsync`). Default true. */
  readonly fsync?: boolean;
}

/** What a trial saw. */
export interface TrialResult {
  /** Every completed batch's metrics, in order. */
  readonly batches: readonly BatchInfo[];
  /** Every output batch. */
  readonly outputs: readonly OutputEvent[];
  /** True when the run was cut short by `stopAboveTotalDelayMs`. */
  readonly stoppedEarly: boolean;
  /** Set when a batch failed. */
  readonly error?: string;
}

/**
 * Runs one trial in a fresh store folder under the OS temp folder, and removes the folder afterwards. The
 * runtime's `run()` stops the sources and the worker threads itself, also when a batch fails.
 */
export async function runTrial(spec: TrialSpec): Promise<TrialResult> {
  const storeDir = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
  const outputs: OutputEvent[] = [];
  let runtime: LocalRuntime | undefined;
  let stoppedEarly = false;
  try {
    runtime = await LocalRuntime.start(
      { kind: 'module', path: JOBS_PATH, exportName: spec.exportName },
      {
        clock: spec.clock,
        batches: spec.batches,
        workers: spec.workers,
        storeDir,
        outputDir: storeDir,
        ...(spec.fsync !== undefined ? { fsync: spec.fsync } : {}),
        write: () => {},
        listeners: [
          {
            onOutput: (event) => outputs.push(event),
            onBatchCompleted: (info) => {
              const limit = spec.stopAboveTotalDelayMs;
              // A backlog this deep only grows: waiting for the remaining batches would say nothing new.
              if (limit !== undefined && info.totalDelayMs > limit && !stoppedEarly) {
                stoppedEarly = true;
                runtime?.stop();
              }
            },
          },
        ],
      },
    );
    const summary = await runtime.run();
    return {
      batches: summary.batches,
      outputs,
      stoppedEarly,
      ...(summary.error ? { error: summary.error.message } : {}),
    };
  } finally {
    await rm(storeDir, { recursive: true, force: true });
  }
}

/** The export name of a rate-indexed job: `<family>.<ratePerSec>.<partitions>`. */
export function jobName(family: 'wordCount' | 'grep', ratePerSec: number, partitions: number): string {
  return `${family}.${Math.round(ratePerSec)}.${partitions}`;
}
