import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { errorName, isTransientAwsError, type RetryPolicy, withRetries } from './awsClients';

/** Throttling of reads (ProvisionedThroughputExceededException), of control calls (LimitExceededException), 5xx. */
export function isKinesisRetryable(error: unknown): boolean {
  const name = errorName(error);
  return name === 'LimitExceededException' || name === 'KMSThrottlingException' || isTransientAwsError(error);
}

/** Where a shard iterator starts: just after a sequence number, at a time, or at the oldest record kept. */
export type ShardStart = { readonly after: string } | { readonly atMs: number } | { readonly oldest: true };

/**
 * A shard iterator, as the coordinator's planning and the workers' reads both take them; undefined when nothing
 * can be read yet (a time ahead of Kinesis's clock: no record can be that recent).
 */
export async function openShardIterator(
  client: KinesisClient,
  retry: RetryPolicy,
  streamName: string,
  shardId: string,
  start: ShardStart,
): Promise<string | undefined> {
  const input: GetShardIteratorCommandInput =
    'after' in start
      ? {
          StreamName: streamName,
          ShardId: shardId,
          ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
          StartingSequenceNumber: start.after,
        }
      : 'atMs' in start
        ? {
            StreamName: streamName,
            ShardId: shardId,
            ShardIteratorType: 'AT_TIMESTAMP',
            Timestamp: new Date(start.atMs),
          }
        : { StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' };
  try {
    const out = await withRetries(() => client.send(new GetShardIteratorCommand(input)), retry);
    return out.ShardIterator ?? undefined;
  } catch (error) {
    if (
      input.ShardIteratorType === 'AT_TIMESTAMP' &&
      errorName(error) === 'InvalidArgumentException' &&
      /future/i.test(String((error as Error).message))
    ) {
      return undefined;
    }
    throw error;
  }
}

/** GetRecords returns at most this many records per call. */
export const GET_RECORDS_LIMIT = 10_000;

/**
 * One GetRecords page of at most `limit` records, as the source's own reads and the workers' range reads both take
 * them; undefined when the iterator has expired (it lives 5 minutes, and a slow read can outlive it): the caller
 * then takes a fresh iterator from where it got to. `onCall` counts every call, retries included.
 */
export async function getRecordsPage(
  client: KinesisClient,
  retry: RetryPolicy,
  iterator: string,
  limit: number,
  onCall: () => void,
): Promise<GetRecordsCommandOutput | undefined> {
  const request = { ShardIterator: iterator, Limit: limit };
  try {
    return await withRetries(() => {
      onCall();
      return client.send(new GetRecordsCommand(request));
    }, retry);
  } catch (error) {
    if (errorName(error) !== 'ExpiredIteratorException') throw error;
    return undefined;
  }
}
