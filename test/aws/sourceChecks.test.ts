import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { type SourceTarget, unreachableSources } from '../../lib/aws/sourceChecks';

/** An AWS SDK error as the clients throw it: a name and an HTTP status. */
function awsError(name: string, httpStatusCode: number): Error {
  return Object.assign(new Error(`${name} from AWS`), { name, $metadata: { httpStatusCode } });
}

/** A client whose every call fails with `error` (or succeeds without one), counting its calls. */
function stub(error?: Error) {
  const client = {
    calls: 0,
    send: async () => {
      client.calls++;
      if (error) throw error;
      return {};
    },
  };
  return client;
}

const stream: SourceTarget = { kind: 'kinesis', path: 'sources.tweets.streamName', stream: 'tweets' };
const prefix: SourceTarget = { kind: 's3', path: 'sources.files.bucket', bucket: 'in', prefix: 'input/' };

async function issuesWith(targets: SourceTarget[], kinesis = stub(), s3 = stub()) {
  return unreachableSources(targets, {
    kinesis: kinesis as unknown as KinesisClient,
    s3: s3 as unknown as S3Client,
  });
}

// The calls against LocalStack (a stream or bucket that does not exist) are in CoordinatorRuntime.test.ts; here,
// what LocalStack does not answer: access denied, throttling.
describe('the check that a job can read its sources', () => {
  it('names the source, and says access was denied, for a stream or prefix the role may not read', async () => {
    expect(await issuesWith([stream], stub(awsError('AccessDeniedException', 400)))).toEqual([
      {
        path: 'sources.tweets.streamName',
        message: expect.stringMatching(/^access denied: .*may not describe the Kinesis stream "tweets"/),
        value: 'tweets',
      },
    ]);
    expect(await issuesWith([prefix], stub(), stub(awsError('AccessDenied', 403)))).toEqual([
      {
        path: 'sources.files.bucket',
        message: expect.stringMatching(/^access denied: .*may not list s3:\/\/in\/input\//),
        value: 'in',
      },
    ]);
  });

  it('lets a start through when AWS only throttles the check: the batches retry their own calls', async () => {
    const throttled = stub(awsError('LimitExceededException', 400));
    expect(await issuesWith([stream], throttled)).toEqual([]);
    // (retried a couple of times first)
    expect(throttled.calls).toBe(3);
  });

  it('calls once per distinct stream or prefix, and reports each source that reads it', async () => {
    const kinesis = stub(awsError('ResourceNotFoundException', 400));
    const other = { ...stream, path: 'sources.again.streamName' };
    const issues = await issuesWith([stream, other, prefix], kinesis);
    expect(kinesis.calls).toBe(1);
    expect(issues.map((i) => i.path)).toEqual(['sources.tweets.streamName', 'sources.again.streamName']);
  });
});
