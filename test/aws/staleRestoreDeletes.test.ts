import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lib/aws/awsClients';
import { FencedError, FencedStore } from '../../lib/aws/FencedStore';
import { S3BlockStore } from '../../lib/aws/S3BlockStore';
import { StreamingContext } from '../../lib/StreamingContext';
import { METADATA_KEY } from '../../lib/scheduler/CheckpointData';
import { LogicalClock } from '../../lib/scheduler/Clock';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import { bareCheckpoint } from '../helpers/bareCheckpoint';
import { connectInProcess } from '../helpers/connectInProcess';
import { uniqueName } from './localstack';

/**
 * The deletes a coordinator's restore makes of what earlier drivers left, besides shuffle data and dead letters:
 * the blocks of a stream's datasets no checkpoint marks stored (`JobScheduler.deleteUnrestoredBlocks`) and a
 * receiver's blocks no checkpoint names (`InputDStream.deleteUnnamedBlocks`). A coordinator that claimed the job
 * and froze before its restore listed them (a long pause, a slow request retried), and woke after a successor took
 * the job over, lists what the successor wrote since: blocks its own checkpoint does not know. Against LocalStack's
 * S3 with the real fence: it must find out it lost the job before deleting them.
 */

const bucket = uniqueName('stale-restore');
let job = 0;
let dir: string;

const checkpoint = (lastCompletedBatch: number) => bareCheckpoint(lastCompletedBatch, 'stale');

/**
 * A job's store in which a coordinator of epoch 1 claimed the job and wrote its checkpoint (of batch 3000), then
 * froze, and a successor of epoch 2 claimed it from there.
 */
async function takenOver() {
  job++;
  const store = new S3BlockStore({ client: s3Client(), bucket, prefix: `jobs/s${job}/store/` });
  const outputs = new S3BlockStore({ client: s3Client(), bucket, prefix: `outputs/s${job}/` });
  const frozen = new FencedStore(store, outputs, 1);
  await frozen.claim();
  await frozen.put(METADATA_KEY, JSON.stringify(checkpoint(3000)));
  const successor = new FencedStore(store, outputs, 2);
  await successor.claim();
  return { store, frozen, successor };
}

/** The frozen coordinator's context, with `build` making its graph, over its fenced store. */
function contextOf(frozen: FencedStore, build: (ssc: StreamingContext) => void) {
  const ssc = new StreamingContext({ batchIntervalMs: 1000 });
  build(ssc);
  connectInProcess(ssc, frozen, dir);
  return { ssc, scheduler: new JobScheduler(ssc, new LogicalClock(), { name: 'stale' }) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-stale-restore-'));
  await s3Client().send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a coordinator that wakes in its restore after its successor took the job over', () => {
  it("deletes none of the stream datasets' blocks its successor stored since", async () => {
    // given a successor that stored stream n1's dataset of batch 2000 (recomputed for a window, say), which the
    // frozen coordinator's checkpoint does not mark stored
    const { store, frozen, successor } = await takenOver();
    await successor.put('persist/n1@2000/0', 'the successor’s partition');
    // when the frozen one wakes and restores its checkpoint
    const { scheduler } = contextOf(frozen, (ssc) => ssc.queueStream([['a']]).print());
    const restore = scheduler.restore(checkpoint(3000));
    // then it finds out it lost the job, and the successor's block is still there
    await expect(restore).rejects.toThrow(FencedError);
    expect(await store.list('persist/')).toEqual(['persist/n1@2000/0']);
  });

  it('deletes none of the received blocks its successor stored since', async () => {
    // given a successor whose receiver stored a block of input stream n1 under its own run's name
    const { store, frozen, successor } = await takenOver();
    const block = 'input/n1/b-successor-000000000/block';
    await successor.put(block, 'a line the successor received');
    // when the frozen one wakes and restores its checkpoint, which names no block of it
    const { ssc, scheduler } = contextOf(frozen, (ssc) => ssc.socketTextStream('127.0.0.1', 9).print());
    expect(ssc.graph.inputs.map((i) => i.id)).toEqual(['n1']);
    await scheduler.restore(checkpoint(3000));
    await ssc.cleanupsDone();
    // then the successor's block is still there
    expect(await store.list('input/')).toEqual([block]);
  });
});
