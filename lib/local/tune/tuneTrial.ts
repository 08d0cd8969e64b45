import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobDocument, SourceSpec } from '../../job/JobDocument';
import { maxGeneratorRatePerSec } from '../../job/jobLimits';
import type { TrialConfig, TrialOutcome, TrialRun } from '../../scheduler/TrialRunner';
import type { Source } from '../../source/Source';
import { LocalRuntime } from '../LocalRuntime';
import { SampleReplaySource } from './SampleReplaySource';

export type { TrialConfig, TrialOutcome, TrialRun } from '../../scheduler/TrialRunner';

/**
 * The job document of a trial: the user's operations untouched; the batch interval, the partitions and every
 * generator's rate set to the trial's; every other source made an empty queue, which the trial then swaps for
 * a {@link SampleReplaySource} in the driver (input blocks are made in the driver, so workers never read it).
 */
export function trialDocument(job: JobDocument, config: TrialConfig): JobDocument {
  const sources: Record<string, SourceSpec> = {};
  for (const [name, spec] of Object.entries(job.sources)) {
    sources[name] =
      spec.type === 'generator'
        ? { ...spec, ratePerSec: config.ratePerSec, partitions: config.partitions }
        : { type: 'queue', batches: [], partitions: config.partitions };
  }
  return {
    ...job,
    batchIntervalMs: config.intervalMs,
    defaultPartitions: config.partitions,
    sources,
  };
}

/**
 * The highest rate a trial of `job` at `intervalMs` may feed: what its generator sources may be given at that
 * interval (a trial sets each of them to the rate tried); unbounded for a job whose sources all replay samples.
 */
export function maxTrialRatePerSec(job: JobDocument, intervalMs: number): number {
  let max = Number.POSITIVE_INFINITY;
  for (const spec of Object.values(job.sources)) {
    if (spec.type === 'generator') max = Math.min(max, maxGeneratorRatePerSec(spec, intervalMs));
  }
  return max;
}

/**
 * Runs the job once at a configuration, in a fresh store and output folder under the OS temp folder (removed
 * afterwards), with what its outputs print thrown away: a trial measures, its results are not wanted.
 */
export async function runTuneTrial(
  job: JobDocument,
  baseDir: string,
  samples: ReadonlyMap<string, readonly unknown[]>,
  config: TrialConfig,
  run: TrialRun,
): Promise<TrialOutcome> {
  for (const [name, spec] of Object.entries(job.sources)) {
    if (spec.type !== 'generator' && !samples.has(name))
      throw new Error(`source ${name} (${spec.type}) needs a sample of records to replay: give --sample`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'sluice-tune-'));
  let runtime: LocalRuntime | undefined;
  let stoppedEarly = false;
  try {
    runtime = await LocalRuntime.start(
      { kind: 'document', document: trialDocument(job, config), baseDir },
      {
        clock: run.clock,
        batches: run.batches,
        ...(run.workers !== undefined ? { workers: run.workers } : {}),
        storeDir: join(dir, 'store'),
        outputDir: join(dir, 'out'),
        write: () => {},
        listeners: [
          {
            onBatchCompleted: (info) => {
              const limit = run.stopAboveTotalDelayMs;
              if (limit !== undefined && info.totalDelayMs > limit && !stoppedEarly) {
                stoppedEarly = true;
                runtime?.stop();
              }
            },
          },
        ],
      },
    );
    for (const input of runtime.ssc.graph.inputs) {
      const spec = job.sources[input.name];
      if (spec === undefined || spec.type === 'generator') continue;
      const sample = samples.get(input.name)!; // checked above, before anything started
      // The input stream was built over the placeholder queue; its source is only read in the driver, at each
      // batch's tick, so replacing it before the run starts changes what every batch reads and nothing else.
      (input as { source: Source }).source = new SampleReplaySource(input.name, sample, config.ratePerSec);
    }
    const summary = await runtime.run();
    return {
      batches: summary.batches,
      stoppedEarly,
      ...(summary.error ? { error: summary.error.message } : {}),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
