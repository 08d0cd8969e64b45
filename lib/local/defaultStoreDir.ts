import { createHash } from 'node:crypto';
import { basename, extname, join } from 'node:path';
import type { JobSource } from '../job/JobSource';
import { MAX_JOB_NAME_CHARS } from '../job/jobName';

/**
 * The store folder a job gets when none is given: `.sluice/<job name>/`, one per job, so that runs of different
 * jobs one after another each resume their own checkpoint. A document's `name`, or a module's file name and
 * export (`jobs/clicks.ts#sessions` gets `.sluice/clicks-sessions/`), made safe as one folder name.
 */
export function defaultStoreDir(job: JobSource): string {
  const name =
    job.kind === 'document'
      ? // Named before the document is validated: `null` has no name, and the run then refuses it in words.
        String((job.document as { name?: unknown } | null)?.name ?? 'job')
      : `${basename(job.path, extname(job.path))}${job.exportName ? `-${job.exportName}` : ''}`;
  // Anything but letters, digits, dots, dashes and underscores becomes a dash; no leading dot (`..`, hidden).
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^\.+/, '');
  return join('.sluice', safe === '' ? 'job' : withinNameLimit(safe));
}

/**
 * A name cut to a job name's length: a module's file name (up to 255 bytes) and its export together can pass the
 * file system's limit on one folder name (ENAMETOOLONG), and a document's name is held to the same length. The
 * cut name ends with a hash of the whole one, so that two long names sharing a beginning keep stores of their own.
 */
function withinNameLimit(name: string): string {
  if (name.length <= MAX_JOB_NAME_CHARS) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_JOB_NAME_CHARS - hash.length - 1)}-${hash}`;
}
