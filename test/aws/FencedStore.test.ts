import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lib/aws/awsClients';
import { FencedError, FencedStore } from '../../lib/aws/FencedStore';
import { S3BlockStore } from '../../lib/aws/S3BlockStore';
import { S3Lease } from '../../lib/aws/S3Lease';
import { METADATA_KEY } from '../../lib/scheduler/CheckpointData';
import { bareCheckpoint } from '../helpers/bareCheckpoint';
import { until } from '../helpers/until';
import { uniqueName } from './localstack';

// Against the LocalStack of test/aws/globalSetup.ts: S3's conditional writes are what fences a stale coordinator.
const bucket = uniqueName('fence');
let job = 0;

/** A fresh job's store and outputs, and a coordinator of `epoch` over them. */
function stores(client = s3Client()) {
  job++;
  const store = new S3BlockStore({ client, bucket, prefix: `jobs/j${job}/store/` });
  const outputs = new S3BlockStore({ client: s3Client(), bucket, prefix: `outputs/j${job}/` });
  return { store, outputs, coordinator: (epoch: number) => new FencedStore(store, outputs, epoch) };
}

const text = async (store: S3BlockStore, key: string) => {
  const bytes = await store.get(key);
  return bytes && Buffer.from(bytes).toString('utf8');
};
/** A metadata checkpoint of a job with nothing to restore but its last batch. */
const checkpoint = (lastCompletedBatch: number) => JSON.stringify(bareCheckpoint(lastCompletedBatch));

beforeAll(async () => {
  await s3Client().send(new CreateBucketCommand({ Bucket: bucket }));
});

