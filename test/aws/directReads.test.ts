import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type KinesisClient, ListShardsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KinesisRangeReader, type KinesisReadPart } from '../../lib/aws/KinesisRangeReader';
import { KinesisSource } from '../../lib/aws/KinesisSource';
import { readS3Part, S3PrefixSource, type S3ReadPart } from '../../lib/aws/S3PrefixSource';
import { collectReports, TaskReportInbox, withCollectedReports } from '../../lib/aws/TaskReports';
import { openBlockStore } from '../../lib/aws/WorkerRuntime';
import type { ReadPlan } from '../../lib/source/Source';
import type { BlockStore } from '../../lib/storage/BlockStore';
import { encodeSegments } from '../../lib/storage/SegmentedBlob';
import { putTagged } from '../helpers/kinesisFeed';
import { testKinesisClient, testS3Client, testStreams, uniqueName, waitForStreamActive } from './localstack';

// Direct reads against LocalStack's kinesis-mock: the coordinator's KinesisSource plans each batch's shard ranges,
// the tasks (KinesisRangeReader, the worker's reader) read them and report into a real store.
const client = testKinesisClient();
const streams = testStreams(client, 'direct');
let dir: string;
let store: BlockStore;
let storeUrl: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-direct-'));
  storeUrl = pathToFileURL(dir).href;
  store = await openBlockStore(storeUrl);
});
afterAll(async () => {
  await streams.deleteAll();
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** kinesis-mock may keep arrival times to the second: a record put within a second of a cut could land before it. */
const SETTLE_MS = 1100;

/** The stream's open shards: their first hash key routes a record to them. */
async function openShards(streamName: string): Promise<{ shardId: string; hashKey: string; end?: string }[]> {
  const out = await client.send(new ListShardsCommand({ StreamName: streamName }));
  return (out.Shards ?? [])
    .filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined)
    .map((s) => ({
      shardId: s.ShardId as string,
      hashKey: s.HashKeyRange?.StartingHashKey as string,
      end: s.HashKeyRange?.EndingHashKey as string,
    }))
    .sort((a, b) => (a.shardId < b.shardId ? -1 : 1));
}

/** Writes `count` records to each open shard, `<tag>-<shard>-<i>`. */
const put = (streamName: string, count: number, tag: string, bytesEach = 0): Promise<string[]> =>
  putTagged(client, streamName, count, tag, bytesEach);

/** The coordinator's side: a source planning into batch folders of the store. */
function plannerOf(source: KinesisSource, plannerStore: BlockStore = store) {
  return (batchTime: number, partitions = 2): Promise<ReadPlan> =>
    source.planBatch(batchTime, 1000, partitions, {
      folder: `input/n1/${batchTime}/`,
      readReport: (key) => plannerStore.get(key),
    });
}

/** The tasks' side: every part of a plan read by a worker's reader, in partition order. */
async function runPlan(
  plan: ReadPlan,
  reader = new KinesisRangeReader(client, (url) => openBlockStore(url)),
) {
  const parts: string[][] = [];
  for (const part of plan.parts) parts.push(await reader.read(part as KinesisReadPart));
  return parts;
}

describe('direct S3 reads', () => {
  it('plans keys, tasks read the objects, and a recomputed batch reads the same lines', async () => {
    // given a bucket with two objects under the prefix, and a source that only plans
    const s3 = testS3Client();
    const bucket = uniqueName('direct');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const putObject = (key: string, body: string) =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    await putObject('in/a.txt', 'a1\na2\n');
    await putObject('in/b.txt', 'b1\r\nb2');
    const listing = new CountingS3(testS3Client());
    const source = new S3PrefixSource({
      client: listing.client,
      bucket,
      prefix: 'in/',
      direct: { storeUrl },
    });
    const ctx = (t: number) => ({
      folder: `input/s3/${t}/`,
      readReport: (k: string) => store.get(k),
    });
    const read = async (p: ReadPlan) => {
      const parts: string[][] = [];
      for (const part of p.parts)
        parts.push(await readS3Part(s3, part as S3ReadPart, (url) => openBlockStore(url)));
      return parts;
    };
    // when batch 1 is planned, an object arrives, and batch 2 is planned
    const plan1 = await source.planBatch(1000, 1000, 2, ctx(1000));
    const first1 = await read(plan1);
    await putObject('in/c.txt', 'c1\n');
    const plan2 = await source.planBatch(2000, 1000, 2, ctx(2000));
    const first2 = await read(plan2);
    // then the coordinator only listed: it read no object
    expect(listing.commands.filter((c) => c !== 'ListObjectsV2Command')).toEqual([]);
    // and each batch has its objects' lines once, and a recomputed batch reads the same
    expect(first1).toEqual([
      ['a1', 'a2'],
      ['b1', 'b2'],
    ]);
    expect(first2.flat()).toEqual(['c1']);
    expect(await read(JSON.parse(JSON.stringify(plan1)))).toEqual(first1);
    // and the batch's count comes from the tasks' reports
    expect(await source.recordsRead(plan1, ctx(1000))).toBe(4);
  });
});

describe('direct Kinesis reads', () => {
  it('a recomputed batch reads exactly the records of its first run, across a split and a restart', async () => {
    // given a 2-shard stream whose source only plans, and tasks that read
    const streamName = await streams.create(2);
    const source = new KinesisSource({ client, streamName, direct: { storeUrl, settleMs: SETTLE_MS } });
    const plan = plannerOf(source);
    const written: string[] = [];
    const firstRuns = new Map<number, { plan: ReadPlan; parts: string[][] }>();
    const first = async (batchTime: number, p: ReadPlan) => {
      firstRuns.set(batchTime, { plan: p, parts: await runPlan(p) });
    };

    // when batch 1 is planned, more records arrive, and batch 2 is planned before batch 1's task reported
    written.push(...(await put(streamName, 20, 'a')));
    const plan1 = await plan(1000);
    await sleep(SETTLE_MS);
    written.push(...(await put(streamName, 15, 'b')));
    const plan2 = await plan(2000);
    expect((plan2.parts[0] as KinesisReadPart).shards[0]!.skipCutsMs).toHaveLength(1);
    await first(1000, plan1);
    await first(2000, plan2);
    // and batch 3 is planned after its predecessors reported, and batch 2's report is then lost: batch 4 must
    // read past batch 3 by the same arrival-time rule
    await store.deletePrefix('input/n1/2000/');
    await sleep(SETTLE_MS);
    written.push(...(await put(streamName, 10, 'c')));
    const plan3 = await plan(3000);
    expect((plan3.parts[0] as KinesisReadPart).shards[0]!.skipCutsMs).toEqual([
      (plan2.parts[0] as KinesisReadPart).shards[0]!.cutMs,
    ]);
    await sleep(SETTLE_MS);
    written.push(...(await put(streamName, 5, 'd')));
    const plan4 = await plan(4000);
    await first(3000, plan3);
    await first(4000, plan4);

    // and shard 0 splits: its parent closes, new records go to the children
    const [shard0] = await openShards(streamName);
    const middle = ((BigInt(shard0!.hashKey) + BigInt(shard0!.end!)) / 2n).toString();
    await client.send(
      new SplitShardCommand({
        StreamName: streamName,
        ShardToSplit: shard0!.shardId,
        NewStartingHashKey: middle,
      }),
    );
    await waitForStreamActive(client, streamName);
    await sleep(SETTLE_MS);
    written.push(...(await put(streamName, 7, 'e')));
    const plan5 = await plan(5000);
    // the children wait until a task reported the parent's end
    expect(
      (plan5.parts as KinesisReadPart[]).flatMap((part) => part.shards.map((r) => r.shardId)),
    ).toHaveLength(2);
    await first(5000, plan5);
    // the parent's end is reported by batch 5's task: its children are read from batch 6 on
    await sleep(SETTLE_MS);
    written.push(...(await put(streamName, 6, 'f')));
    const plan6 = await plan(6000, 3);
    const shardsOf = (p: ReadPlan) =>
      (p.parts as KinesisReadPart[]).flatMap((part) => part.shards.map((s) => s.shardId));
    expect(shardsOf(plan6)).toHaveLength(3);
    expect(shardsOf(plan6)).not.toContain(shard0!.shardId);
    await first(6000, plan6);

    // then the batch's count, for the metrics, comes from its tasks' reports, and so do the GetRecords calls of
    // its cost (one at least per shard read; the coordinator itself makes none)
    const callsBefore = source.getRecordsCalls;
    expect(
      await source.recordsRead(plan6, { folder: 'input/n1/6000/', readReport: (key) => store.get(key) }),
    ).toBe(firstRuns.get(6000)!.parts.flat().length);
    expect(source.getRecordsCalls - callsBefore).toBeGreaterThanOrEqual(3);
    // and every record was read exactly once
    const all = [...firstRuns.values()].flatMap((r) => r.parts.flat());
    expect([...all].sort()).toEqual([...written].sort());
    // and a retried task (a fresh reader, as another container) reads exactly its first run's records
    for (const [batchTime, run] of firstRuns) {
      expect(await runPlan(run.plan), `batch ${batchTime}`).toEqual(run.parts);
    }
    // and batches kept what arrived by their cut: a's in batch 1, b's in 2, e's of the parent in 5
    expect(
      firstRuns
        .get(1000)!
        .parts.flat()
        .every((l) => l.startsWith('a-')),
    ).toBe(true);
    expect(
      firstRuns
        .get(2000)!
        .parts.flat()
        .every((l) => l.startsWith('b-')),
    ).toBe(true);

    // when a coordinator restarts from the checkpoint (the position as JSON, the plans recorded)
    const restored = new KinesisSource({ client, streamName, direct: { storeUrl, settleMs: SETTLE_MS } });
    restored.restorePosition(JSON.parse(JSON.stringify(source.checkpointPosition())));
    const recorded = JSON.parse(JSON.stringify(firstRuns.get(6000)!.plan)) as ReadPlan;
    // then its recomputed pending batch reads the same records, and the next batch continues where 6 ended
    expect(await runPlan(recorded)).toEqual(firstRuns.get(6000)!.parts);
    await sleep(SETTLE_MS);
    const g = await put(streamName, 4, 'g');
    const next = await runPlan(await plannerOf(restored)(7000, 3));
    expect(next.flat().sort()).toEqual([...g].sort());
  }, 120_000);

  it('the coordinator’s bytes per batch do not grow with the input rate', async () => {
    // given one stream, and coordinators whose Kinesis client and store count every byte they move
    const streamName = await streams.create(1);
    const rates = [100, 100, 2000];
    const measure = async (direct: boolean, offsetMs: number) => {
      const counted = countingKinesis();
      const counting = new CountingStore(store);
      const source = new KinesisSource({
        client: counted.client,
        streamName,
        ...(direct ? { direct: { storeUrl, settleMs: 0 } } : {}),
      });
      const bytesPerBatch: number[] = [];
      for (const [b, rate] of rates.entries()) {
        await put(streamName, rate, `r${b}`, 100);
        const movedBefore = counted.bytes + sum(counting.puts.map((p) => p.bytes));
        const readBefore = counting.gets.length;
        const batchTime = offsetMs + (b + 1) * 1000;
        if (direct) {
          const p = await plannerOf(source, counting)(batchTime);
          // what the metadata checkpoint records for the batch: its plan and the source's position
          await counting.put(
            `x/${batchTime}/plan.json`,
            JSON.stringify({ p, at: source.checkpointPosition() }),
          );
          await runPlan(p);
        } else {
          // the block path: the coordinator reads the records and writes them as the batch's input block
          const records = await source.recordsFor(batchTime, 1000);
          await counting.put(`x/${batchTime}/block`, encodeSegments([records]).bytes);
          await counting.put(`x/${batchTime}/at.json`, JSON.stringify(source.checkpointPosition()));
        }
        const moved = counted.bytes + sum(counting.puts.map((p) => p.bytes)) - movedBefore;
        bytesPerBatch.push(moved + (await reportBytesRead(counting, readBefore)));
      }
      // the first batch lists the shards (and the block path's reads all that came before): the steady state after
      return { low: bytesPerBatch[1]!, high: bytesPerBatch[2]! };
    };

    // when 100 and then 2,000 records of 100 bytes arrive per batch
    const direct = await measure(true, 0);
    // then the direct coordinator's bytes per batch stay the same
    expect(direct.high).toBeLessThanOrEqual(direct.low * 1.1);
    expect(direct.high).toBeLessThan(4000);
    // and the harness sees growth where there is some: the block path's bytes follow the records
    const blocks = await measure(false, 100_000);
    expect(blocks.high).toBeGreaterThan(blocks.low * 10);
  }, 300_000);

  it('one task reads several shards, its reports ride in its answer, and a recomputed task reads the same records', async () => {
    // given a 4-shard stream planned into one task (tasks by work, not one per shard), whose reports go to the
    // coordinator in the task's answer and never to the store
    const streamName = await streams.create(4);
    const source = new KinesisSource({ client, streamName, direct: { storeUrl, settleMs: SETTLE_MS } });
    const inbox = new TaskReportInbox(store);
    const plan = plannerOf(source, inbox);
    const reader = new KinesisRangeReader(client, (url) => openBlockStore(url).then(collectReports));
    const task = async (p: ReadPlan) =>
      withCollectedReports(() => reader.read(p.parts[0] as KinesisReadPart));
    const written: string[] = [];
    // (batch times of their own: the test above left reports in the store's first batches' folders)

    // when batch 1 runs and its report is delivered
    written.push(...(await put(streamName, 6, 'a')));
    const plan1 = await plan(101_000, 1);
    expect((plan1.parts[0] as KinesisReadPart).shards).toHaveLength(4);
    const run1 = await task(plan1);
    expect(Object.keys(run1.reports)).toEqual(['input/n1/101000/read-0.json']);
    expect(await store.get('input/n1/101000/read-0.json')).toBeUndefined();
    inbox.deliver(run1.reports);
    expect(
      await source.recordsRead(plan1, { folder: 'input/n1/101000/', readReport: (k) => inbox.get(k) }),
    ).toBe(24);
    // and batch 2 runs, but its report is lost (its coordinator died before the next plan)
    await sleep(SETTLE_MS);
    written.push(...(await put(streamName, 4, 'b')));
    const plan2 = await plan(102_000, 1);
    expect((plan2.parts[0] as KinesisReadPart).shards.every((r) => r.skipCutsMs.length === 0)).toBe(true);
    const run2 = await task(plan2);
    // and batch 3 is planned without it: each shard's range reads past batch 2 by its recorded cut
    await sleep(SETTLE_MS);
    written.push(...(await put(streamName, 3, 'c')));
    const plan3 = await plan(103_000, 1);
    const cut2 = (plan2.parts[0] as KinesisReadPart).shards[0]!.cutMs;
    expect((plan3.parts[0] as KinesisReadPart).shards.map((r) => r.skipCutsMs)).toEqual([
      [cut2],
      [cut2],
      [cut2],
      [cut2],
    ]);
    const run3 = await task(plan3);

    // then every record was read once, each batch holding what arrived by its cut
    expect([...run1.result, ...run2.result, ...run3.result].sort()).toEqual([...written].sort());
    expect(run2.result.every((l) => l.startsWith('b-'))).toBe(true);
    expect(run3.result.every((l) => l.startsWith('c-'))).toBe(true);
    // and a recomputed task (a fresh reader, as another container) reads exactly its first run's records
    const fresh = new KinesisRangeReader(client, (url) => openBlockStore(url));
    for (const [p, run] of [
      [plan1, run1],
      [plan2, run2],
      [plan3, run3],
    ] as const) {
      expect(await fresh.read(p.parts[0] as KinesisReadPart)).toEqual(run.result);
    }
  }, 120_000);
});

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** The bytes of the reports read since `from` (the store records keys; the reports are small JSON objects). */
async function reportBytesRead(counting: CountingStore, from: number): Promise<number> {
  let bytes = 0;
  for (const key of counting.gets.slice(from)) bytes += (await store.get(key))?.byteLength ?? 0;
  return bytes;
}

/** A real Kinesis client that counts the bytes of every answer it gets (records' data included). */
function countingKinesis(): { client: KinesisClient; readonly bytes: number } {
  const counted = testKinesisClient();
  const state = { bytes: 0 };
  counted.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      state.bytes += Buffer.byteLength(
        JSON.stringify(out.output, (_, v) =>
          v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
        ),
      );
      return out;
    },
    { step: 'initialize', name: 'countBytes' },
  );
  return {
    client: counted,
    get bytes() {
      return state.bytes;
    },
  };
}

/** A real store that records the size of every write and the key of every read. */
class CountingStore implements BlockStore {
  readonly puts: Array<{ key: string; bytes: number }> = [];
  readonly gets: string[] = [];
  constructor(private readonly inner: BlockStore) {}
  async put(key: string, bytes: Uint8Array | string): Promise<void> {
    this.puts.push({ key, bytes: typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength });
    await this.inner.put(key, bytes);
  }
  get(key: string): Promise<Uint8Array | undefined> {
    this.gets.push(key);
    return this.inner.get(key);
  }
  getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    this.gets.push(key);
    return this.inner.getRange(key, start, end);
  }
  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }
  deletePrefix(prefix: string): Promise<void> {
    return this.inner.deletePrefix(prefix);
  }
}

/** A real S3 client that records the name of every command it sends. */
class CountingS3 {
  readonly commands: string[] = [];
  constructor(readonly client: S3Client) {
    client.middlewareStack.add(
      (next, context) => (args) => {
        this.commands.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
  }
}
