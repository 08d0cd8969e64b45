import { spawn } from 'node:child_process';
import { join } from 'node:path';

const bin = join(new URL('../..', import.meta.url).pathname, 'lib/local/sluice.mjs');

/** How a `sluice` process ended. */
export interface SluiceExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the real CLI in a child process in `cwd`; `crashAt` (`SLUICE_CRASH_AT`, such as `output:5000`) makes that
 * process kill itself with SIGKILL at that point of that batch.
 */
export function runSluice(args: readonly string[], cwd: string, crashAt?: string): Promise<SluiceExit> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.SLUICE_CRASH_AT;
    if (crashAt) env.SLUICE_CRASH_AT = crashAt;
    const child = spawn(process.execPath, [bin, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
