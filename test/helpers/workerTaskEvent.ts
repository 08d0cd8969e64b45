import type { ActionSpec, DatasetSpec } from '../../lib/dataset/Dataset';

/**
 * The worker event of partition 0 of a one-stage, one-partition task of batch 1000, for the job stored under
 * `jobs/<job>/store/` (its document at `jobKey` there, default `job.json`; the coordinator names the version's own
 * key, `jobDocumentKey`), as the coordinator sends it. `datasets` is the stage's (none: the plan is not run far),
 * `action` its result action.
 */
export function workerTaskEvent(options: {
  readonly job: string;
  readonly jobVersion: string;
  readonly jobKey?: string;
  readonly datasets?: readonly DatasetSpec[];
  readonly action?: ActionSpec;
}) {
  return {
    jobKey: options.jobKey ?? 'job.json',
    jobVersion: options.jobVersion,
    storePrefix: `jobs/${options.job}/store/`,
    task: {
      jobId: 0,
      batchTime: 1000,
      partition: 0,
      attempt: 0,
      ...(options.action ? { action: options.action } : {}),
      stage: {
        stageId: 0,
        datasets: options.datasets ?? [],
        rootId: 0,
        numPartitions: 1,
        parentStageIds: [],
        shuffleReads: [],
        runOn: 'any',
      },
      shuffleInputs: {},
    },
  };
}
