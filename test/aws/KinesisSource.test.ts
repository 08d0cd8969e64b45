import { Readable } from 'node:stream';
import {
  type KinesisClient,
  ListShardsCommand,
  MergeShardsCommand,
  PutRecordCommand,
  UpdateShardCountCommand,
} from '@aws-sdk/client-kinesis';
import { afterAll, describe, expect, it } from 'vitest';
import { kinesisClient } from '../../lib/aws/awsClients';
import type { KinesisPosition } from '../../lib/aws/KinesisPosition';
import { KinesisSource } from '../../lib/aws/KinesisSource';
import { unreadableOf } from '../../lib/source/UnreadableRecord';
import { putOnShards } from '../helpers/kinesisFeed';
import { testKinesisClient, testStreams, waitForStreamActive } from './localstack';

// Against the LocalStack (kinesis-mock) that test/aws/globalSetup.ts starts; one stream per case.
const client = testKinesisClient();
const streams = testStreams(client, 'kin');
const createStream = (shards: number) => streams.create(shards);

afterAll(() => streams.deleteAll());

/** The stream's open shards, by id: their first hash key routes a record to them. */
async function openShards(streamName: string): Promise<{ shardId: string; hashKey: string }[]> {
  const out = await client.send(new ListShardsCommand({ StreamName: streamName }));
  return (out.Shards ?? [])
    .filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined)
    .map((s) => ({ shardId: s.ShardId as string, hashKey: s.HashKeyRange?.StartingHashKey as string }))
    .sort((a, b) => (a.shardId < b.shardId ? -1 : 1));
}

/**
 * Writes `count` records to each shard given (`<tag>-<shard index>-<i>`), and returns them as the source must
 * hand them out: shard by shard in id order, each shard's in sequence-number order.
 */
async function put(
  streamName: string,
  shards: readonly { shardId: string; hashKey: string }[],
  count: number | readonly number[],
  tag: string,
): Promise<string[]> {
  const records = shards.flatMap((shard, s) =>
    Array.from({ length: typeof count === 'number' ? count : (count[s] ?? 0) }, (_, i) => ({
      hashKey: shard.hashKey,
      line: `${tag}-${s}-${i}`,
    })),
  );
  const written = (await putOnShards(client, streamName, records)).map((landed, i) => ({
    shardId: landed.shardId,
    sequenceNumber: BigInt(landed.sequenceNumber),
    data: records[i]!.line,
  }));
  written.sort((a, b) =>
    a.shardId !== b.shardId ? (a.shardId < b.shardId ? -1 : 1) : a.sequenceNumber < b.sequenceNumber ? -1 : 1,
  );
  return written.map((w) => w.data);
}

/**
 * A Kinesis client whose GetRecords attempts after the first `skip` are refused `failures` times with
 * ProvisionedThroughputExceededException, as Kinesis answers a shard read more than 5 times a second. The fault
 * sits below the SDK's retry layer (which this client turns off); later calls reach kinesis-mock.
 */
function throttledClient(failures: number, skip = 0): { client: KinesisClient; seen: { failed: number } } {
  const throttled = testKinesisClient({ maxAttempts: 1 });
  const seen = { failed: 0, calls: 0 };
  throttled.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'GetRecordsCommand') return next(args);
      if (++seen.calls <= skip || seen.failed >= failures) return next(args);
      seen.failed++;
      const body = JSON.stringify({
        __type: 'ProvisionedThroughputExceededException',
        message: 'Rate exceeded for shard shardId-000000000000.',
      });
      return {
        response: {
          statusCode: 400,
          headers: {
            'content-type': 'application/x-amz-json-1.1',
            'x-amzn-errortype': 'ProvisionedThroughputExceededException',
          },
          body: Readable.from([Buffer.from(body)]),
        },
        output: {},
      } as never; // a raw HTTP response, turned into a Kinesis error by the deserializer above this step
    },
    { step: 'deserialize', priority: 'low', name: 'injectThrottling' },
  );
  return { client: throttled, seen };
}

function roundTrip(position: KinesisPosition): unknown {
  return JSON.parse(JSON.stringify(position));
}

