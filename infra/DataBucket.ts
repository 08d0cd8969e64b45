import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { TEMPORARY_TAG } from '../lib/aws/bucketLayout';

/** Settings of a {@link DataBucket}. */
export interface DataBucketProps {
  /** Days after which temporary data (shuffle map outputs, spilled results) left behind by a crash expires. Default 1. */
  readonly temporaryDataDays?: number;
  /** Keep the bucket and its data when the stack is deleted. Default true: outputs and checkpoints are data. */
  readonly retain?: boolean;
  /**
   * Days an overwritten or deleted object's previous version is kept (the bucket is versioned). Default 7. Temporary
   * data's old versions go after `temporaryDataDays`.
   */
  readonly noncurrentVersionDays?: number;
}

/**
 * The deployment's one bucket: jobs, their block stores, outputs and static datasets (see `lib/aws/bucketLayout.ts`).
 * Encrypted at rest, TLS only, ACLs disabled, never public; a lifecycle rule expires temporary data, which the
 * runtime tags as it writes it, and incomplete multipart uploads.
 *
 * Versioned: fencing keeps a stale coordinator from overwriting what its successor relies on, but nothing in the
 * runtime can undo a mistake made with the right to write (a `reset` sent to the wrong job, a bug that deletes an
 * output, a user's `foreachRDD` writing over `outputs/`). Previous versions are that undo, for a bounded time, so
 * their cost stays bounded too: the runtime deletes every block it no longer needs, and those versions expire.
 */
export class DataBucket extends Construct {
  /** The bucket. */
  readonly bucket: IBucket;

  constructor(scope: Construct, id: string, props: DataBucketProps = {}) {
    super(scope, id);
    const days = props.temporaryDataDays ?? 1;
    const noncurrentDays = props.noncurrentVersionDays ?? 7;
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // ACLs disabled, stated rather than left to S3's default for new buckets: the bucket owner owns every object
      // (whoever wrote it), and no ACL can grant access, so only IAM and the bucket policy decide.
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: true,
      removalPolicy: props.retain === false ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'ExpireTemporaryData',
          tagFilters: { [TEMPORARY_TAG.key]: TEMPORARY_TAG.value },
          expiration: Duration.days(days),
          // Shuffle files are written and deleted every batch: their old versions are worth nothing longer.
          noncurrentVersionExpiration: Duration.days(days),
        },
        {
          id: 'ExpireOldVersions',
          noncurrentVersionExpiration: Duration.days(noncurrentDays),
          expiredObjectDeleteMarker: true,
        },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
  }
}
