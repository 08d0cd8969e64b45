import type { Logger } from '../log/Logger';
import type { RetryPolicy } from './awsClients';

/**
 * A `RetryPolicy.onRetry` that logs each wait of `withRetries` once, with its cause: throttling (S3 `SlowDown`,
 * Kinesis `ProvisionedThroughputExceededException`) or a 5xx that outlasted the SDK's own attempts.
 *
 * @example
 * new S3BlockStore({ client, bucket, retry: { onRetry: logRetries(log, 'S3') } });
 */
export function logRetries(log: Logger, service: string): NonNullable<RetryPolicy['onRetry']> {
  return (error, retry, delayMs) => {
    const e = error as { name?: unknown; message?: unknown } | null;
    const cause = `${typeof e?.name === 'string' ? e.name : 'Error'}: ${String(e?.message ?? error)}`;
    log.warn(`${service} call failed (${cause}); calling again in ${delayMs} ms (retry ${retry})`, {
      service,
      error: cause,
      retry,
      delayMs,
    });
  };
}
