import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pausedAtFirstTask, threeBatchJob, untilFrozen } from '../helpers/frozenCoordinators';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';

/**
 * A stop sent while a coordinator runs a batch, on the serverless runtime (LocalStack's S3, the real coordinator and
 * worker handlers in our Lambda host): the stop is recorded at once, but the coordinator finishes the batch it runs,
 * so the job reads `stopping` until it let go of its lease. Answered `stopped` at once, a reset sent on that word
 * raced the batch, which went on writing its outputs after it.
 */

const suffix = Math.random().toString(36).slice(2, 8);
const bucket = `sluice-stopping-${suffix}`;
const name = `stopping-${suffix}`;

const job = threeBatchJob(name, `pairs-${suffix}`);

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

describe('a job stopped while its coordinator runs a batch', () => {
  it('reads stopping until the coordinator let go of it, then stopped, with no output after', async () => {
    // given a coordinator in the middle of the job's first batch
    const driven = invoke('paused', { action: 'start', job, batches: 3 });
    await untilFrozen(serverless, 'paused', 60_000);
    // when the job is stopped (from the idle coordinator function, as the control function does)
    const stop = await invoke('coordinator', { action: 'stop', job: name });
    // then the stop and the status say it is stopping, and what to wait for before a reset
    expect(stop).toMatchObject({ ok: true, job: name, state: 'stopping' });
    expect(stop.note).toMatch(/send status until it says "stopped" before a reset/);
    expect(await invoke('coordinator', { action: 'status', job: name })).toMatchObject({
      ok: true,
      state: 'stopping',
      lastCompletedBatch: 0,
    });
    // and when the coordinator goes on, finishes and lets go of the job
    process.kill(serverless.host.pidOf('paused')!, 'SIGCONT');
    expect((await driven).error).toBeUndefined();
    // then the job reads stopped, and every output it wrote is of a batch completed by then
    const stopped = await invoke('coordinator', { action: 'status', job: name });
    expect(stopped).toMatchObject({ ok: true, state: 'stopped' });
    expect(stopped.note).toBeUndefined();
    const written = (await serverless.keys(`outputs/pairs-${suffix}/`)).map((key) =>
      Number(key.split('/').at(-1)!.replace('.json', '')),
    );
    expect(written.length).toBeGreaterThan(0);
    expect(Math.max(...written)).toBeLessThanOrEqual(stopped.lastCompletedBatch);
  }, 120_000);
});
