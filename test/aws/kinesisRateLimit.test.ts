import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAwsDirectReaders } from '../../lib/aws/awsDirectReaders';
import { KinesisRangeReader, type KinesisReadPart } from '../../lib/aws/KinesisRangeReader';
import { KinesisSource } from '../../lib/aws/KinesisSource';
import { openBlockStore } from '../../lib/aws/WorkerRuntime';
import { buildJob } from '../../lib/job/buildJob';
import { LogicalClock } from '../../lib/scheduler/Clock';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import { RateLimit } from '../../lib/source/RateLimit';
import type { ReadPlan } from '../../lib/source/Source';
import type { BlockStore } from '../../lib/storage/BlockStore';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { connectInProcess } from '../helpers/connectInProcess';
import { putTagged } from '../helpers/kinesisFeed';
import { testKinesisClient, testStreams } from './localstack';

// maxRatePerSec on Kinesis, against LocalStack's kinesis-mock: the cap is per shard, a batch takes at most
// rate × interval records of each shard, and the sequence numbers do not move past what it took.
const client = testKinesisClient();
const streams = testStreams(client, 'rate');
const intervalMs = 1000;
let dir: string;
let store: BlockStore;
let storeUrl: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-kinesis-rate-'));
  storeUrl = pathToFileURL(dir).href;
  store = await openBlockStore(storeUrl);
});
afterAll(async () => {
  await streams.deleteAll();
  await rm(dir, { recursive: true, force: true });
});

/** Writes `count` records to each shard, `<tag>-<shard index>-<i>`. */
const put = (streamName: string, count: number, tag: string): Promise<string[]> =>
  putTagged(client, streamName, count, tag);

/** Records of a batch per shard index, from their names. */
function perShard(records: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(r.split('-')[1]!, (counts.get(r.split('-')[1]!) ?? 0) + 1);
  return counts;
}

describe('maxRatePerSec on a Kinesis source', () => {
  it('direct reads: each batch plans at most rate × interval per shard; the rest comes later, once', async () => {
    // given a 2-shard stream with 25 records in each shard, and a cap of 10 records a second per shard
    const streamName = await streams.create(2);
    const written = await put(streamName, 25, 'a');
    const source = new KinesisSource({ client, streamName, direct: { storeUrl, settleMs: 0 } });
    const rate = new RateLimit({ maxRatePerSec: 10 });
    const reader = new KinesisRangeReader(client, (url) => openBlockStore(url));
    const plan = (batchTime: number): Promise<ReadPlan> =>
      source.planBatch(batchTime, intervalMs, 2, {
        folder: `input/n1/${batchTime}/`,
        readReport: (key) => store.get(key),
        limit: rate.forBatch(batchTime, intervalMs),
      });
    const run = async (p: ReadPlan) => {
      const records: string[] = [];
      for (const part of p.parts) records.push(...(await reader.read(part as KinesisReadPart)));
      return records;
    };
    // when batch 1 is planned, backpressure lowers the bound to 8 a second for the source (4 per shard), and
    // batch 2 is planned before batch 1's tasks reported: batch 2 must read past batch 1 by batch 1's own cap
    const plan1 = await plan(1000);
    rate.update(8);
    const plan2 = await plan(2000);
    const batch1 = await run(plan1);
    const batch2 = await run(plan2);
    // and the bound goes back up to the cap, and batches run until the stream is drained
    rate.update(1000);
    const later: string[][] = [];
    for (let t = 3000; t <= 6000; t += intervalMs) later.push(await run(await plan(t)));
    // then no batch took more than its cap from any shard
    expect([...perShard(batch1).values()]).toEqual([10, 10]);
    expect([...perShard(batch2).values()]).toEqual([4, 4]);
    for (const batch of later) for (const n of perShard(batch).values()) expect(n).toBeLessThanOrEqual(10);
    // and every record came once: none lost, none twice
    const all = [batch1, batch2, ...later].flat();
    expect(all.length).toBe(written.length);
    expect([...all].sort()).toEqual([...written].sort());
    // and a batch read again from its recorded plan takes the same records
    expect(await run(JSON.parse(JSON.stringify(plan2)))).toEqual(batch2);
  });

  it('reads by the coordinator itself: at most rate × interval per shard, the sequence numbers move no further', async () => {
    // given a 2-shard stream with 7 records in each shard, and a cap of 3 records a second per shard
    const streamName = await streams.create(2);
    const written = await put(streamName, 7, 'b');
    const source = new KinesisSource({ client, streamName });
    const rate = new RateLimit({ maxRatePerSec: 3 });
    // when 4 batches are cut
    const batches: string[][] = [];
    for (let t = 1000; t <= 4000; t += intervalMs)
      batches.push(await source.recordsFor(t, intervalMs, rate.forBatch(t, intervalMs)));
    // then the batches took 3, 3, 1 and 0 records of each shard, each record once
    expect(batches.map((b) => [...perShard(b).values()])).toEqual([[3, 3], [3, 3], [1, 1], []]);
    expect([...batches.flat()].sort()).toEqual([...written].sort());
  });

  it('a job: the engine plans each batch under the cap, the tasks read it, and every record comes once', async () => {
    // given a 2-shard stream with 25 records in each shard, and a JSON job capping its kinesis source at 10 a
    // second per shard, built as the coordinator builds it (direct reads, tasks reading through the kinesis reader)
    const streamName = await streams.create(2);
    const written = await put(streamName, 25, 'c');
    registerAwsDirectReaders((url) => openBlockStore(url));
    const jobDir = await mkdtemp(join(dir, 'job-'));
    const ssc = await buildJob(
      {
        name: 'capped',
        batchIntervalMs: intervalMs,
        sources: { tweets: { type: 'kinesis', streamName, maxRatePerSec: 10, partitions: 2 } },
        outputs: [{ stream: 'tweets', type: 'collectBatches' }],
      },
      {
        baseDir: jobDir,
        kinesisSource: (spec) =>
          new KinesisSource({
            client,
            streamName: spec.streamName ?? '',
            direct: { storeUrl: pathToFileURL(jobDir).href, settleMs: 0 },
          }),
      },
    );
    const jobStore = new LocalFolderStore(jobDir);
    connectInProcess(ssc, jobStore, jobDir);
    const batches: string[][] = [];
    ssc.addListener({ onOutput: (e) => batches.push([...(e.records as string[])]) });
    // when 4 batches run
    const summary = await new JobScheduler(ssc, new LogicalClock(), { name: 'capped' }).run({ batches: 4 });
    // then each took at most 10 records of each shard, the metrics counting them, and every record came once
    expect(summary.error).toBeUndefined();
    expect(batches.map((b) => [...perShard(b).values()])).toEqual([[10, 10], [10, 10], [5, 5], []]);
    expect(summary.batches.map((b) => b.records)).toEqual([20, 20, 10, 0]);
    expect([...batches.flat()].sort()).toEqual([...written].sort());
  });
});
