import { type KinesisClient, ListShardsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';

/**
 * Feeding a Kinesis stream in the tests and benchmarks, against LocalStack's kinesis-mock: lines put on the shards
 * chosen for them (a record's `ExplicitHashKey` is its shard's first hash key), round-robin, batch by batch, or
 * tagged with their shard. Every put is awaited before the next, so the stream holds the lines in the order given.
 */

/** Kinesis takes at most 500 records in one PutRecords. */
const MAX_RECORDS_PER_PUT = 500;

/** The first hash key of each open shard of a stream, in shard-id order: a record put with it lands on that shard. */
export async function shardHashKeys(client: KinesisClient, streamName: string): Promise<string[]> {
  const out = await client.send(new ListShardsCommand({ StreamName: streamName }));
  return (out.Shards ?? [])
    .filter((shard) => shard.SequenceNumberRange?.EndingSequenceNumber === undefined)
    .sort((a, b) => (a.ShardId! < b.ShardId! ? -1 : 1)) // !: Kinesis names every shard it lists
    .map((shard) => shard.HashKeyRange!.StartingHashKey!); // !: and gives it a hash key range
}

/**
 * Puts lines spread round-robin over the stream's open shards, line i on shard i mod n, 500 to a PutRecords: the
 * generated tweets of the serverless runs and benchmarks.
 */
export async function putRoundRobin(
  client: KinesisClient,
  streamName: string,
  lines: readonly string[],
): Promise<void> {
  const hashKeys = await shardHashKeys(client, streamName);
  await putOnShards(
    client,
    streamName,
    lines.map((line, i) => ({ hashKey: hashKeys[i % hashKeys.length]!, line })),
  );
}

/**
 * Puts `shardBatches[s][k]`, the lines of batch k for shard s, batch by batch: batch k's lines are in every shard
 * before batch k+1's, so a job capped at a batch's lines per shard reads exactly batch k in its batch k. One
 * PutRecords per shard and batch.
 */
export async function putShardBatches(
  client: KinesisClient,
  streamName: string,
  shardBatches: readonly (readonly (readonly string[])[])[],
): Promise<void> {
  const hashKeys = await shardHashKeys(client, streamName);
  if (hashKeys.length !== shardBatches.length) {
    throw new Error(
      `stream ${streamName} has ${hashKeys.length} open shards, but lines were given for ${shardBatches.length}`,
    );
  }
  const batches = Math.max(0, ...shardBatches.map((batches) => batches.length));
  for (let k = 0; k < batches; k++) {
    for (const [s, hashKey] of hashKeys.entries()) {
      await putOnShards(
        client,
        streamName,
        (shardBatches[s]![k] ?? []).map((line) => ({ hashKey, line })),
      );
    }
  }
}

/**
 * Puts `count` lines on each open shard, `<tag>-<shard index>-<i>` (padded with dots to `bytesEach` characters when
 * given), shard by shard, and returns them in that order.
 */
export async function putTagged(
  client: KinesisClient,
  streamName: string,
  count: number,
  tag: string,
  bytesEach = 0,
): Promise<string[]> {
  const hashKeys = await shardHashKeys(client, streamName);
  const records = hashKeys.flatMap((hashKey, s) =>
    Array.from({ length: count }, (_, i) => ({ hashKey, line: `${tag}-${s}-${i}`.padEnd(bytesEach, '.') })),
  );
  await putOnShards(client, streamName, records);
  return records.map((record) => record.line);
}

/**
 * Puts each line on the shard its hash key routes it to, in order, 500 to a PutRecords, and returns where each
 * landed; throws when Kinesis refused any.
 */
export async function putOnShards(
  client: KinesisClient,
  streamName: string,
  records: readonly { readonly hashKey: string; readonly line: string }[],
): Promise<{ shardId: string; sequenceNumber: string }[]> {
  const landed: { shardId: string; sequenceNumber: string }[] = [];
  for (let from = 0; from < records.length; from += MAX_RECORDS_PER_PUT) {
    const chunk = records.slice(from, from + MAX_RECORDS_PER_PUT);
    const out = await client.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: chunk.map((record) => ({
          Data: Buffer.from(record.line),
          PartitionKey: 'p',
          ExplicitHashKey: record.hashKey,
        })),
      }),
    );
    if ((out.FailedRecordCount ?? 0) > 0) {
      const failed = (out.Records ?? []).find((r) => r.ErrorCode !== undefined);
      throw new Error(
        `Kinesis refused ${out.FailedRecordCount} of ${chunk.length} records put to ${streamName}: ${failed?.ErrorCode} ${failed?.ErrorMessage}`,
      );
    }
    for (const r of out.Records ?? [])
      landed.push({ shardId: r.ShardId!, sequenceNumber: r.SequenceNumber! }); // !: set on every record Kinesis took
  }
  return landed;
}
