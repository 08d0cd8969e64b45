import { basename, extname, join } from 'node:path';
import type { JobSource } from '../job/JobSource';

/**
 * The store folder a job gets when none is given: `.sluice/<job name>/`, one per job, so that runs of different
 * jobs one after another each resume their own checkpoint. A document's `name`, or a module's file name and
 * export (`jobs/clicks.ts#sessions` gets `.sluice/clicks-sessions/`), made safe as one folder name.
 */
export function defaultStoreDir(job: JobSource): string {
  const name =
    job.kind === 'document'
      ? String((job.document as { name?: unknown }).name ?? 'job')
      : `${basename(job.path, extname(job.path))}${job.exportName ? `-${job.exportName}` : ''}`;
  // Anything but letters, digits, dots, dashes and underscores becomes a dash; no leading dot (`..`, hidden).
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^\.+/, '');
  return join('.sluice', safe === '' ? 'job' : safe);
}
