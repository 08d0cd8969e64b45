import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';
import { until } from '../helpers/until';

/**
 * A running job started again with a changed document, on the serverless runtime (LocalStack's S3, the real
 * coordinator, control and worker handlers in our Lambda host): the coordinator driving it hands over to one that
 * builds the new document, and every batch is written once. It drove the old graph on to the end of its invocation
 * (minutes on AWS) while the start answered "started", and a worker that read the new document refused its tasks.
 */

const suffix = Math.random().toString(36).slice(2, 8);
const bucket = `sluice-restarted-${suffix}`;
const name = `restarted-${suffix}`;
const BATCHES = 12;

/** Each batch's one record, paired with `weight`: which document computed a batch shows in its output. */
const job = (weight: number) => ({
  name,
  batchIntervalMs: 1000,
  defaultPartitions: 2,
  sources: { keys: { type: 'queue', batches: Array.from({ length: BATCHES }, (_, i) => [`b${i + 1}`]) } },
  streams: { pairs: { from: 'keys', ops: [{ op: 'map', expr: `[$, ${weight}]` }] } },
  outputs: [{ stream: 'pairs', type: 'jsonl', path: `pairs-${suffix}` }],
});

let serverless: ServerlessHost;
const control = (payload: unknown) => serverless.invoke('control', payload);
const status = () => control({ action: 'status', job: name, last: 100 });

beforeAll(async () => {
  serverless = await startServerlessHost({
    bucket,
    // Hands over to itself, as the stack's coordinator does.
    coordinatorEnv: { SLUICE_COORDINATOR_FUNCTION: 'coordinator' },
    moreCoordinators: {
      control: { module: 'functions/control.ts', env: { SLUICE_COORDINATOR_FUNCTION: 'coordinator' } },
    },
  });
}, 120_000);

afterAll(async () => {
  await serverless?.stop();
});

describe('a running job started again with a changed document', () => {
  it('goes on with the new document from a batch on, each batch written once', async () => {
    // given a job running its batches
    expect(await control({ action: 'start', job: job(1), batches: BATCHES })).toMatchObject({ ok: true });
    await until('two batches', async () => (await status()).lastCompletedBatch >= 2000, 60_000, 100);
    // when it is started again with a changed expression
    expect(await control({ action: 'start', job: job(2), batches: BATCHES })).toMatchObject({ ok: true });
    await until(
      'the job to finish',
      async () => {
        const s = await status();
        return s.state === 'stopped' && s.lastCompletedBatch === BATCHES * 1000;
      },
      120_000,
      200,
    );
    // then every batch completed once, without an error, and wrote its one output
    const done = await status();
    expect(done.batches.map((b: { batchTime: number; error?: string }) => [b.batchTime, b.error])).toEqual(
      Array.from({ length: BATCHES }, (_, i) => [(i + 1) * 1000, undefined]),
    );
    const weights: number[] = [];
    for (let i = 1; i <= BATCHES; i++) {
      const line = JSON.parse(await serverless.text(`outputs/pairs-${suffix}/${i * 1000}.json`));
      expect(line.records).toHaveLength(1);
      expect(line.records[0][0]).toBe(`b${i}`);
      weights.push(line.records[0][1]);
    }
    // and the batches before the change used the old document, those after it the new one, the last one among them
    const switchedAt = weights.indexOf(2);
    expect(switchedAt).toBeGreaterThanOrEqual(2);
    expect(weights).toEqual(weights.map((_, i) => (i < switchedAt ? 1 : 2)));
  }, 240_000);
});
