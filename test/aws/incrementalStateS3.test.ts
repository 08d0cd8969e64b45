import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BlockStore } from '../../lib/aws/S3BlockStore';
import { defineJob } from '../../lib/job/JobModule';
import {
  MANY_KEYS_BATCHES,
  manyKeysJobs,
  outputsByBatch,
  runStateJob,
} from '../helpers/incrementalStateRuns';
import { longRunJobs } from '../helpers/stateCases';
import { testS3Client, uniqueName } from './localstack';

/**
 * Incremental state on the serverless runtime's store: S3 (LocalStack), with memory backed by the store as the
 * coordinator sets it. Each run is a new coordinator with fresh task containers.
 */

const client = testS3Client();
const bucket = uniqueName('state');
let scratch: string;
let cases = 0;

const freshStore = () =>
  new S3BlockStore({
    client,
    bucket,
    prefix: `case-${++cases}`,
    retry: { baseBackoffMs: 1, maxBackoffMs: 5 },
  });

beforeAll(async () => {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  scratch = await mkdtemp(join(tmpdir(), 'sluice-state-s3-'));
});

afterAll(async () => {
  client.destroy();
  await rm(scratch, { recursive: true, force: true });
});

describe('incremental state on S3 (LocalStack)', () => {
  it('writes objects of the touched keys only between snapshots: 20,000 keys, 10 touched per batch', async () => {
    // given mapWithState over 20,000 keys, 10 touched in each batch after the first, on an S3 store
    const store = freshStore();
    // when its 25 batches run
    const { summary } = await runStateJob(manyKeysJobs.mapWithState, store, scratch, MANY_KEYS_BATCHES);
    // then the state objects S3 holds for the last batch are a delta of a few hundred bytes per partition,
    // while batch 1's snapshot was written with the whole state
    expect(summary.error).toBeUndefined();
    const keys = await store.list('persist/');
    const sizeOf = async (key: string) =>
      (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: `case-${cases}/${key}` })))
        .ContentLength!;
    const last = keys.filter((k) => k.includes(`@${MANY_KEYS_BATCHES * 1000}/`));
    expect(last).toHaveLength(2);
    for (const key of last) expect(await sizeOf(key)).toBeLessThan(1_000);
    const first = keys.filter((k) => k.includes('@1000/'));
    expect(first).toHaveLength(2);
    let snapshotBytes = 0;
    for (const key of first) snapshotBytes += await sizeOf(key);
    expect(snapshotBytes).toBeGreaterThan(200_000);
  });

  it('recovers the exact state from snapshot plus deltas after a failed delta write, and cleans up', async () => {
    // given the reference: the long run (both operations, timeouts), 9 batches on S3 without a failure
    const reference = await runStateJob(longRunJobs.checkpointEvery3s, freshStore(), scratch, 9);
    expect(reference.summary.error).toBeUndefined();
    // when a run fails at the write of partition 1's delta of batch 5, and a new coordinator resumes
    const store = freshStore();
    const refused = /^persist\/n\d+@5000\/1$/;
    const crashed = await runStateJob(longRunJobs.checkpointEvery3s, store, scratch, 9, (k) =>
      refused.test(k),
    );
    expect(crashed.summary.error?.message).toMatch(/refused on purpose/);
    const resumed = await runStateJob(longRunJobs.checkpointEvery3s, store, scratch, 9);
    // then the outputs are those of the uninterrupted run, the restart read the snapshot of batch 3 and the
    // delta of batch 4, and S3 keeps only the snapshot of batch 9 (a checkpoint) for both streams
    expect(resumed.summary.error).toBeUndefined();
    expect(outputsByBatch(crashed, resumed)).toEqual(outputsByBatch(reference));
    const read = resumed.store.gets.filter((k) => k.startsWith('persist/')).map((k) => k.split('@')[1]);
    expect(read).toEqual(expect.arrayContaining(['3000/0', '4000/0']));
    const left = await store.list('persist/');
    expect([...new Set(left.map((k) => k.split('@')[1]!.split('/')[0]))]).toEqual(['9000']);
  });

  it('reads an empty partition of 0 bytes, as a worker of the previous version writes it during a deploy', async () => {
    // given a running count over 4 partitions of 2 keys (empty state partitions), 4 batches on S3, whose empty
    // partitions are 0 bytes, as the workers of yesterday's version wrote them while a deploy replaced them (a
    // coordinator of either version plans their tasks, and its checkpoint may say the store is marked)
    const sparse = defineJob(
      { batchIntervalMs: 1000, defaultPartitions: 4, checkpointIntervalMs: 2000 },
      (ssc) => {
        ssc
          .queueStream<[string, number]>([
            [['a', 1]],
            [['b', 1]],
            [['a', 1]],
            [['b', 1]],
            [['a', 1]],
            [['b', 1]],
          ])
          .updateStateByKey((values: number[], count: number | undefined) => (count ?? 0) + values.length)
          .collectBatches('counts');
      },
    );
    const store = freshStore();
    const first = await runStateJob(sparse, store, scratch, 4);
    expect(first.summary.error).toBeUndefined();
    const emptied = [];
    for (const key of await store.list('persist/')) {
      if (Buffer.from((await store.get(key))!).toString() !== '[]') continue;
      await store.put(key, '');
      emptied.push(key);
    }
    expect(emptied.length).toBeGreaterThan(0);
    // when a worker of this version reads them on
    const resumed = await runStateJob(sparse, store, scratch, 6);
    // then it counts on from the state, as an uninterrupted run does: S3 never empties a block it wrote whole, so
    // a 0-byte state block there is an empty partition, not a damaged one
    const reference = await runStateJob(sparse, freshStore(), scratch, 6);
    expect(resumed.summary.error).toBeUndefined();
    expect(outputsByBatch(first, resumed)).toEqual(outputsByBatch(reference));
  });
});
