import { CreateBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { kinesisClient, lambdaClient, s3Client } from '../../lib/aws/awsClients';
import { CoordinatorRuntime } from '../../lib/aws/CoordinatorRuntime';
import { uniqueName } from './localstack';

// Against the LocalStack of test/aws/globalSetup.ts. What the coordinator and the control function refuse at the
// edge, before anything is written; the end-to-end and deploy tests cover what they run.
const bucket = uniqueName('coord');
const clients = { s3: s3Client(), lambda: lambdaClient(), kinesis: kinesisClient() };

beforeAll(async () => {
  await s3Client().send(new CreateBucketCommand({ Bucket: bucket }));
});

const job = (source: Record<string, unknown>, datasets?: Record<string, unknown>) => ({
  name: 'edge',
  batchIntervalMs: 1000,
  sources: { tweets: source },
  ...(datasets ? { datasets } : {}),
  outputs: [{ stream: 'tweets', type: 'print' }],
});

describe('the coordinator at the edge', () => {
  it('refuses a kinesis source without a stream when the deployment has none, naming the field, and writes nothing', async () => {
    const runtime = CoordinatorRuntime.fromEnv(
      { SLUICE_BUCKET: bucket, SLUICE_WORKER_FUNCTION: 'worker' },
      clients,
    );
    const answer = await runtime.handle({ action: 'start', job: job({ type: 'kinesis' }) }, 1000);
    expect(answer).toMatchObject({ ok: false, issues: [{ path: 'sources.tweets.streamName' }] });
    const listed = await s3Client().send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  it('refuses a static dataset path that climbs out of static/', async () => {
    const runtime = CoordinatorRuntime.fromEnv(
      { SLUICE_BUCKET: bucket, SLUICE_WORKER_FUNCTION: 'worker', SLUICE_STREAM: 'tweets' },
      clients,
    );
    const answer = await runtime.handle(
      {
        action: 'start',
        job: job({ type: 'kinesis' }, { spam: { type: 'textFile', path: '../jobs/x/job.json' } }),
      },
      1000,
    );
    expect(answer).toMatchObject({ ok: false, issues: [{ path: 'datasets.spam.path' }] });
  });

  it('answers a malformed event with the field at fault', async () => {
    const runtime = CoordinatorRuntime.fromEnv(
      { SLUICE_BUCKET: bucket, SLUICE_WORKER_FUNCTION: 'worker' },
      clients,
    );
    expect(await runtime.handle({ action: 'status', job: 'no spaces allowed' }, 1000)).toMatchObject({
      ok: false,
      issues: [{ path: 'job' }],
    });
    expect(await runtime.handle({ action: 'status', job: 'never-started' }, 1000)).toMatchObject({
      ok: false,
    });
  });

  it('needs the coordinator’s name to run as the control function', () => {
    expect(() => CoordinatorRuntime.fromEnv({ SLUICE_BUCKET: bucket }, clients, { drive: false })).toThrow(
      /control function needs the environment variables SLUICE_COORDINATOR_FUNCTION/,
    );
    expect(() => CoordinatorRuntime.fromEnv({ SLUICE_BUCKET: bucket }, clients)).toThrow(
      /coordinator needs the environment variables SLUICE_WORKER_FUNCTION/,
    );
  });
});
