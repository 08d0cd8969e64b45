/**
 * The layout of the deployment's bucket, shared by the coordinator, the workers and the CDK stack, whose IAM
 * policies and lifecycle rules are written against these same prefixes:
 *
 * - `jobs/<name>/`: what the coordinator keeps per job (document, control, lease, metrics);
 * - `jobs/<name>/store/`: the job's block store, which workers read and write (input blocks, shuffles,
 *   persisted partitions, checkpoints, dead letters), and the job's documents by version, which workers build from;
 * - `outputs/`: `saveAsTextFiles` and `jsonl` outputs;
 * - `static/`: static datasets a job names by a relative path (`"path": "spam.txt"`);
 * - `input/`: objects that `s3Prefix` sources of the deployment read.
 */
export const JOBS_PREFIX = 'jobs/';
export const OUTPUTS_PREFIX = 'outputs/';
export const STATIC_PREFIX = 'static/';
export const INPUT_PREFIX = 'input/';

/** The folder of a job's block store. */
export function jobStorePrefix(job: string): string {
  return `${JOBS_PREFIX}${job}/store/`;
}

/** The folder, in a job's store, of the dead letters. */
export const DEAD_LETTER_PREFIX = 'dead-letter/';

/**
 * The key, in a job's store, of the job document whose `jobVersion` is `version`: what the coordinator's tasks name,
 * so that a worker builds the graph a task was planned from, not whichever document the job was last started with
 * (between a start with a changed document and the running coordinator's next lease renewal, its tasks are still
 * the old document's). One small object per document a job was started with; a reset deletes them with the store.
 */
export function jobDocumentKey(version: string): string {
  return `documents/${version}.json`;
}

/** The key, in a job's store, of a batch's dead letters: one object per batch that has any. */
export function deadLetterKey(batchTime: number): string {
  return `${DEAD_LETTER_PREFIX}${batchTime}.jsonl`;
}

/** The batch time of a key {@link deadLetterKey} made; undefined for any other key. */
export function batchTimeOfDeadLetterKey(key: string): number | undefined {
  const match = /^dead-letter\/(\d+)\.jsonl$/.exec(key);
  return match ? Number(match[1]) : undefined;
}

/**
 * The key, in a job's store, of the dead-letter horizon: a batch time at or after every batch whose letters were
 * written, raised before a batch's letters are written past it, so that a restore lists only the letters between
 * the last completed batch and it (see `DeadLetterHorizon`). Beside `dead-letter/`, not in it: that folder is the
 * user's output, with one object per batch.
 */
export const DEAD_LETTER_HORIZON_KEY = 'dead-letter-horizon.json';

/**
 * Keys of a job's store that only matter for a batch in flight (shuffle map outputs, spilled task results). The
 * runtime deletes them once their batch is done; they are also written with {@link TEMPORARY_TAG}, which the
 * bucket's lifecycle rule expires, so a crash never leaves them behind for good. A tag rather than a prefix,
 * because a lifecycle prefix cannot reach `jobs/<any job>/store/shuffle/`.
 */
export const TEMPORARY_PREFIXES: readonly string[] = ['shuffle/', 'spill/'];

/** The object tag of temporary keys. */
export const TEMPORARY_TAG = { key: 'sluice-temporary', value: 'true' } as const;
