import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lib/aws/awsClients';
import { jobStorePrefix } from '../../lib/aws/bucketLayout';
import { METADATA_KEY } from '../../lib/scheduler/CheckpointData';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';

/**
 * The losing attempt of a copied task on the serverless runtime (LocalStack's S3, our Lambda host): its worker
 * straggles until the test saw the batch's cleanup delete the batch's persisted blocks and shuffle blobs, then
 * writes its own, late. The coordinator must delete them again once the loser answered. The input is an `s3Prefix`
 * source, whose objects outlive the batch: the loser still reads it after the cleanup, as a straggler that was slow
 * computing (not reading) would have read it before.
 */

const suffix = Math.random().toString(36).slice(2, 8);
const bucket = `sluice-speculation-loser-${suffix}`;
const name = `speculation-loser-${suffix}`;
const store = jobStorePrefix(name);

/**
 * Word counts of the object under `input/`, read by the first of five batches: the map stage (two tasks on the
 * worker) persists its words in the store and writes its shuffle output there too.
 */
const job = {
  name,
  batchIntervalMs: 1000,
  shuffle: { inlineMaxBytes: 0 },
  sources: { lines: { type: 's3Prefix', bucket, prefix: 'input/', partitions: 2 } },
  streams: {
    words: { from: 'lines', ops: [{ op: 'flatMap', fn: 'splitWords' }], persist: 'blockStore' },
    counts: {
      from: 'words',
      ops: [
        { op: 'map', expr: '[$, 1]' },
        { op: 'reduceByKey', fn: 'sum', partitions: 2 },
      ],
    },
  },
  outputs: [{ stream: 'counts', type: 'print' }],
};

let serverless: ServerlessHost;
let stragglerDir: string;

beforeAll(async () => {
  stragglerDir = await mkdtemp(join(tmpdir(), 'sluice-coordinator-loser-'));
  serverless = await startServerlessHost({
    bucket,
    workerModule: 'test/aws/fixtures/stragglerWorker.ts',
    workerTimeoutMs: 60_000,
    workerEnv: { STRAGGLER_DIR: stragglerDir },
  });
  await s3Client().send(
    new PutObjectCommand({ Bucket: bucket, Key: 'input/lines.txt', Body: 'a b\nb c\nc d\nd e\n' }),
  );
}, 120_000);

afterAll(async () => {
  // Whatever happened, the straggler may answer now, so the host stops cleanly.
  if (stragglerDir) await writeFile(join(stragglerDir, 'release'), '');
  await serverless?.stop();
  if (stragglerDir) await rm(stragglerDir, { recursive: true, force: true });
});

/** The first batch's persisted blocks and shuffle blobs in the job's store. */
async function firstBatchObjects(): Promise<string[]> {
  const persisted = (await serverless.keys(`${store}persist/`)).filter((k) => k.includes('@1000/'));
  return [...persisted, ...(await serverless.keys(`${store}shuffle/1000/`))];
}

/** Resolves once the first batch completed (its checkpoint is written) and its cleanup deleted its objects. */
async function firstBatchCleanedUp(): Promise<void> {
  for (;;) {
    const checkpoint = (await serverless.keys(`${store}${METADATA_KEY}`)).length
      ? (JSON.parse(await serverless.text(`${store}${METADATA_KEY}`)) as { lastCompletedBatch: number })
      : undefined;
    if ((checkpoint?.lastCompletedBatch ?? 0) >= 1000 && (await firstBatchObjects()).length === 0) return;
    await sleep(20);
  }
}

describe('the losing attempt of a copied task on the serverless runtime', () => {
  it('leaves neither its persisted block nor its shuffle output once its batch was cleaned up', async () => {
    // given a worker whose first attempt of map task 1 hangs, and is let go once its batch's cleanup ran
    // when the coordinator drives five batches (the later ones empty: time for the loser to answer)
    const answered = serverless.invoke('coordinator', { action: 'start', job, batches: 5 });
    await firstBatchCleanedUp();
    await writeFile(join(stragglerDir, 'release'), '');
    const answer = await answered;
    // (the loser's worker ends in any case, its answer taken or not: what it wrote is in the store by then)
    while (!existsSync(join(stragglerDir, 'finished'))) await sleep(20);
    // then the copy won, the loser ran to its end after the cleanup, and nothing of the first batch is left
    expect(answer.error).toBeUndefined();
    expect(answer.batches).toBe(5);
    const status = await serverless.invoke('coordinator', { action: 'status', job: name, last: 10 });
    expect(status.batches[0].speculativeWins).toBeGreaterThanOrEqual(1);
    expect(await firstBatchObjects()).toEqual([]);
  });
});
