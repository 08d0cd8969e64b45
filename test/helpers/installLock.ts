import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Runs `body` holding the lock folder `lock`, so two test runs on one machine do not build the same venv at once.
 * A lock left by a process that no longer exists is taken over; waiting longer than `timeoutMs` fails.
 */
export async function withInstallLock(
  lock: string,
  timeoutMs: number,
  body: () => Promise<void>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), `${process.pid}\n`);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readOr(join(lock, 'pid'), '0'));
      if (owner > 0 && !isAlive(owner)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${lock} is still held by process ${owner}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  try {
    await body();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** True while a process with this pid exists (EPERM: it exists, but is someone else's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}
