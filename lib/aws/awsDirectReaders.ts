import { registerDirectReader } from '../source/directReaders';
import type { BlockStore } from '../storage/BlockStore';
import type { KinesisRangeReader, KinesisReadPart } from './KinesisRangeReader';
import type { S3ReadPart } from './S3PrefixSource';
import { logTaskRetries } from './taskLog';

/**
 * Registers the readers of the serverless runtime's planned input in this process: `kinesis` (a task's shard
 * ranges, with GetRecords) and `s3` (a task's objects, with GetObject), on the process's shared clients. The SDK
 * modules load at the first read, so a process that never reads such input never pays for them. `storeOf` opens
 * the store a task writes its report to.
 */
export function registerAwsDirectReaders(storeOf: (url: string) => Promise<BlockStore>): void {
  let kinesis: Promise<KinesisRangeReader> | undefined;
  registerDirectReader('kinesis', async (part) => {
    kinesis ??= Promise.all([import('./KinesisRangeReader'), import('./awsClients')]).then(
      ([{ KinesisRangeReader }, { kinesisClient }]) =>
        // Read throttling (ProvisionedThroughputExceeded) is logged in the line of the task it slowed down.
        new KinesisRangeReader(kinesisClient(), storeOf, { onRetry: logTaskRetries('Kinesis') }),
    );
    return (await kinesis).read(part as KinesisReadPart);
  });
  registerDirectReader('s3', async (part) => {
    const [{ readS3Part }, { s3Client }] = await Promise.all([
      import('./S3PrefixSource'),
      import('./awsClients'),
    ]);
    return readS3Part(s3Client(), part as S3ReadPart, storeOf);
  });
}
