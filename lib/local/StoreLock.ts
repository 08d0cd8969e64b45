import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SluiceError, StoreLockedError } from '../errors';

/** The lock file's name, at the root of the store folder. */
export const LOCK_FILE = 'sluice.lock';

/** Who holds a store: what the lock file records. */
export interface LockHolder {
  readonly pid: number;
  /** The process's start time in clock ticks since boot (`/proc/<pid>/stat`), where `/proc` exists. */
  readonly startTicks?: number;
  /** When the lock was taken, ISO 8601. */
  readonly since: string;
}

/**
 * One run per store at a time. The lock is a file created exclusively (`wx`), holding the PID and the process's
 * start time: a lock whose process is gone (a run killed with `kill -9`) is stale and taken over; the start time
 * tells a live process that only reuses the dead one's PID from the run that took the lock.
 */
export class StoreLock {
  private constructor(private readonly path: string) {}

  /** Takes the store's lock, or throws `StoreLockedError` naming the PID of the run that holds it. */
  static async acquire(storeDir: string): Promise<StoreLock> {
    await mkdir(storeDir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
      // A file at the path, or at a folder of it (ENOTDIR): a store given by mistake, said as one, not a stack trace.
      const why = ['EEXIST', 'ENOTDIR'].includes(error.code ?? '')
        ? 'a file is at its path or at a folder of it'
        : error.message;
      throw new SluiceError(`cannot make the store folder ${storeDir}: ${why}; give the run another --store`);
    });
    const path = join(storeDir, LOCK_FILE);
    const me: LockHolder = {
      pid: process.pid,
      ...startTicksOf(process.pid),
      since: new Date().toISOString(),
    };
    // Two tries: a stale lock removed by this run may be retaken by a third run first, which then holds it.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(path, 'wx');
        try {
          await handle.writeFile(JSON.stringify(me));
        } finally {
          await handle.close();
        }
        return new StoreLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await readHolder(path);
      if (holder && isAlive(holder)) throw new StoreLockedError(storeDir, holder.pid, holder.since);
      await rm(path, { force: true });
    }
    const holder = await readHolder(path);
    throw new StoreLockedError(storeDir, holder?.pid, holder?.since);
  }

  /** Gives the store back. */
  async release(): Promise<void> {
    await rm(this.path, { force: true });
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const holder = JSON.parse(await readFile(path, 'utf8')) as LockHolder;
    return Number.isInteger(holder.pid) ? holder : undefined;
  } catch {
    // Unreadable or half written (its writer died between create and write): nobody holds it.
    return undefined;
  }
}

function isAlive(holder: LockHolder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTicksOf(holder.pid);
  // A zombie (exited, not yet reaped) holds nothing; another start time is another process with a reused PID.
  if (now.zombie) return false;
  return (
    holder.startTicks === undefined || now.startTicks === undefined || now.startTicks === holder.startTicks
  );
}

/** The start time of a process from `/proc/<pid>/stat` (Linux); empty where there is no `/proc`. */
function startTicksOf(pid: number): { startTicks?: number; zombie?: boolean } {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return {};
  }
  // The command name (field 2) may hold spaces and parentheses: the fields after it start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTicks = Number(fields[19]); // field 22 of the file; fields[0] is field 3, the state
  return {
    ...(Number.isFinite(startTicks) ? { startTicks } : {}),
    ...(fields[0] === 'Z' ? { zombie: true } : {}),
  };
}
