import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { errorText, type JobIssue } from '../errors';
import { errorName, httpStatusOf, isTransientAwsError, withRetries } from './awsClients';
import { CHECK_RETRIES } from './sourceChecks';

/** A static file a job document's `textFile` dataset reads, where the document names it. */
export interface StaticFileTarget {
  /** The JSON path of the dataset's `path` (`datasets.spam.path`). */
  readonly path: string;
  /** The `path` as the document gives it. */
  readonly value: string;
  /** The object it names: `s3://bucket/key`. */
  readonly url: string;
}

/**
 * The static files of `targets` that cannot be read, one `HeadObject` each: an issue at the dataset's `path` for
 * an object that is not there or that the role may not read. Locally `sluice run` refuses a missing file at the
 * same path before the first batch; on AWS the start was accepted and every batch then failed its task 4 times,
 * naming only the dataset. A check that still fails for a transient reason is no issue: the batches retry theirs.
 */
export async function unreadableStaticFiles(
  targets: readonly StaticFileTarget[],
  s3: S3Client,
): Promise<JobIssue[]> {
  const problems = await Promise.all(targets.map((target) => objectProblem(target.url, s3)));
  return targets.flatMap((target, i): JobIssue[] => {
    const problem = problems[i];
    return problem === undefined ? [] : [{ path: target.path, message: problem, value: target.value }];
  });
}

async function objectProblem(url: string, s3: S3Client): Promise<string | undefined> {
  let bucket: string;
  let key: string;
  try {
    // As the tasks read it (`readStaticFile`): a path they cannot parse either (`100%.txt`) is the job's issue, at
    // its path, not an error that fails the start with no path.
    const { hostname, pathname } = new URL(url);
    bucket = hostname;
    key = decodeURIComponent(pathname.slice(1));
  } catch (error) {
    return `${url} is not an S3 address a task can read (${errorText(error)}): name the object by its key, and write a % in it as %25`;
  }
  try {
    await withRetries(() => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })), {
      retries: CHECK_RETRIES,
    });
    return undefined;
  } catch (error) {
    const name = errorName(error);
    const status = httpStatusOf(error);
    if (name === 'NotFound' || name === 'NoSuchKey' || name === 'NoSuchBucket' || status === 404) {
      return `the object ${url} does not exist: upload the file before the job starts (a relative path names an object under the bucket's static/)`;
    }
    if (name === 'AccessDenied' || name === 'Forbidden' || status === 403) {
      return `access denied: this function's role may not read ${url}; the stack's roles read the static/ prefix of its own bucket (give a relative path)`;
    }
    if (isTransientAwsError(error)) return undefined;
    return `${url} cannot be read: ${name ?? 'Error'}: ${(error as Error).message}`;
  }
}
