import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BlockStore } from '../../lib/aws/S3BlockStore';
import { StreamingContext } from '../../lib/StreamingContext';
import { type CheckpointData, METADATA_KEY, readCheckpoint } from '../../lib/scheduler/CheckpointData';
import { LogicalClock } from '../../lib/scheduler/Clock';
import { driveJob } from '../../lib/scheduler/JobDriver';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import type { BlockStore } from '../../lib/storage/BlockStore';
import { transformAndForeachPersisted } from '../helpers/bodyPersistJobs';
import { connectInProcess } from '../helpers/connectInProcess';
import { testS3Client, uniqueName } from './localstack';

/**
 * Datasets persisted inside `transform` and `foreachRDD` on the serverless runtime's store: S3 (LocalStack), with
 * memory backed by the store as the coordinator sets it. A coordinator that died after a checkpoint and before its
 * cleanup must not leave their blocks in the bucket for good.
 */

const client = testS3Client();
const bucket = uniqueName('body');
let scratch: string;

beforeAll(async () => {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  scratch = await mkdtemp(join(tmpdir(), 'sluice-body-s3-'));
});

afterAll(async () => {
  client.destroy();
  await rm(scratch, { recursive: true, force: true });
});

/**
 * The store as a coordinator sees it that stops dead once it wrote the checkpoint completing `batchTime`: every
 * later call hangs, as a frozen or killed process's would. `died` resolves then.
 */
function dyingAfterCheckpoint(store: S3BlockStore, batchTime: number) {
  let dead = false;
  let died = () => {};
  const diedPromise = new Promise<void>((resolve) => {
    died = resolve;
  });
  const alive = <R>(call: () => Promise<R>): Promise<R> => (dead ? new Promise<R>(() => {}) : call());
  const dying: BlockStore = {
    put: (key, bytes) =>
      alive(async () => {
        await store.put(key, bytes);
        if (key !== METADATA_KEY) return;
        dead = (JSON.parse(String(bytes)) as CheckpointData).lastCompletedBatch === batchTime;
        if (dead) died();
      }),
    get: (key) => alive(() => store.get(key)),
    getRange: (key, start, end) => alive(() => store.getRange(key, start, end)),
    list: (prefix) => alive(() => store.list(prefix)),
    deletePrefix: (prefix) => alive(() => store.deletePrefix(prefix)),
    deleteKeys: (keys) => alive(() => store.deleteKeys(keys)),
  };
  return { store: dying, died: diedPromise };
}

/** One coordinator running the job on `store` up to batch `batches`; it is not awaited when it dies. */
function coordinator(store: BlockStore, batches: number, checkpoint?: CheckpointData) {
  const ssc = new StreamingContext({ batchIntervalMs: 1000 });
  transformAndForeachPersisted(ssc);
  const runner = connectInProcess(ssc, store, scratch, { memoryBackedByStore: true });
  const run = driveJob(ssc, new JobScheduler(ssc, new LogicalClock(), { name: 'body' }), {
    logicalClock: true,
    checkpoint,
    limits: { batches },
    runners: [runner],
  });
  return { ssc, run };
}

describe('datasets persisted inside transform and foreachRDD on S3 (LocalStack)', () => {
  it('are deleted by the next coordinator when the one before died between a checkpoint and its cleanup', async () => {
    // given a coordinator that died once batch 2's checkpoint was written, which lists what batch 2's bodies
    // persisted, before the cleanup that deletes it
    const store = new S3BlockStore({ client, bucket, prefix: 'died' });
    const dying = dyingAfterCheckpoint(store, 2000);
    void coordinator(dying.store, 4).run;
    await dying.died;
    const left = (await store.list('persist/')).filter((key) => /^persist\/n\d+\.\d+@2000\//.test(key));
    expect(left).toHaveLength(2);
    // and, unlisted, a block of batch 1 that its cleanup was still deleting then
    await store.put(left[0]!.replace('@2000/', '@1000/'), (await store.get(left[0]!))!);
    // when the next coordinator resumes the job, up to batch 4
    const next = coordinator(store, 4, await readCheckpoint(store));
    const summary = await next.run;
    // then the bucket holds nothing of those batches' bodies, and the coordinator tracks none of them: only the last
    // batch's transform result, which its stream remembers for its slide (an output remembers no batch)
    expect(summary.error).toBeUndefined();
    expect((await store.list('persist/')).filter((key) => !key.startsWith('persist/n2.0@4000/'))).toEqual([]);
    expect(next.ssc.persistence.size).toBe(1);
  });
});
