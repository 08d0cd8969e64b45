import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { SluiceError } from '../errors';
import { isTransientAwsError, withRetries } from './awsClients';

/** Kinesis takes at most 500 records and 5 MiB per PutRecords call. */
const MAX_RECORDS = 500;
const MAX_BYTES = 5 * 1024 * 1024;
/** Rounds of re-sending the records a PutRecords call rejected (throttled shards) before giving up. */
const MAX_ROUNDS = 8;

/** Settings of a {@link KinesisProducer}. */
export interface KinesisProducerOptions {
  readonly client: KinesisClient;
  readonly streamName: string;
}

/**
 * Puts lines of text into a Kinesis stream, as Spark's `KinesisWordProducerASL` does for its examples: in
 * PutRecords calls of up to 500 records, never one call per record. Records a call rejects (a throttled shard
 * answers per record) are sent again with backoff, so every line is in the stream when `put` resolves.
 *
 * @example
 * const producer = new KinesisProducer({ client: kinesisClient(), streamName: 'tweets' });
 * await producer.put(tweets.map((t) => JSON.stringify(t)));
 */
export class KinesisProducer {
  /** Records written so far. */
  sent = 0;
  /** PutRecords calls made so far. */
  calls = 0;
  private next = 0;

  constructor(private readonly options: KinesisProducerOptions) {}

  /** Writes the lines, spread over the shards by a running partition key. */
  async put(lines: readonly string[]): Promise<void> {
    let chunk: { Data: Uint8Array; PartitionKey: string }[] = [];
    let bytes = 0;
    for (const line of lines) {
      const data = Buffer.from(line);
      const key = String(this.next++);
      if (chunk.length === MAX_RECORDS || bytes + data.length + key.length > MAX_BYTES) {
        await this.send(chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push({ Data: data, PartitionKey: key });
      bytes += data.length + key.length;
    }
    if (chunk.length > 0) await this.send(chunk);
  }

  private async send(records: { Data: Uint8Array; PartitionKey: string }[]): Promise<void> {
    let pending = records;
    for (let round = 0; pending.length > 0; round++) {
      if (round === MAX_ROUNDS) {
        throw new SluiceError(
          `${pending.length} records were still rejected by ${this.options.streamName} after ${MAX_ROUNDS} rounds`,
        );
      }
      if (round > 0) await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** round)));
      this.calls++;
      const out = await withRetries(
        () =>
          this.options.client.send(
            new PutRecordsCommand({ StreamName: this.options.streamName, Records: pending }),
          ),
        { isRetryable: isTransientAwsError },
      );
      const rejected = pending.filter((_, i) => out.Records?.[i]?.ErrorCode);
      this.sent += pending.length - rejected.length;
      pending = rejected;
    }
  }
}
