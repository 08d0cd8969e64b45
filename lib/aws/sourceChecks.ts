import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { JobIssue } from '../errors';
import { errorName, httpStatusOf, isTransientAwsError, withRetries } from './awsClients';
import { isKinesisRetryable } from './kinesisCalls';

/** A cloud source a job reads, where the job names it. */
export type SourceTarget =
  | { readonly kind: 'kinesis'; readonly path: string; readonly stream: string; readonly implicit?: boolean }
  | { readonly kind: 's3'; readonly path: string; readonly bucket: string; readonly prefix: string };

/** The clients the checks call with: the function's own, so its role's permissions are the ones checked. */
export interface SourceCheckClients {
  readonly s3: S3Client;
  readonly kinesis: KinesisClient;
}

/** Retries of a throttled or failed check call: few, since `start` answers while the caller waits. */
export const CHECK_RETRIES = 2;

/**
 * Whether each source a job reads can be read, with one cheap call per distinct stream or prefix: Kinesis
 * `DescribeStreamSummary`, S3 `ListObjectsV2` of at most one key under the prefix (what the source does every
 * batch, so a role that may list there passes). An issue per source that cannot be: no such stream or bucket,
 * access denied, or what AWS said. A check that still fails for a transient reason (throttling, a 5xx) is no
 * issue: the batches retry their own calls.
 */
export async function unreachableSources(
  targets: readonly SourceTarget[],
  clients: SourceCheckClients,
): Promise<JobIssue[]> {
  const checks = new Map<string, Promise<string | undefined>>();
  const problemOf = (target: SourceTarget) => {
    const id =
      target.kind === 'kinesis' ? `kinesis|${target.stream}` : `s3|${target.bucket}|${target.prefix}`;
    let check = checks.get(id);
    if (!check) {
      check =
        target.kind === 'kinesis'
          ? streamProblem(target.stream, clients.kinesis)
          : prefixProblem(target, clients.s3);
      checks.set(id, check);
    }
    return check;
  };
  const problems = await Promise.all(targets.map(problemOf));
  return targets.flatMap((target, i): JobIssue[] => {
    const problem = problems[i];
    if (problem === undefined) return [];
    const implicit =
      target.kind === 'kinesis' && target.implicit === true
        ? ` (the source names no streamName, so it reads the deployment's stream ${JSON.stringify(target.stream)})`
        : '';
    return [
      {
        path: target.path,
        message: `${problem}${implicit}`,
        ...(target.kind === 'kinesis' && !target.implicit ? { value: target.stream } : {}),
        ...(target.kind === 's3' ? { value: target.bucket } : {}),
      },
    ];
  });
}

async function streamProblem(stream: string, client: KinesisClient): Promise<string | undefined> {
  try {
    await withRetries(() => client.send(new DescribeStreamSummaryCommand({ StreamName: stream })), {
      retries: CHECK_RETRIES,
      isRetryable: isKinesisRetryable,
    });
    return undefined;
  } catch (error) {
    const name = errorName(error);
    if (name === 'ResourceNotFoundException') {
      return `no such stream: there is no Kinesis stream named ${JSON.stringify(stream)} in this account and region; create it, or name an existing one`;
    }
    if (name === 'AccessDeniedException') {
      return `access denied: this function's role may not describe the Kinesis stream ${JSON.stringify(stream)}; the stack's roles may read its own stream only (leave streamName out to read it)`;
    }
    if (isKinesisRetryable(error)) return undefined;
    return `the Kinesis stream ${JSON.stringify(stream)} cannot be read: ${name ?? 'Error'}: ${(error as Error).message}`;
  }
}

async function prefixProblem(
  target: Extract<SourceTarget, { kind: 's3' }>,
  client: S3Client,
): Promise<string | undefined> {
  const { bucket, prefix } = target;
  const where = `s3://${bucket}/${prefix}`;
  try {
    await withRetries(
      () => client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 })),
      { retries: CHECK_RETRIES },
    );
    return undefined;
  } catch (error) {
    const name = errorName(error);
    const status = httpStatusOf(error);
    if (name === 'NoSuchBucket') {
      return `no such bucket: there is no S3 bucket named ${JSON.stringify(bucket)}; create it, or name an existing one`;
    }
    if (name === 'AccessDenied' || status === 403) {
      return `access denied: this function's role may not list ${where}; the stack's roles may read the input/ prefix of its own bucket only`;
    }
    if (name === 'PermanentRedirect' || status === 301) {
      return `the bucket ${JSON.stringify(bucket)} is in another region than the deployment: read a bucket of the deployment's region`;
    }
    if (isTransientAwsError(error)) return undefined;
    return `${where} cannot be listed: ${name ?? 'Error'}: ${(error as Error).message}`;
  }
}
