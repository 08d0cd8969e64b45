import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsMetricsUiSource } from '../../lib/aws/AwsMetricsUiSource';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { batchInfo } from '../helpers/batchInfo';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-aws-ui-interval-'));
  await mkdir(join(dir, 'jobs/moods'), { recursive: true });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Twelve kept batches 10 s apart, each starting 2 s late and taking a little longer than the one before. */
const keptBatches = Array.from({ length: 12 }, (_, n) =>
  batchInfo({ batchTime: (n + 1) * 10_000, schedulingDelayMs: 2000, processingTimeMs: 1000 + n * 100 }),
);

describe('the Streaming UI of a job on AWS', () => {
  it("judges a job module's batches against the interval its kept batches show", async () => {
    // given a job module's document, which names no interval, and its kept metrics at 10 s batches
    await writeFile(join(dir, 'jobs/moods/job.json'), JSON.stringify({ name: 'moods', module: 'moodJob' }));
    await writeFile(join(dir, 'jobs/moods/metrics.json'), JSON.stringify(keptBatches));
    // when the UI reads them
    const source = new AwsMetricsUiSource(new LocalFolderStore(dir), 'moods');
    const summary = await source.summary();
    // then the interval is 10 s, and batches starting 2 s late are no queue (against a default 1 s, every one
    // counted as queued behind a whole batch, and the page said "Not stable" while the alarm stayed quiet)
    expect(summary.batchIntervalMs).toBe(10_000);
    expect(summary.delayGrowingFor).toBe(0);
    expect((await source.batch(50_000))?.batchIntervalMs).toBe(10_000);
  });

  it("takes a job document's own interval", async () => {
    await writeFile(
      join(dir, 'jobs/moods/job.json'),
      JSON.stringify({ name: 'moods', batchIntervalMs: 500 }),
    );
    await writeFile(join(dir, 'jobs/moods/metrics.json'), JSON.stringify(keptBatches));
    expect((await new AwsMetricsUiSource(new LocalFolderStore(dir), 'moods').summary()).batchIntervalMs).toBe(
      500,
    );
  });
});
