import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { TEMPORARY_TAG } from '../lib/aws/bucketLayout';

/** Settings of a {@link DataBucket}. */
export interface DataBucketProps {
  /** Days after which temporary data (shuffle map outputs, spilled results) left behind by a crash expires. Default 1. */
  readonly temporaryDataDays?: number;
  /** Keep the bucket and its data when the stack is deleted. Default true: outputs and checkpoints are data. */
  readonly retain?: boolean;
}

/**
 * The deployment's one bucket: jobs, their block stores, outputs and static datasets (see `lib/aws/bucketLayout.ts`).
 * Encrypted at rest, TLS only, never public; a lifecycle rule expires temporary data, which the runtime tags as it
 * writes it, and incomplete multipart uploads.
 */
export class DataBucket extends Construct {
  /** The bucket. */
  readonly bucket: IBucket;

  constructor(scope: Construct, id: string, props: DataBucketProps = {}) {
    super(scope, id);
    const days = props.temporaryDataDays ?? 1;
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: false,
      removalPolicy: props.retain === false ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'ExpireTemporaryData',
          tagFilters: { [TEMPORARY_TAG.key]: TEMPORARY_TAG.value },
          expiration: Duration.days(days),
        },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
  }
}
