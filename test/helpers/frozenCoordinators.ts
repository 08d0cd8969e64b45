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

/**
 * A coordinator function for `moreCoordinators` that stops itself as it is about to send its first worker
 * invocation, mid batch, holding a lease of a minute: still held however long a test takes to send its events, and
 * not renewed (so no stop or new start is seen) before a short job's last batch.
 */
export const pausedAtFirstTask = {
  module: new URL('../aws/fixtures/pausingCoordinator.ts', import.meta.url).pathname,
  env: { SLUICE_TEST_PAUSE_AT: 'task:1', SLUICE_LEASE_TTL_MS: '60000' },
} as const;

/**
 * A job of three batches of two distinct keys in two partitions, so that each batch's tasks go to the worker,
 * each key mapped by `expr` and written to the `jsonl` output `outputs/<path>/`.
 */
export function threeBatchJob(name: string, path: string, expr = '[$, 1]') {
  return {
    name,
    batchIntervalMs: 1000,
    defaultPartitions: 2,
    sources: {
      keys: {
        type: 'queue',
        batches: [
          ['a', 'b'],
          ['c', 'd'],
          ['e', 'f'],
        ],
      },
    },
    streams: { pairs: { from: 'keys', ops: [{ op: 'map', expr }] } },
    outputs: [{ stream: 'pairs', type: 'jsonl', path }],
  };
}
