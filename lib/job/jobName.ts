/**
 * A job's name: a letter or digit, then up to 99 letters, digits, `_`, `.` or `-`. It names the job's S3 keys,
 * its checkpoint folder and its metrics, so every front end (a job document, a module job, a control event)
 * checks it against this one rule.
 */
export const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
