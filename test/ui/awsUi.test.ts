import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ActiveSnapshot, AwsMetricsUiSource } from '../../lib/aws/AwsMetricsUiSource';
import { S3BlockStore } from '../../lib/aws/S3BlockStore';
import { LocalRuntime } from '../../lib/local/LocalRuntime';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';
import type { StreamingSummary } from '../../lib/ui/StreamingUiState';
import { batchPageHtml } from '../../lib/ui/static/batchPage.js';
import { activeBatchesTable, completedBatchesTable } from '../../lib/ui/static/batchTables.js';
import { batchDateLabel } from '../../lib/ui/static/pageFormat.js';
import { awsTestConfig, testS3Client, uniqueName } from '../aws/localstack';
import { batchInfo } from '../helpers/batchInfo';
import { ensureChromium } from './ensureChromium';

const COST = {
  records: 2,
  workerGbSeconds: 0.1,
  coordinatorGbSeconds: 0.1,
  workerInvocations: 2,
  coordinatorInvocations: 1,
  s3WriteRequests: 4,
  s3ReadRequests: 4,
  kinesisGetRecords: 0,
  lambdaDollars: 0,
  s3Dollars: 0,
  kinesisDollars: 0,
  prices: 'us-east-1 2026-11',
};

/** A `sluice tune --out` file of a search that tried no configuration. */
const EMPTY_SEARCH = {
  kind: 'sluice-tune',
  version: 1,
  job: 'sums.json',
  startedAt: '2026-11-29T03:00:00.000Z',
  durationMs: 1000,
  cores: 2,
  rule: { text: 'the rule', lastBatches: 4, maxTotalDelayIntervals: 1.5, growthIntervals: 0.1 },
  settings: { intervalsMs: [], partitions: [], budgetMs: 1000, trialMs: 1000, samples: {} },
  results: [],
  recommendation: {
    text: 'No configuration tried kept its total delay flat, even at the lowest rate tried.',
  },
};

/**
 * What the coordinator wrote beside its kept metrics 3 s before the test: batch 5000 queued, batch 4000 running for
 * 2 s.
 */
const ACTIVE: ActiveSnapshot = {
  writtenAtMs: Date.now() - 3000,
  active: [
    {
      batchTime: 5000,
      records: 7,
      status: 'queued',
      dueAtMs: Date.now() - 4120,
      schedulingDelayMs: 1120,
      outputOpsTotal: 1,
      outputOpsSucceeded: 0,
      outputOpsFailed: 0,
    },
    {
      batchTime: 4000,
      records: 2,
      status: 'processing',
      dueAtMs: Date.now() - 5120,
      startedAtMs: Date.now() - 5000,
      schedulingDelayMs: 120,
      processingTimeMs: 2000,
      outputOpsTotal: 1,
      outputOpsSucceeded: 0,
      outputOpsFailed: 0,
    },
  ],
};

const root = new URL('../..', import.meta.url).pathname;
const client = testS3Client();
const bucket = uniqueName('ui');
const store = new S3BlockStore({ client, bucket });
let batches: readonly BatchInfo[];

