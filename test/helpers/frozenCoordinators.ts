import { readFileSync } from 'node:fs';
import type { ServerlessHost } from './serverlessHost';
import { until } from './until';

/**
 * What the chaos tests of the serverless runtime share: a coordinator that stops itself (SIGSTOP, see
 * test/aws/fixtures/pausingCoordinator.ts) is watched through /proc, and its job is taken over once its lease
 * expired.
 */

/** The state letter of a process in /proc (T: stopped), or undefined once it is gone. */
export function processState(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
  } catch {
    return undefined;
  }
}

/** Waits until coordinator function `fn` of the host has stopped itself. */
export function untilFrozen(
  serverless: ServerlessHost,
  fn: string,
  timeoutMs = 30_000,
  pollMs = 100,
): Promise<void> {
  return until(
    `${fn} to freeze`,
    () => processState(serverless.host.pidOf(fn) ?? 0) === 'T',
    timeoutMs,
    pollMs,
  );
}

/** Waits until job `name`'s lease has expired, so that the next coordinator can take the job over. */
export function untilLeaseExpired(serverless: ServerlessHost, name: string, pollMs = 100): Promise<void> {
  return until(
    `job ${name}'s lease to expire`,
    async () => JSON.parse(await serverless.text(`jobs/${name}/lease.json`)).expiresAtMs < Date.now(),
    30_000,
    pollMs,
  );
}