describe('FencedStore', () => {
  it('given a successor claimed the checkpoint, when the stale coordinator writes, then every write is refused', async () => {
    // given a coordinator of epoch 1 that wrote its checkpoint, and a successor of epoch 2 that claimed it
    const { store, coordinator } = stores();
    const stale = coordinator(1);
    expect(await stale.claim()).toBeUndefined();
    await stale.put(METADATA_KEY, checkpoint(3000));
    const successor = coordinator(2);
    expect(await successor.claim()).toMatchObject({ lastCompletedBatch: 3000 });
    // when the stale one writes its next checkpoint
    const write = stale.put(METADATA_KEY, checkpoint(4000));
    // then it is refused, and so is anything it writes afterwards
    await expect(write).rejects.toThrow(FencedError);
    await expect(write).rejects.toThrow(/lease epoch 1\) no longer owns the job/);
    await expect(stale.put('persist/x/0', 'late')).rejects.toThrow(FencedError);
    await expect(stale.deletePrefix('persist/')).rejects.toThrow(FencedError);
    await expect(stale.deleteKeys(['persist/x/0'])).rejects.toThrow(FencedError);
    await expect(stale.deleteLeftovers(['shuffle/1000/a-0/0'])).rejects.toThrow(FencedError);
    // and the checkpoint is the successor's, which goes on writing
    expect(JSON.parse((await text(store, METADATA_KEY))!)).toMatchObject({
      fencingEpoch: 2,
      lastCompletedBatch: 3000,
    });
    await successor.put(METADATA_KEY, checkpoint(4000));
    expect(JSON.parse((await text(store, METADATA_KEY))!)).toMatchObject({
      fencingEpoch: 2,
      lastCompletedBatch: 4000,
    });
  });

  it('given leftovers listed before a successor claimed the job, when the stale coordinator deletes them, then they stay', async () => {
    // given shuffle blobs an earlier driver left, listed by epoch 1 before epoch 2 claimed the job
    const { store, coordinator } = stores();
    const stale = coordinator(1);
    await stale.claim();
    await stale.put(METADATA_KEY, checkpoint(0));
    await store.put('shuffle/1000/a-0/0', 'blob');
    const listed = await stale.list('shuffle/');
    const successor = coordinator(2);
    await successor.claim();
    // when the stale coordinator, not yet knowing it lost the job, deletes what it listed
    const deletion = stale.deleteLeftovers(listed);
    // then it finds out, and deletes nothing; the owner does delete them
    await expect(deletion).rejects.toThrow(FencedError);
    expect(await store.list('shuffle/')).toEqual(['shuffle/1000/a-0/0']);
    await successor.deleteLeftovers(listed);
    expect(await store.list('shuffle/')).toEqual([]);
  });

  it('given two first coordinators, when both write the first checkpoint, then only one does', async () => {
    const { coordinator } = stores();
    const [a, b] = [coordinator(1), coordinator(1)];
    await a.claim();
    await b.claim();
    const results = await Promise.allSettled([
      a.put(METADATA_KEY, checkpoint(0)),
      b.put(METADATA_KEY, checkpoint(0)),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('given an input block a checkpoint recorded, when a stale coordinator writes it again, then the block keeps its bytes', async () => {
    // given a block written and recorded by epoch 1, which then lost the job to epoch 2
    const { store, coordinator } = stores();
    const stale = coordinator(1);
    await stale.claim();
    await stale.put('input/0/1000', '["a","b"]');
    await stale.put(METADATA_KEY, checkpoint(0));
    await coordinator(2).claim();
    // when the stale coordinator writes the block again with other records
    const write = stale.put('input/0/1000', '["c"]');
    // then it is refused and the recorded bytes stay
    await expect(write).rejects.toThrow(FencedError);
    expect(await text(store, 'input/0/1000')).toBe('["a","b"]');
  });

  it('given an input block no checkpoint recorded (its writer died first), when the owner writes it, then it replaces the orphan', async () => {
    // given an orphan block left by epoch 1, and epoch 2 holding the job
    const { store, coordinator } = stores();
    const dead = coordinator(1);
    await dead.claim();
    await dead.put(METADATA_KEY, checkpoint(0));
    await dead.put('input/0/1000', '["orphan"]');
    const owner = coordinator(2);
    await owner.claim();
    // when the owner generates that batch again
    await owner.put('input/0/1000', '["fresh","records"]');
    // then the block holds its records
    expect(await text(store, 'input/0/1000')).toBe('["fresh","records"]');
  });

  it('given a complete output folder, when a batch clears its folder, then a complete one stays and a partial one goes', async () => {
    const { outputs, coordinator } = stores();
    const owner = coordinator(1);
    await owner.claim();
    await outputs.put('w-1000.txt/part-00000', '(a,1)\n');
    await outputs.put('w-1000.txt/_SUCCESS', '');
    await outputs.put('w-2000.txt/part-00000', '(b,1)\n');
    await owner.outputStore.deletePrefix('w-1000.txt/');
    await owner.outputStore.deletePrefix('w-2000.txt/');
    expect(await outputs.list('w-')).toEqual(['w-1000.txt/_SUCCESS', 'w-1000.txt/part-00000']);
  });

  it('given a successor, when the stale coordinator clears a partial output folder, then it is refused', async () => {
    const { outputs, coordinator } = stores();
    const stale = coordinator(1);
    await stale.claim();
    await stale.put(METADATA_KEY, checkpoint(0));
    await coordinator(2).claim();
    await outputs.put('w-3000.txt/part-00000', '(c,1)\n');
    await expect(stale.outputStore.deletePrefix('w-3000.txt/')).rejects.toThrow(FencedError);
    await expect(stale.outputStore.put('w-3000.txt/_SUCCESS', '')).rejects.toThrow(FencedError);
    expect(await outputs.list('w-3000')).toEqual(['w-3000.txt/part-00000']);
  });

  it('given its own checkpoint stored and not yet answered, when the coordinator checks ownership, then it owns', async () => {
    // given a coordinator whose next checkpoint S3 has stored, its answer (and the new ETag) held back
    const held = heldCheckpointAnswers();
    const { store, coordinator } = stores(held.client);
    const owner = coordinator(1);
    await owner.claim();
    await owner.put(METADATA_KEY, checkpoint(1000));
    const before = (await store.getWithEtag(METADATA_KEY))?.etag;
    held.hold();
    const writing = owner.put(METADATA_KEY, checkpoint(2000));
    await until(
      'S3 to store the checkpoint',
      async () => (await store.getWithEtag(METADATA_KEY))?.etag !== before,
      10_000,
      20,
    );
    // when it checks it still owns the job (an output's delete, meanwhile), and the answer comes once it read
    const reads = held.checkpointReads();
    const checked = owner.checkOwner();
    await until('the check to read the checkpoint', () => held.checkpointReads() > reads, 10_000, 20);
    held.release();
    // then it does: the checkpoint it read was its own (it fenced itself: it stopped the job for nothing)
    await expect(checked).resolves.toBeUndefined();
    await writing;
    await expect(owner.put('persist/x/0', 'on')).resolves.toBeUndefined();
  });
});

/**
 * An S3 client whose answers to metadata checkpoint writes wait, once `hold` is called, until `release`; it counts
 * the reads of the checkpoint answered.
 */
function heldCheckpointAnswers() {
  const client = s3Client();
  let gate: Promise<void> | undefined;
  let open = () => {};
  let reads = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (!String((args.input as { Key?: string }).Key).endsWith(METADATA_KEY)) return result;
      if (context.commandName === 'GetObjectCommand') reads++;
      if (context.commandName === 'PutObjectCommand' && gate) await gate;
      return result;
    },
    { step: 'initialize', name: 'holdCheckpointAnswers' },
  );
  return {
    client,
    checkpointReads: () => reads,
    hold: () => {
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    release: () => open(),
  };
}

describe('S3Lease epochs', () => {
  it('given a lease, when it is taken over after expiring and then broken, then each holder has the next epoch and the old ones cannot renew', async () => {
    const { store } = stores();
    const first = await S3Lease.acquire(store, 'lease.json', 'a', 1);
    expect(first?.epoch).toBe(1);
    await new Promise((r) => setTimeout(r, 5));
    const second = await S3Lease.acquire(store, 'lease.json', 'b', 60_000);
    expect(second?.epoch).toBe(2);
    expect(await first!.renew()).toBe(false);
    expect(await S3Lease.acquire(store, 'lease.json', 'c', 60_000)).toBeUndefined();
    expect(await S3Lease.breakLease(store, 'lease.json')).toBe(true);
    expect(await second!.renew()).toBe(false);
    expect((await S3Lease.acquire(store, 'lease.json', 'c', 60_000))?.epoch).toBe(4);
  });

  it('given a held lease, when a third of its TTL has not passed, then no renewal is due, and one renews after', async () => {
    const { store } = stores();
    const lease = (await S3Lease.acquire(store, 'lease.json', 'a', 60_000))!;
    const now = Date.now();
    expect(lease.renewalDue(now)).toBe(false);
    expect(lease.renewalDue(now + 10_000)).toBe(false);
    expect(lease.renewalDue(now + 20_001)).toBe(true);
    // a renewal is one conditional PUT on the ETag its last write answered, and a successor's takes it away
    expect(await lease.renew()).toBe(true);
    expect(await lease.renew()).toBe(true);
    expect(await S3Lease.breakLease(store, 'lease.json')).toBe(true);
    expect(await lease.renew()).toBe(false);
  });
});
