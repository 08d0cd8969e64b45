import { KinesisClient } from '@aws-sdk/client-kinesis';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * The AWS clients of one process, and the retry policy Sluice layers over the SDK's.
 *
 * Each client is created on first use and then reused for the life of the process, so a warm Lambda reuses its
 * connections. They honour `AWS_ENDPOINT_URL` (and the per-service `AWS_ENDPOINT_URL_S3`,
 * `AWS_ENDPOINT_URL_KINESIS`, `AWS_ENDPOINT_URL_LAMBDA`), which is how tests point them at LocalStack:
 * - S3 then addresses buckets path-style (`http://127.0.0.1:4566/bucket/key`), because emulators do not
 *   serve `bucket.host` names;
 * - Kinesis and Lambda then use HTTP/1.1 (`NodeHttpHandler`): the Kinesis client defaults to HTTP/2, which
 *   kinesis-mock's plain port rejects with "Protocol error".
 *
 * Retry policy, in two layers:
 * 1. the SDK's standard retry mode, `maxAttempts` {@link SDK_MAX_ATTEMPTS} per call: it retries throttling,
 *    5xx and network errors after an exponential backoff with jitter (100 ms base, 20 s cap), within a
 *    per-client retry quota that stops retrying while most calls fail;
 * 2. {@link withRetries} around each call of a Sluice adapter (S3BlockStore, KinesisSource): when the SDK gives
 *    up on a throttling or 5xx error (its attempts or its quota ran out, as under sustained S3 `SlowDown` or
 *    Kinesis read throttling), wait longer, with "full jitter" (a random delay in [0, min(cap, base × 2^n)]),
 *    and call again, a bounded number of times. Client errors (4xx other than throttling) are never retried.
 */

/** Attempts per call made by the SDK itself, first attempt included. */
export const SDK_MAX_ATTEMPTS = 3;

let s3: S3Client | undefined;
let kinesis: KinesisClient | undefined;
let lambda: LambdaClient | undefined;

/**
 * The process's S3 client.
 *
 * @example
 * const store = new S3BlockStore({ client: s3Client(), bucket: 'my-sluice-bucket' });
 */
export function s3Client(): S3Client {
  if (s3 === undefined) {
    const endpoint = endpointFor('S3');
    s3 = new S3Client({
      maxAttempts: SDK_MAX_ATTEMPTS,
      ...(endpoint === undefined ? {} : { endpoint, forcePathStyle: true }),
    });
  }
  return s3;
}

/** The process's Kinesis client. */
export function kinesisClient(): KinesisClient {
  if (kinesis === undefined) {
    const endpoint = endpointFor('KINESIS');
    kinesis = new KinesisClient({
      maxAttempts: SDK_MAX_ATTEMPTS,
      ...(endpoint === undefined ? {} : { endpoint, requestHandler: new NodeHttpHandler() }),
    });
  }
  return kinesis;
}

/**
 * The process's Lambda client. No request or socket timeout, on purpose: a worker invocation's call must end only
 * when the function did (answered, failed or timed out), since the scheduler takes a call's end for the end of
 * everything the task writes (see `LosingAttempts`).
 */
export function lambdaClient(): LambdaClient {
  if (lambda === undefined) {
    const endpoint = endpointFor('LAMBDA');
    lambda = new LambdaClient({
      maxAttempts: SDK_MAX_ATTEMPTS,
      ...(endpoint === undefined ? {} : { endpoint, requestHandler: new NodeHttpHandler() }),
    });
  }
  return lambda;
}

/** The process's three clients at once, for runtimes that take them together (the coordinator). */
export function awsClients(): {
  readonly s3: S3Client;
  readonly kinesis: KinesisClient;
  readonly lambda: LambdaClient;
} {
  return { s3: s3Client(), kinesis: kinesisClient(), lambda: lambdaClient() };
}

/** The endpoint the environment sets for a service, the per-service variable first; undefined for AWS itself. */
function endpointFor(service: 'S3' | 'KINESIS' | 'LAMBDA'): string | undefined {
  const endpoint = process.env[`AWS_ENDPOINT_URL_${service}`] || process.env.AWS_ENDPOINT_URL;
  return endpoint === '' ? undefined : endpoint;
}

/** How {@link withRetries} waits and when it gives up. */
export interface RetryPolicy {
  /** Calls made after the first one fails, at most. Default `5`. */
  readonly retries?: number;
  /** The backoff cap before the first retry, doubled for each further one, in ms. Default `200`. */
  readonly baseBackoffMs?: number;
  /** The largest backoff cap, in ms. Default `10_000`. */
  readonly maxBackoffMs?: number;
  /** Which failures are worth another call. Default {@link isTransientAwsError}. */
  readonly isRetryable?: (error: unknown) => boolean;
  /** Called before each wait; for logs and metrics. Default: nothing. */
  readonly onRetry?: (error: unknown, retry: number, delayMs: number) => void;
}

/**
 * Calls `call` until it succeeds, retrying retryable failures with exponential backoff and full jitter; the
 * last failure is rethrown once the retries are spent.
 *
 * @example
 * const out = await withRetries(() => client.send(new GetObjectCommand({ Bucket, Key })), { retries: 3 });
 */
export async function withRetries<T>(call: () => Promise<T>, policy: RetryPolicy = {}): Promise<T> {
  const retries = policy.retries ?? 5;
  const baseBackoffMs = policy.baseBackoffMs ?? 200;
  const maxBackoffMs = policy.maxBackoffMs ?? 10_000;
  const isRetryable = policy.isRetryable ?? isTransientAwsError;
  for (let retry = 0; ; retry++) {
    try {
      return await call();
    } catch (error) {
      if (retry >= retries || !isRetryable(error)) throw error;
      // Full jitter: callers throttled together spread out instead of retrying in lockstep.
      const delayMs = Math.round(Math.random() * Math.min(maxBackoffMs, baseBackoffMs * 2 ** retry));
      policy.onRetry?.(error, retry + 1, delayMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** Error names AWS services use for "too many requests, slow down". */
const THROTTLING_ERRORS = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
]);

/** Errors of the connection rather than of the request: another call may well succeed. */
const NETWORK_ERRORS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/** The name of an AWS SDK error (`ExpiredIteratorException`, …), or undefined for anything else. */
export function errorName(error: unknown): string | undefined {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : undefined;
}

/** The HTTP status an AWS SDK error carries (`$metadata.httpStatusCode`), or undefined for anything else. */
export function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** True for throttling, 5xx and network errors; false for everything a retry cannot fix. */
export function isTransientAwsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; code?: unknown };
  const status = httpStatusOf(error);
  if (status !== undefined && (status === 429 || status >= 500)) return true;
  return (
    (typeof e.name === 'string' && (THROTTLING_ERRORS.has(e.name) || NETWORK_ERRORS.has(e.name))) ||
    (typeof e.code === 'string' && NETWORK_ERRORS.has(e.code))
  );
}

/** The HTTP requests an SDK call made, SDK retries included, read from its output or its error. */
export function attemptsOf(outputOrError: unknown): number {
  const attempts = (outputOrError as { $metadata?: { attempts?: unknown } } | null)?.$metadata?.attempts;
  return typeof attempts === 'number' && attempts > 0 ? attempts : 1;
}
