import { createHash } from 'node:crypto';

/**
 * A short digest of a job document, which the coordinator sends with every task: a worker keeps each job's graph
 * built across invocations, and a job started again under the same name with another document (its expressions,
 * its ops) must not run tasks on the graph of the one before. The document is hashed as JSON text, which is the
 * same for the coordinator and the worker, since both parse the text `start` wrote.
 */
export function jobVersion(document: unknown): string {
  return createHash('sha256').update(JSON.stringify(document)).digest('hex').slice(0, 16);
}

/** What a version {@link jobVersion} makes looks like: the worker event's schema checks `jobVersion` with it. */
export const JOB_VERSION_PATTERN = '^[0-9a-f]{16}$';

/** Whether a text is a version {@link jobVersion} makes. */
export function isJobVersion(text: unknown): text is string {
  return typeof text === 'string' && new RegExp(JOB_VERSION_PATTERN).test(text);
}
