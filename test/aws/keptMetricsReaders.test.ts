import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { AwsMetricsUiSource } from '../../lib/aws/AwsMetricsUiSource';
import { kinesisClient, lambdaClient, s3Client } from '../../lib/aws/awsClients';
import { CoordinatorRuntime } from '../../lib/aws/CoordinatorRuntime';
import { S3BlockStore } from '../../lib/aws/S3BlockStore';
import { batchInfo } from '../helpers/batchInfo';
import { uniqueName } from './localstack';

// Against the LocalStack of test/aws/globalSetup.ts: `jobs/<job>/metrics.json` as `status` (and the coordinator,
// through the same JobRecords) reads it, and as `sluice ui` does.
const bucket = uniqueName('kept-metrics');
const clients = { s3: s3Client(), lambda: lambdaClient(), kinesis: kinesisClient() };
const root = new S3BlockStore({ client: s3Client(), bucket });

beforeAll(async () => {
  await s3Client().send(new CreateBucketCommand({ Bucket: bucket }));
});

/** A stopped job whose kept metrics are `entries`; what `status` answers and what the Streaming UI shows of them. */
async function bothReaders(job: string, entries: readonly unknown[]) {
  await root.put(`jobs/${job}/control.json`, JSON.stringify({ state: 'stopped', updatedAt: '' }));
  await root.put(`jobs/${job}/job.json`, JSON.stringify({ name: job, batchIntervalMs: 1000 }));
  await root.put(`jobs/${job}/metrics.json`, JSON.stringify(entries));
  const control = CoordinatorRuntime.fromEnv(
    { SLUICE_BUCKET: bucket, SLUICE_COORDINATOR_FUNCTION: 'coordinator' },
    clients,
    { drive: false },
  );
  const status = await control.handle({ action: 'status', job, last: 1000 }, 0);
  const summary = await new AwsMetricsUiSource(root, job).summary();
  return {
    status: {
      batchTimes: (status.batches as { batchTime: number }[]).map((b) => b.batchTime),
      metricsError: status.metricsError as string | undefined,
    },
    ui: { batchTimes: summary.batches.map((b) => b.batchTime), unreadable: summary.unreadable },
  };
}

describe("a job's kept metrics, read by status and by the Streaming UI", () => {
  it('count the same batches when one entry lacks its delays: both leave it out and say so', async () => {
    // given kept metrics where batch 2000 lacks its delays (a record of another version, or edited by hand)
    const { totalDelayMs: _, ...partial } = batchInfo({ batchTime: 2000 });
    const entries = [batchInfo({ batchTime: 1000 }), partial, batchInfo({ batchTime: 3000 })];
    // when status and the UI read them
    const { status, ui } = await bothReaders('no-delays', entries);
    // then both have batches 1000 and 3000 (status listed batch 2000 too, so its last batches were not the page's)
    expect(status.batchTimes).toEqual([1000, 3000]);
    expect(ui.batchTimes).toEqual([1000, 3000]);
    // and both name the entry left out
    expect(status.metricsError).toMatch(
      new RegExp(
        `^s3://${bucket}/jobs/no-delays/metrics.json: 1 of 3 batches left out, without a batch time`,
      ),
    );
    expect(ui.unreadable).toEqual([
      'jobs/no-delays/metrics.json: 1 of 3 batches left out, without a batch time, records or delays',
    ]);
  });

  it('keep the sound batches when one entry is not a batch at all, where status read none', async () => {
    // given kept metrics of 3 batches and a null among them
    const entries = [batchInfo({ batchTime: 1000 }), null, batchInfo({ batchTime: 2000 })];
    // when status and the UI read them
    const { status, ui } = await bothReaders('a-null', entries);
    // then both have the two batches (status answered none, "damaged", while the page showed both)
    expect(status.batchTimes).toEqual([1000, 2000]);
    expect(ui.batchTimes).toEqual([1000, 2000]);
    expect(status.metricsError).toMatch(/metrics.json: 1 of 3 batches left out/);
  });
});
