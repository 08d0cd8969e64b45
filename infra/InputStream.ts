import { Duration, Stack } from 'aws-cdk-lib';
import { type IStream, Stream, StreamEncryption } from 'aws-cdk-lib/aws-kinesis';
import { Construct } from 'constructs';

/** Settings of an {@link InputStream}: create a stream, or import one by name or ARN. */
export interface InputStreamProps {
  /** Import this existing stream (in the stack's account and region) instead of creating one. Default: create. */
  readonly existingStreamName?: string;
  /** Import this existing stream by ARN instead of creating one. Default: create. */
  readonly existingStreamArn?: string;
  /** Shards of a created stream. Default 2. */
  readonly shards?: number;
  /** How long a created stream keeps records. Default 24 hours, Kinesis's minimum. */
  readonly retention?: Duration;
}

/** The Kinesis stream jobs read by default (a `kinesis` source without `streamName`), created or imported. */
export class InputStream extends Construct {
  /** The stream. */
  readonly stream: IStream;

  constructor(scope: Construct, id: string, props: InputStreamProps = {}) {
    super(scope, id);
    if (props.existingStreamName !== undefined && props.existingStreamArn !== undefined) {
      throw new Error('InputStream: give existingStreamName or existingStreamArn, not both');
    }
    if (props.existingStreamArn !== undefined) {
      this.stream = Stream.fromStreamArn(this, 'Imported', props.existingStreamArn);
    } else if (props.existingStreamName !== undefined) {
      const arn = Stack.of(this).formatArn({
        service: 'kinesis',
        resource: 'stream',
        resourceName: props.existingStreamName,
      });
      this.stream = Stream.fromStreamArn(this, 'Imported', arn);
    } else {
      this.stream = new Stream(this, 'Stream', {
        shardCount: props.shards ?? 2,
        retentionPeriod: props.retention ?? Duration.hours(24),
        encryption: StreamEncryption.MANAGED,
      });
    }
  }
}
