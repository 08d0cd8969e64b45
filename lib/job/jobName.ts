/**
 * A job's name: a letter or digit, then up to 99 letters, digits, `_`, `.` or `-`. It names the job's S3 keys,
 * its checkpoint folder (`.sluice/<name>/` locally) and its metrics, so every front end (a job document's schema,
 * a module job, a control event) checks it against this one rule; `job.schema.json` holds the same pattern, and a
 * test fails when the two differ.
 */
export const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/** The most characters a job name may have: a folder name stays far below the file system's 255 bytes. */
export const MAX_JOB_NAME_CHARS = 100;

/** {@link JOB_NAME} in words, for a message that says how to fix a name: `name: must be …`. */
export const JOB_NAME_RULE =
  `at most ${MAX_JOB_NAME_CHARS} letters, digits, _ . or -, starting with a letter or digit ` +
  '(it names the store folder, the S3 keys and the metrics of the job)';