describe('the Streaming UI of a job on AWS, read from the bucket on LocalStack S3', () => {
  beforeAll(async () => {
    // given a bucket where a job's coordinator kept the metrics of 3 batches (real ones: run by the engine)
    // and a dead letter of its first batch, where the coordinator writes them
    const dir = await mkdtemp(join(tmpdir(), 'sluice-ui-aws-'));
    const runtime = await LocalRuntime.start(
      { kind: 'module', path: join(root, 'test/helpers/runtimeJobs.ts'), exportName: 'malformedRecords' },
      { clock: 'logical', batches: 3, workers: 0, storeDir: join(dir, 'store'), write: () => {} },
    );
    batches = (await runtime.run()).batches;
    await rm(dir, { recursive: true, force: true });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    await store.put('jobs/sums/job.json', JSON.stringify({ name: 'sums', batchIntervalMs: 1000 }));
    // as the coordinator keeps them, each with its cost report
    const kept = batches.map((b, i) => ({ ...b, cost: { ...COST, dollars: (i + 1) / 1e6 } }));
    await store.put('jobs/sums/metrics.json', JSON.stringify(kept));
    // and, written with them, the batch it was running then
    await store.put('jobs/sums/active.json', JSON.stringify(ACTIVE));
    await store.put(
      'jobs/sums/store/dead-letter/1000.jsonl',
      `${JSON.stringify({ batchTime: 1000, dataset: 'map#1', fn: 'f1', error: 'Unexpected token', record: 'not json' })}\n`,
    );
  });

  afterAll(async () => {
    await store.deletePrefix('');
  });

  it('reads the kept batches, the interval, a batch with its stages, and its dead letters', async () => {
    // when the reader is asked as the page would ask
    const source = new AwsMetricsUiSource(store, 'sums');
    const summary = await source.summary();
    const detail = await source.batch(1000);
    // then it has the batches the coordinator kept, read-only, and the batch's stages and letters
    expect(summary.readOnly).toBe(true);
    expect(summary.batchIntervalMs).toBe(1000);
    expect(summary.batches.map((b) => b.batchTime)).toEqual([1000, 2000, 3000]);
    expect(summary.records).toBe(batches.reduce((n, b) => n + b.records, 0));
    expect(detail?.info.outputOps?.[0]?.jobs[0]?.stages.length).toBeGreaterThanOrEqual(2);
    expect(detail?.deadLetters.map((l) => l.record)).toEqual(['not json']);
    expect(await source.batch(9000)).toBeUndefined();
    expect(summary.active).toEqual(ACTIVE.active);
    expect(summary.activeAsOfMs).toBe(ACTIVE.writtenAtMs);
  });

  it('writes the counts of a job on AWS grouped by thousands, as a local run has them', async () => {
    // given a coordinator that kept a batch of 12,345 records from one stream and is running one of 2,500
    await store.put('jobs/counts/job.json', JSON.stringify({ name: 'counts', batchIntervalMs: 1000 }));
    const kept = batchInfo({
      batchTime: 1000,
      records: 12_345,
      inputRecords: { n1: 12_345 },
      inputs: { n1: { name: 'clicks' } },
    });
    await store.put('jobs/counts/metrics.json', JSON.stringify([kept]));
    const running = { ...ACTIVE.active[1]!, batchTime: 2000, records: 2500 };
    await store.put(
      'jobs/counts/active.json',
      JSON.stringify({ writtenAtMs: Date.now(), active: [running] }),
    );
    // when the page's tables and the batch's page are drawn from what the reader gives
    const source = new AwsMetricsUiSource(store, 'counts');
    const summary = await source.summary();
    const batchPage = batchPageHtml((await source.batch(1000))!);
    // then the records read grouped in both tables and on the batch's page
    expect(completedBatchesTable(summary).html).toContain('<td>12,345</td>');
    expect(activeBatchesTable(summary).html).toContain('<td>2,500</td>');
    expect(batchPage).toContain('<li>Records: 12,345</li>');
    expect(batchPage).toContain('<td class="text">clicks</td><td>12,345</td>');
  });

  it('hides the tables of a job on AWS that have nothing to show, as a local run does', async () => {
    // given a coordinator that kept a batch that succeeded and wrote that it runs none
    await store.put('jobs/idle/job.json', JSON.stringify({ name: 'idle', batchIntervalMs: 1000 }));
    await store.put('jobs/idle/metrics.json', JSON.stringify([batchInfo({ batchTime: 1000, records: 3 })]));
    await store.put('jobs/idle/active.json', JSON.stringify({ writtenAtMs: Date.now(), active: [] }));
    // when the page's tables are drawn from what the reader gives
    const summary = await new AwsMetricsUiSource(store, 'idle').summary();
    // then there is no Active Batches table, and the completed one has no Error column
    expect(activeBatchesTable(summary)).toMatchObject({ title: 'Active Batches (0)', html: '' });
    expect(completedBatchesTable(summary).html).not.toContain('Error');
  });

  it('says so when the job is not in the bucket', async () => {
    await expect(new AwsMetricsUiSource(store, 'nope').summary()).rejects.toThrow(
      /no job nope in this bucket: jobs\/nope\/job.json is missing/,
    );
  });

  it('serves the page with `sluice ui --bucket --job` against the endpoint in AWS_ENDPOINT_URL', async () => {
    // given the CLI pointed at LocalStack, with a tune search of the job beside it (one that found nothing)
    const { endpoint, region, credentials } = awsTestConfig();
    const dir = await mkdtemp(join(tmpdir(), 'sluice-ui-aws-tune-'));
    const tunePath = join(dir, 'tune.json');
    await writeFile(tunePath, JSON.stringify(EMPTY_SEARCH));
    const child = spawn(
      process.execPath,
      [
        join(root, 'lib/local/sluice.mjs'),
        'ui',
        '--bucket',
        bucket,
        '--job',
        'sums',
        '--tune',
        tunePath,
        '--port',
        '0',
      ],
      {
        env: {
          ...process.env,
          AWS_ENDPOINT_URL: endpoint,
          AWS_REGION: region,
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    try {
      while (!/ at (http:\S+)/.test(stderr)) {
        if (child.exitCode !== null) throw new Error(`sluice ui ended: ${stderr}`);
        await sleep(100);
      }
      const url = / at (http:\S+)/.exec(stderr)![1]!;
      // when the page's JSON is read
      const summary = (await (await fetch(`${url}api/streaming`)).json()) as StreamingSummary;
      // then it shows the job's kept batches
      expect(summary.jobName).toBe('sums');
      // and the search, for its Tune page
      const tune = (await (await fetch(`${url}api/tune`)).json()) as { recommendation: string };
      expect(tune.recommendation).toBe(EMPTY_SEARCH.recommendation.text);
      expect(summary.batches).toHaveLength(3);
      expect(stderr).toContain(`s3://${bucket}/jobs/sums/, read-only`);
      // and, in a browser where chromium can be had, the page charts them and shows each batch's cost
      const executablePath = ensureChromium();
      if (executablePath) {
        const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
        try {
          const page = await browser.newPage();
          await page.goto(url);
          await page.waitForSelector('#completed table');
          expect(await page.textContent('#header')).toContain('(3 completed batches kept, ');
          const points = await page.evaluate(
            () =>
              (globalThis as unknown as { sluiceCharts: Record<string, { data: number[][] }> }).sluiceCharts
                .totalDelay!.data[0],
          );
          expect(points).toEqual([1, 2, 3]);
          const costs = await page.$$eval('#completed tr td:nth-child(9)', (cells) =>
            cells.map((c) => c.textContent),
          );
          expect(costs).toEqual(['$0.000003', '$0.000002', '$0.000001']);
          // and the batch the coordinator was running, with how long ago it wrote that
          expect(await page.textContent('#active-fresh')).toMatch(
            /^As the coordinator wrote them \d+ seconds ago/,
          );
          const active = async () =>
            page.$$eval('#active tr', (rows) =>
              rows.slice(1).map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent)),
            );
          // (named by the moment it fell due, as on the coordinator's real clock; the kept batches, run here on the
          // logical clock, have none and keep their stream time)
          const [queued, running] = [
            batchDateLabel(ACTIVE.active[0]!.dueAtMs, 1000),
            batchDateLabel(ACTIVE.active[1]!.dueAtMs, 1000),
          ];
          expect(await active()).toEqual([
            [queued, '7', '1.1 s', '-', '0/1', 'queued'],
            [running, '2', '120 ms', '2.0 s', '0/1', 'processing'],
          ]);
          // and a click on Processing Time's head sorts them by it, as the completed ones are sorted: the running
          // batch first, the queued one, which has none yet, after it
          await page.click('#active th[data-sort="processingTime"]');
          await page.waitForSelector('#active th[data-sort="processingTime"][aria-sort="descending"]');
          expect((await active()).map((r) => r[5])).toEqual(['processing', 'queued']);
          // and a link to the Tune page, which says what the search found
          await page.click('#tune-link');
          await page.waitForSelector('p.recommendation');
          expect(await page.textContent('p.recommendation')).toBe(EMPTY_SEARCH.recommendation.text);
        } finally {
          await browser.close();
        }
      }
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('close', resolve));
      await rm(dir, { recursive: true, force: true });
    }
    expect(child.exitCode).toBe(0);
  });
});
