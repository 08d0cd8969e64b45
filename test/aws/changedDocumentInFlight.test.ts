import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pausedAtFirstTask, threeBatchJob, untilFrozen } from '../helpers/frozenCoordinators';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';

/**
 * A job started again with a changed document while its coordinator runs a batch of the one before, on the
 * serverless runtime (LocalStack's S3, the real coordinator and worker handlers in our Lambda host). Until that
 * coordinator sees the change (at its next lease renewal), it goes on sending tasks planned from the old
 * document; a worker container that starts meanwhile must run them on the old document's graph. It read "the
 * job's document", found the new one, and refused them: every retry that landed on a new container failed too, and
 * the batch failed.
 */

const suffix = Math.random().toString(36).slice(2, 8);
const bucket = `sluice-in-flight-${suffix}`;
const name = `in-flight-${suffix}`;

/** The job's records tagged by the document's `version`. */
const job = (version: string) => threeBatchJob(name, `tagged-${suffix}`, `[$, "${version}"]`);

let serverless: ServerlessHost;
const invoke = (functionName: string, payload: unknown) => serverless.invoke(functionName, payload);

beforeAll(async () => {
  serverless = await startServerlessHost({
    bucket,
    moreCoordinators: { paused: pausedAtFirstTask },
  });
}, 120_000);

afterAll(async () => {
  await serverless?.stop();
});

describe('a job started again with a changed document while a batch of the old one runs', () => {
  it('runs the tasks planned from the old document on its graph, in worker containers that start after', async () => {
    // given a coordinator about to send the first task of the job's first document, and no worker container yet
    const driven = invoke('paused', { action: 'start', job: job('v1'), batches: 3 });
    await untilFrozen(serverless, 'paused', 60_000);
    expect(serverless.host.pidOf('worker')).toBeUndefined();
    // when the job is started again with another document (the coordinator function finds the lease held)
    const restarted = await invoke('coordinator', { action: 'start', job: job('v2'), batches: 3 });
    expect(restarted.error).toBeUndefined();
    // and the frozen coordinator goes on, its tasks landing on a worker container started after the new start
    process.kill(serverless.host.pidOf('paused')!, 'SIGCONT');
    // then its batches run, each on the graph its tasks were planned from
    const answer = await driven;
    expect(answer.error).toBeUndefined();
    expect(answer.lastBatch).toBe(3000);
    const first = JSON.parse(await serverless.text(`outputs/tagged-${suffix}/1000.json`));
    expect([...first.records].sort()).toEqual([
      ['a', 'v1'],
      ['b', 'v1'],
    ]);
  }, 120_000);
});
