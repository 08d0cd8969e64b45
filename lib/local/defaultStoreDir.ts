import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import type { JobSource } from '../job/JobSource';
import { MAX_JOB_NAME_CHARS } from '../job/jobName';
import { METADATA_KEY } from '../scheduler/CheckpointData';

/**
 * The store folder a job gets when none is given: `.sluice/<job name>/`, one per job, so that runs of different
 * jobs one after another each resume their own checkpoint. A document's `name`, or a module's whole file name and
 * export (`jobs/clicks.ts#sessions` gets `.sluice/clicks.ts-sessions/`), made safe as one folder name. The file's
 * extension is part of it: `job.ts` and `job.mjs` in one folder are two jobs, with two stores.
 */
export function defaultStoreDir(job: JobSource): string {
  // Named before the document is validated: `null` has no name, and the run then refuses it in words.
  if (job.kind === 'document')
    return storeFolder(String((job.document as { name?: unknown } | null)?.name ?? 'job'));
  return storeFolder(moduleStoreName(job, basename(job.path)));
}

/**
 * {@link defaultStoreDir}, or the store an earlier Sluice gave the same module, named without the file's
 * extension (`.sluice/clicks-sessions/`), when that store holds this module's checkpoint and the new one does not
 * exist yet: a job that was running resumes its checkpoint instead of starting over. A store of that old name
 * holding another module's checkpoint (`job.mjs`'s, for `job.ts`) is left to it.
 */
export async function existingStoreDir(job: JobSource): Promise<string> {
  const dir = defaultStoreDir(job);
  if (job.kind === 'document') return dir;
  const old = storeFolder(moduleStoreName(job, basename(job.path, extname(job.path))));
  if (old === dir || (await stat(dir).catch(() => undefined)) !== undefined) return dir;
  return (await checkpointJobName(old)) === resolve(job.path) ? old : dir;
}

/** The module path a store's metadata checkpoint was written for (a module job's name), resolved; or undefined. */
async function checkpointJobName(storeDir: string): Promise<string | undefined> {
  try {
    const { jobName } = JSON.parse(await readFile(join(storeDir, METADATA_KEY), 'utf8')) as {
      jobName?: unknown;
    };
    return typeof jobName === 'string' ? resolve(jobName) : undefined;
  } catch {
    return undefined; // no checkpoint, or a damaged one: nothing to resume there
  }
}

/** A module job's store name: its file's name as given (`clicks.ts`, or `clicks` as before), then its export's. */
function moduleStoreName(job: { readonly exportName?: string | undefined }, fileName: string): string {
  return `${fileName}${job.exportName ? `-${job.exportName}` : ''}`;
}

/** `.sluice/<name>`, with the name made safe as one folder name. */
function storeFolder(name: string): string {
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
