import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';

/**
 * Runs a command to completion, appending its output to `log`; rejects on failure or after `timeoutMs` with the
 * end of the log, which is where the reason is.
 */
export function runLogged(
  command: string,
  args: readonly string[],
  log: string,
  timeoutMs: number,
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const fd = openSync(log, 'a');
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      stdio: ['ignore', fd, fd],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else {
        reject(
          new Error(
            `${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}); the end of ${log}:\n${tailOf(log, 40)}`,
          ),
        );
      }
    });
  });
}

/** The last `lines` lines of a file, or nothing when it cannot be read. */
export function tailOf(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
