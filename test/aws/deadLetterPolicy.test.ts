import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METADATA_KEY } from '../../lib/scheduler/CheckpointData';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';

/**
 * The dead-letter policy on the serverless runtime, with no mock in the path (LocalStack's S3, the real
 * coordinator and worker handlers in our Lambda host): the coordinator runs the engine's job scheduler, so a
 * flood fails its batch there too, before the batch's dead-letter object and checkpoint are written; a start
 * with a raised share reruns the batch and writes its letters and its output once.
 */

const suffix = Math.random().toString(36).slice(2, 8);
const bucket = `sluice-dead-letter-policy-${suffix}`;
const name = `flood-${suffix}`;

/** Lines parsed as JSON: batch 1 all good, batch 2 three bad of four (75%). */
const job = (maxShare: number) => ({
  name,
  batchIntervalMs: 1000,
  deadLetters: { maxShare, minCount: 2 },
  sources: {
    lines: {
      type: 'queue',
      batches: [
        ['1', '2', '3', '4'],
        ['5', 'x', 'y', 'z'],
      ],
    },
  },
  streams: { parsed: { from: 'lines', ops: [{ op: 'map', fn: 'parseJson' }] } },
  outputs: [{ stream: 'parsed', type: 'jsonl', path: 'parsed' }],
});

let serverless: ServerlessHost;
const invoke = (functionName: string, payload: unknown) => serverless.invoke(functionName, payload);
const keys = (prefix: string) => serverless.keys(prefix);
const text = (key: string) => serverless.text(key);

beforeAll(async () => {
  serverless = await startServerlessHost({ bucket });
}, 120_000);

afterAll(async () => {
  await serverless?.stop();
});

describe('a flood of dead letters on the serverless runtime', () => {
  it('fails its batch without its dead letters, and a start with a raised share writes them once', async () => {
    // given a job that allows 25% of a batch's records as dead letters
    // when the coordinator drives its two batches and the second dead-letters 3 of its 4 lines
    const failed = await invoke('coordinator', { action: 'start', job: job(0.25), batches: 2 });
    // then the batch fails with the policy's sentence, and the bucket holds no dead letter
    expect(failed.ok).toBe(false);
    expect(failed.error).toMatch(
      /^batch 2000 failed: 3 dead letters for its 4 records \(75%\), above deadLetters\.maxShare of 25%/,
    );
    expect(await keys(`jobs/${name}/store/dead-letter/`)).toEqual([]);
    // and the checkpoint still ends at batch 1. Batch 2 is listed as pending when it was generated before batch 1's
    // checkpoint was written, and not listed otherwise (a queue source is replayable, so its generation needs no
    // checkpoint of its own): a restart reruns it either way, so both orders are right
    const checkpoint = JSON.parse(await text(`jobs/${name}/store/${METADATA_KEY}`));
    expect(checkpoint.lastCompletedBatch).toBe(1000);
    expect(checkpoint.pendingBatches.filter((t: number) => t !== 2000)).toEqual([]);
    // when the job is started again with a share of 80%
    const rerun = await invoke('coordinator', { action: 'start', job: job(0.8), batches: 2 });
    // then batch 2 runs again and completes: its three letters are one object, its output line one object
    expect(rerun.error).toBeUndefined();
    expect(rerun.lastBatch).toBe(2000);
    expect(rerun.batches).toBe(1);
    expect(await keys(`jobs/${name}/store/dead-letter/`)).toEqual([
      `jobs/${name}/store/dead-letter/2000.jsonl`,
    ]);
    const letters = (await text(`jobs/${name}/store/dead-letter/2000.jsonl`)).trim().split('\n');
    expect(letters.map((l) => JSON.parse(l).record).sort()).toEqual(['x', 'y', 'z']);
    expect(await keys('outputs/parsed/')).toEqual(['outputs/parsed/1000.json', 'outputs/parsed/2000.json']);
    expect(JSON.parse(await text('outputs/parsed/2000.json')).records).toEqual([5]);
  }, 120_000);
});
