import {
  type _Record,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import {
  KinesisRangeReader,
  type KinesisReport,
  type KinesisShardRange,
} from '../../lib/aws/KinesisRangeReader';
import { getRecordsPage } from '../../lib/aws/kinesisCalls';
import type { BlockStore } from '../../lib/storage/BlockStore';

/** A client whose GetRecords answers with each of `answers` in turn (an Error is thrown). */
function clientAnswering(...answers: Array<Partial<GetRecordsCommandOutput> | Error>): KinesisClient {
  return {
    send: async () => {
      const answer = answers.shift();
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as KinesisClient;
}

const named = (name: string) => Object.assign(new Error(`${name} from the test`), { name });
const noWait = { baseBackoffMs: 0 };

describe('getRecordsPage', () => {
  it('answers undefined for an expired iterator, so the caller takes a fresh one', async () => {
    let calls = 0;
    const client = clientAnswering(named('ExpiredIteratorException'));
    expect(await getRecordsPage(client, noWait, 'it-1', 10, () => calls++)).toBeUndefined();
    expect(calls).toBe(1);
  });

  it('retries a throttled call, counting every call, and returns the page', async () => {
    let calls = 0;
    const client = clientAnswering(named('ThrottlingException'), { Records: [], NextShardIterator: 'it-2' });
    const page = await getRecordsPage(client, noWait, 'it-1', 10, () => calls++);
    expect(page?.NextShardIterator).toBe('it-2');
    expect(calls).toBe(2);
  });

  it('rethrows any other failure', async () => {
    const client = clientAnswering(named('ResourceNotFoundException'));
    await expect(getRecordsPage(client, noWait, 'it-1', 10, () => {})).rejects.toThrow(
      /ResourceNotFoundException from the test/,
    );
  });
});

/**
 * A shard of `backlog` records that all arrived before any cut, behind a client that records the Limit of each
 * GetRecords call and answers with at most that many records, as Kinesis does.
 */
function shardHolding(backlog: number): { client: KinesisClient; limits: number[] } {
  const limits: number[] = [];
  let next = 0;
  const client = {
    send: async (command: unknown) => {
      if (!(command instanceof GetRecordsCommand)) return { ShardIterator: 'it' };
      const limit = command.input.Limit ?? 10_000;
      limits.push(limit);
      const records: _Record[] = [];
      while (records.length < limit && next < backlog) {
        records.push({
          SequenceNumber: String(++next),
          ApproximateArrivalTimestamp: new Date(1000),
          Data: new TextEncoder().encode(`r${next}`),
          PartitionKey: 'k',
        });
      }
      return { Records: records, NextShardIterator: 'it', MillisBehindLatest: next < backlog ? 1 : 0 };
    },
  } as unknown as KinesisClient;
  return { client, limits };
}

const discardingStore = { put: async () => {} } as unknown as BlockStore;

describe('KinesisRangeReader', () => {
  const read = (client: KinesisClient, range: Partial<KinesisShardRange>, maxRecords: number) =>
    new KinesisRangeReader(client, async () => discardingStore, noWait).read({
      streamName: 's',
      shards: [{ shardId: 'shard-0', skipCutsMs: [], cutMs: 5000, ...range }],
      maxRecords,
      settleMs: 0,
      report: { storeUrl: 'memory://', key: 'report' },
    });

  it('asks GetRecords for no more records than the batch takes, on a shard with a large backlog', async () => {
    // given a shard holding 20,000 records and a batch capped at 15 records per shard
    const { client, limits } = shardHolding(20_000);
    // when a task reads its range
    const records = await read(client, {}, 15);
    // then it takes 15 records in one call that asked for 15, not a page of 10,000 (up to 10 MB, five seconds of
    // the shard's 2 MB/s read throughput) of which it keeps 15
    expect(records).toEqual(Array.from({ length: 15 }, (_, i) => `r${i + 1}`));
    expect(limits).toEqual([15]);
  });

  it('asks for the records of the batches it reads past as well, and no more', async () => {
    // given a batch planned before its predecessor reported: it reads past that batch's 15 records first
    const { client, limits } = shardHolding(20_000);
    const records = await read(client, { skipCutsMs: [4000], skipMaxRecords: [15] }, 15);
    expect(records).toEqual(Array.from({ length: 15 }, (_, i) => `r${i + 16}`));
    expect(limits).toEqual([30]);
  });

  it('reports the latest trouble it recovered from, a throttled call, and nothing after a calm read', async () => {
    // given a shard whose first GetRecords is throttled, then answers 2 records
    const { client } = shardHolding(2);
    let throttle = true;
    const throttled = {
      send: (command: unknown) => {
        if (command instanceof GetRecordsCommand && throttle) {
          throttle = false;
          return Promise.reject(named('ProvisionedThroughputExceededException'));
        }
        return client.send(command as never);
      },
    } as unknown as KinesisClient;
    const reports: string[] = [];
    const store = {
      put: async (_key: string, bytes: string) => reports.push(bytes),
    } as unknown as BlockStore;
    const readWith = (c: KinesisClient) =>
      new KinesisRangeReader(c, async () => store, noWait).read({
        streamName: 's',
        shards: [{ shardId: 'shard-0', skipCutsMs: [], cutMs: 5000 }],
        maxRecords: 10,
        settleMs: 0,
        report: { storeUrl: 'memory://', key: 'report' },
      });
    // when a task reads it, and then another reads the same shard calmly
    expect(await readWith(throttled)).toEqual(['r1', 'r2']);
    await readWith(shardHolding(2).client);
    // then the first report names the throttling (its class and text), the second nothing
    const [first, second] = reports.map((r) => JSON.parse(r) as KinesisReport);
    expect(first?.trouble?.message).toBe(
      'ProvisionedThroughputExceededException: ProvisionedThroughputExceededException from the test',
    );
    expect(second).not.toHaveProperty('trouble');
  });

  it('reads on, a page at a time, while the shard has fewer records than the cap', async () => {
    // given a shard holding 25 records, read by pages of what is still wanted
    const { client, limits } = shardHolding(25);
    const records = await read(client, {}, 100);
    expect(records).toHaveLength(25);
    expect(limits[0]).toBe(100);
    expect(limits.every((limit) => limit <= 100)).toBe(true);
  });
});