describe('KinesisSource', () => {
  it('given records on two shards, when successive batches are read, then each record comes once, shard by shard in order', async () => {
    // Given
    const streamName = await createStream(2);
    const shards = await openShards(streamName);
    const source = new KinesisSource({ client, streamName });
    const first = await put(streamName, shards, [3, 4], 'a');
    // When
    const batch1 = await source.recordsFor(1000, 1000);
    const second = await put(streamName, shards, [2, 1], 'b');
    const batch2 = await source.recordsFor(2000, 1000);
    const batch3 = await source.recordsFor(3000, 1000);
    // Then
    expect(batch1).toEqual(first);
    expect(batch1).toEqual(['a-0-0', 'a-0-1', 'a-0-2', 'a-1-0', 'a-1-1', 'a-1-2', 'a-1-3']);
    expect(batch2).toEqual(second);
    expect(batch3).toEqual([]);
  });

  it('given the environment of the global setup, when the shared kinesisClient() is used, then it reads the stream', async () => {
    const streamName = await createStream(1);
    const written = await put(streamName, await openShards(streamName), 2, 's');
    const source = new KinesisSource({ client: kinesisClient(), streamName });
    expect(await source.recordsFor(1000, 1000)).toEqual(written);
  });

  it('given a record that is not UTF-8, when a batch is read, then it comes as unreadable with its bytes, not altered', async () => {
    // Given a record of raw bytes, and a good one after it
    const streamName = await createStream(1);
    const raw = Uint8Array.from([0x80, 0x81, 0xff, 0x00, 0x01]);
    await client.send(new PutRecordCommand({ StreamName: streamName, PartitionKey: 'k', Data: raw }));
    await client.send(
      new PutRecordCommand({
        StreamName: streamName,
        PartitionKey: 'k',
        Data: new TextEncoder().encode('ok é'),
      }),
    );
    const source = new KinesisSource({ client, streamName });
    // When
    const [bad, good] = await source.recordsFor(1000, 1000);
    // Then the bad one is the marker the reading task dead-letters, holding the bytes as they came
    expect(unreadableOf(bad)).toEqual({
      reason: 'record is not valid UTF-8; its bytes are kept in base64',
      input: { bytes: 5, base64: Buffer.from(raw).toString('base64') },
    });
    expect(good).toBe('ok é');
  });

  it('given an empty stream, when a batch is read, then it is empty and the position has no shard yet', async () => {
    const streamName = await createStream(2);
    const source = new KinesisSource({ client, streamName });
    expect(await source.recordsFor(1000, 1000)).toEqual([]);
    expect(source.checkpointPosition()).toEqual({ sequenceNumbers: {}, finishedShards: [] });
  });

  it('given more records than the per-shard cap, when batches are read, then the rest waits for the next batch', async () => {
    // Given
    const streamName = await createStream(2);
    const shards = await openShards(streamName);
    const source = new KinesisSource({ client, streamName, maxRecordsPerShard: 3 });
    await put(streamName, shards, 5, 'c');
    // When
    const batches = [];
    for (let t = 1; t <= 3; t++) batches.push(await source.recordsFor(t * 1000, 1000));
    // Then
    expect(batches).toEqual([
      ['c-0-0', 'c-0-1', 'c-0-2', 'c-1-0', 'c-1-1', 'c-1-2'],
      ['c-0-3', 'c-0-4', 'c-1-3', 'c-1-4'],
      [],
    ]);
  });

  it('given a read deadline that passes during a batch, when it is read, then the batch ends there and the next goes on without loss', async () => {
    // Given records on two shards and a deadline that passes after the first shard's first GetRecords (the
    // source asks the deadline before each shard and before each GetRecords: the third question is past it)
    const streamName = await createStream(2);
    const shards = await openShards(streamName);
    const written = await put(streamName, shards, 3, 'd');
    let asked = 0;
    let cut = true;
    const source = new KinesisSource({
      client,
      streamName,
      readDeadlineMs: () => (cut && ++asked > 2 ? 0 : undefined),
    });
    // When a batch is read past its deadline, and the next without one
    const first = await source.recordsFor(1000, 1000);
    cut = false;
    const second = await source.recordsFor(2000, 1000);
    // Then the first took the first shard's records only, and the second the rest
    expect(first).toEqual(['d-0-0', 'd-0-1', 'd-0-2']);
    expect([...first, ...second]).toEqual(written);
  });

  it('given a checkpointed position, when a new source restores it, then it goes on without loss or duplication', async () => {
    // Given
    const streamName = await createStream(2);
    const shards = await openShards(streamName);
    const before = new KinesisSource({ client, streamName, maxRecordsPerShard: 2 });
    await put(streamName, shards, 3, 'd');
    expect(await before.recordsFor(1000, 1000)).toEqual(['d-0-0', 'd-0-1', 'd-1-0', 'd-1-1']);
    const position = roundTrip(before.checkpointPosition());
    const later = await put(streamName, shards, 1, 'e');
    // When: the process dies, and a new one restores the metadata checkpoint.
    const after = new KinesisSource({ client, streamName, maxRecordsPerShard: 2 });
    after.restorePosition(position);
    const resumed = [await after.recordsFor(2000, 1000), await after.recordsFor(3000, 1000)];
    // Then
    expect(Object.keys((position as KinesisPosition).sequenceNumbers)).toEqual(shards.map((s) => s.shardId));
    expect(resumed).toEqual([['d-0-2', 'e-0-0', 'd-1-2', 'e-1-0'], []]);
    expect(later).toEqual(['e-0-0', 'e-1-0']);
  });

  it('given a stream split into four, when batches are read, then children wait for their parents and nothing is lost', async () => {
    // Given: 5 records per parent and a cap of 2. One source reads a batch before the split (it finds the
    // children by listing again once a parent finishes); another starts after it (it knows the children at once
    // and must hold them back until their parent is finished).
    const streamName = await createStream(2);
    const parents = await openShards(streamName);
    const early = new KinesisSource({ client, streamName, maxRecordsPerShard: 2 });
    await put(streamName, parents, 5, 'p');
    const earlyBatches = [await early.recordsFor(1000, 1000)];
    await client.send(
      new UpdateShardCountCommand({
        StreamName: streamName,
        TargetShardCount: 4,
        ScalingType: 'UNIFORM_SCALING',
      }),
    );
    await waitForStreamActive(client, streamName);
    const children = await openShards(streamName);
    const childRecords = await put(streamName, children, 1, 'k');
    const late = new KinesisSource({ client, streamName, maxRecordsPerShard: 2 });
    // When
    earlyBatches.push(await early.recordsFor(2000, 1000));
    const position = roundTrip(early.checkpointPosition());
    for (let t = 3; t <= 4; t++) earlyBatches.push(await early.recordsFor(t * 1000, 1000));
    const lateBatches = [];
    for (let t = 1; t <= 4; t++) lateBatches.push(await late.recordsFor(t * 1000, 1000));
    const restored = new KinesisSource({ client, streamName, maxRecordsPerShard: 2 });
    restored.restorePosition(position);
    const batch3Again = await restored.recordsFor(3000, 1000);
    // Then
    expect(children).toHaveLength(4);
    expect(childRecords).toEqual(['k-0-0', 'k-1-0', 'k-2-0', 'k-3-0']);
    const expected = [
      ['p-0-0', 'p-0-1', 'p-1-0', 'p-1-1'],
      ['p-0-2', 'p-0-3', 'p-1-2', 'p-1-3'], // parents not finished: no child yet
      ['p-0-4', 'p-1-4', ...childRecords],
      [],
    ];
    expect(earlyBatches).toEqual(expected);
    expect(lateBatches).toEqual(expected);
    expect(batch3Again).toEqual(expected[2]);
    expect(early.checkpointPosition().finishedShards).toEqual(parents.map((p) => p.shardId));
    expect(Object.keys(early.checkpointPosition().sequenceNumbers)).toEqual(children.map((c) => c.shardId));
  });

  it('given two shards merged, when batches are read, then the child waits until both parents are finished', async () => {
    // Given: the first parent holds 1 record, the second 3, the cap is 2.
    const streamName = await createStream(2);
    const parents = await openShards(streamName);
    await put(streamName, parents, [1, 3], 'm');
    await client.send(
      new MergeShardsCommand({
        StreamName: streamName,
        ShardToMerge: parents[0]?.shardId,
        AdjacentShardToMerge: parents[1]?.shardId,
      }),
    );
    await waitForStreamActive(client, streamName);
    const [child] = await openShards(streamName);
    const childRecords = await put(streamName, child ? [child] : [], 2, 'n');
    const source = new KinesisSource({ client, streamName, maxRecordsPerShard: 2 });
    // When
    const batches = [];
    for (let t = 1; t <= 3; t++) batches.push(await source.recordsFor(t * 1000, 1000));
    // Then
    expect(batches).toEqual([['m-0-0', 'm-1-0', 'm-1-1'], ['m-1-2', ...childRecords], []]);
  });

  it('given reads throttled below the SDK, when a batch is read, then it backs off, retries and loses nothing', async () => {
    // Given
    const streamName = await createStream(2);
    const shards = await openShards(streamName);
    const written = await put(streamName, shards, 2, 't');
    const { client: throttled, seen } = throttledClient(3);
    const retries: number[] = [];
    const source = new KinesisSource({
      client: throttled,
      streamName,
      retry: { baseBackoffMs: 1, maxBackoffMs: 5, onRetry: (_error, retry) => retries.push(retry) },
    });
    // When
    const batch = await source.recordsFor(1000, 1000);
    // Then
    expect(batch).toEqual(written);
    expect(seen.failed).toBe(3);
    expect(retries).toEqual([1, 2, 3]);
    expect(await source.recordsFor(2000, 1000)).toEqual([]);
  });

  it('given throttling that outlasts the retries, when a batch fails, then the next batch reads the same records', async () => {
    // Given: 2 retries; the first shard is read (2 GetRecords calls), then the second fails 3 times.
    const streamName = await createStream(2);
    const shards = await openShards(streamName);
    const written = await put(streamName, shards, 2, 'u');
    const { client: throttled } = throttledClient(3, 2);
    const source = new KinesisSource({
      client: throttled,
      streamName,
      retry: { retries: 2, baseBackoffMs: 1 },
    });
    // When
    const failed = source.recordsFor(1000, 1000);
    // Then
    await expect(failed).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(source.checkpointPosition()).toEqual({ sequenceNumbers: {}, finishedShards: [] });
    expect(await source.recordsFor(1000, 1000)).toEqual(written);
  });

  it('given startAt LATEST, when batches are read, then only records written after the first batch began come', async () => {
    // Given
    const streamName = await createStream(2);
    const shards = await openShards(streamName);
    await put(streamName, shards, 2, 'old');
    // kinesis-mock compares AT_TIMESTAMP in whole seconds (AWS in milliseconds): let a second pass.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const source = new KinesisSource({ client, streamName, startAt: 'LATEST' });
    // When
    const batch1 = await source.recordsFor(1000, 1000);
    const fresh = await put(streamName, shards, 1, 'new');
    const batch2 = await source.recordsFor(2000, 1000);
    // Then
    expect(batch1).toEqual([]);
    expect(batch2).toEqual(fresh);
    expect(source.checkpointPosition().sinceMs).toEqual(expect.any(Number));
  });

  it('given invalid options or a malformed position, when used, then the error names the field and what was expected', () => {
    expect(() => new KinesisSource({ client, streamName: '' })).toThrow(
      /streamName must be a non-empty string/,
    );
    expect(() => new KinesisSource({ client, streamName: 's', maxRecordsPerShard: 0 })).toThrow(
      /maxRecordsPerShard must be a positive integer, got 0/,
    );
    const source = new KinesisSource({ client, streamName: 's' });
    expect(() =>
      source.restorePosition({ sequenceNumbers: { 'shardId-000000000000': 12 }, finishedShards: [] }),
    ).toThrow(/position.sequenceNumbers\["shardId-000000000000"\] must be a sequence number/);
    expect(() => source.restorePosition({ sequenceNumbers: {} })).toThrow(
      /position.finishedShards must be an array/,
    );
    expect(() => source.restorePosition(null)).toThrow(/position must be an object/);
  });
});
