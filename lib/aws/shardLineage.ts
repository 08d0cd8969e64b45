// Resharding: a split or a merge closes a shard and opens children that name it as `ParentShardId` (and, for a
// merge, `AdjacentParentShardId`). A child is read only once all its parents are read to their end, so the records
// of each hash key stay in order across the reshard, as the KCL does.
import { type KinesisClient, ListShardsCommand, type Shard } from '@aws-sdk/client-kinesis';
import { type RetryPolicy, withRetries } from './awsClients';

/** Every shard of the stream still in its retention, open or closed, sorted by id. */
export async function listShards(
  client: KinesisClient,
  retry: RetryPolicy,
  streamName: string,
): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    // With a NextToken, ListShards refuses the stream name: the token names the stream.
    const input = nextToken === undefined ? { StreamName: streamName } : { NextToken: nextToken };
    const out = await withRetries(() => client.send(new ListShardsCommand(input)), retry);
    for (const shard of out.Shards ?? []) shards.push(shard);
    nextToken = out.NextToken;
  } while (nextToken !== undefined);
  return shards.sort((a, b) => ((a.ShardId ?? '') < (b.ShardId ?? '') ? -1 : 1));
}

/**
 * The ids of the shards of `shards` that may be read now, in their order: not `finished`, not in `skip`, and every
 * parent finished. A parent missing from the listing has aged out of the stream's retention: nothing is left to
 * read.
 */
export function readableShards(
  shards: readonly Shard[],
  finished: ReadonlySet<string>,
  skip: ReadonlySet<string> = new Set(),
): string[] {
  const known = new Set(shards.map((s) => s.ShardId));
  const parentDone = (id: string | undefined) => id === undefined || finished.has(id) || !known.has(id);
  return shards
    .filter(
      (s) =>
        s.ShardId !== undefined &&
        !finished.has(s.ShardId) &&
        !skip.has(s.ShardId) &&
        parentDone(s.ParentShardId) &&
        parentDone(s.AdjacentParentShardId),
    )
    .map((s) => s.ShardId as string); // filtered above
}
