import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsMetricsUiSource } from '../../lib/aws/AwsMetricsUiSource';
import { withBatch } from '../../lib/aws/JobRecords';
import type { JobSource } from '../../lib/job/JobSource';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import type { BatchDetail, StreamingSummary } from '../../lib/ui/StreamingUiState';
import { batchPageHtml } from '../../lib/ui/static/batchPage.js';
import { batchDateLabel, batchLabel } from '../../lib/ui/static/pageFormat.js';
import { UiServer } from '../../lib/ui/UiServer';
import { withServedRun } from '../helpers/servedRun';

/** A JSON job of one queue source, printed, at `batchIntervalMs`. */
function queueJob(baseDir: string, batchIntervalMs: number): JobSource {
  return {
    kind: 'document',
    baseDir,
    document: {
      name: 'dated',
      batchIntervalMs,
      sources: { clicks: { type: 'queue', batches: [['a'], ['b'], ['c']] } },
      outputs: [{ stream: 'clicks', type: 'print' }],
    },
  };
}

describe("a batch's date, Spark's batch time", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-ui-dates-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is written as Spark writes it, in UTC, with milliseconds only under a 1 s interval', () => {
    // given a batch due at 18:40:05.050 UTC
    const dueAtMs = Date.UTC(2026, 10, 30, 18, 40, 5, 50);
    // then at 1 s whole seconds, at 50 ms with milliseconds; a batch without a date keeps its stream time
    expect(batchDateLabel(dueAtMs, 1000)).toBe('2026/11/30 18:40:05');
    expect(batchDateLabel(dueAtMs, 50)).toBe('2026/11/30 18:40:05.050');
    expect(batchLabel(7000, dueAtMs, 1000)).toBe('2026/11/30 18:40:05');
    expect(batchLabel(7000, undefined, 1000)).toBe('7 s');
  });

  it('names a batch of a run on the system clock on its page, the moment it fell due', async () => {
    // given a job of 100 ms batches run for 3 batches in real time
    await withServedRun(
      queueJob(dir, 100),
      { batches: 3, storeDir: join(dir, 'store'), clock: 'system' },
      async (run) => {
        // then every batch carries the moment it fell due, one interval apart, and the page has a wall clock
        expect(run.summary.wallClock).toBe(true);
        const due = run.summary.batches.map((b) => b.dueAtMs!);
        expect(due.map((d) => d - due[0]!)).toEqual([0, 100, 200]);
        // and batch 300's page is headed with that moment as a date, its stream time under it
        const { html } = await run.batch(300);
        expect(html).toContain(`<h3>Details of batch at ${batchDateLabel(due[2]!, 100)} UTC</h3>`);
        expect(html).toMatch(/Details of batch at \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{3} UTC/);
        expect(html).toContain('<li>Stream time: 0.3 s (batch 300)</li>');
      },
    );
  });

  it('is not made up on the logical clock: a batch keeps its stream time', async () => {
    // given the same job run back to back on the logical clock
    await withServedRun(queueJob(dir, 1000), { batches: 2, storeDir: join(dir, 'store') }, async (run) => {
      // then no batch has a date, and the page names batch 2000 by its stream time
      expect(run.summary.wallClock).toBe(false);
      expect(run.summary.batches.map((b) => b.dueAtMs)).toEqual([undefined, undefined]);
      expect((await run.batch(2000)).html).toContain('<h3>Details of batch at 2 s</h3>');
    });
  });

  it('reaches the page of a job on AWS through the metrics its coordinator keeps', async () => {
    // given the batches of a run on the system clock (the coordinator's clock), kept as the coordinator keeps them
    let batches: readonly BatchInfo[] = [];
    await withServedRun(
      queueJob(dir, 100),
      { batches: 2, storeDir: join(dir, 'store'), clock: 'system' },
      async (run) => {
        batches = run.batches;
      },
    );
    const kept = batches.reduce<BatchInfo[]>((all, b) => withBatch(all, b), []);
    await mkdir(join(dir, 'bucket/jobs/dated'), { recursive: true });
    await writeFile(
      join(dir, 'bucket/jobs/dated/job.json'),
      JSON.stringify({ name: 'dated', batchIntervalMs: 100 }),
    );
    await writeFile(join(dir, 'bucket/jobs/dated/metrics.json'), JSON.stringify(kept));
    // when `sluice ui --bucket` serves them
    const server = await UiServer.start(
      new AwsMetricsUiSource(new LocalFolderStore(join(dir, 'bucket')), 'dated'),
      0,
    );
    try {
      const summary = (await (await fetch(`${server.url}api/streaming`)).json()) as StreamingSummary;
      const detail = (await (await fetch(`${server.url}api/batch/200`)).json()) as BatchDetail;
      // then its batches have their dates, and batch 200's page is headed with its own
      expect(summary.wallClock).toBe(true);
      expect(summary.batches.map((b) => b.dueAtMs)).toEqual(batches.map((b) => b.dueAtMs));
      expect(batchPageHtml(detail)).toContain(
        `<h3>Details of batch at ${batchDateLabel(batches[1]!.dueAtMs!, 100)} UTC</h3>`,
      );
    } finally {
      await server.close();
    }
  });
});
