import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';
import { type StreamingSummary, StreamingUiState } from '../../lib/ui/StreamingUiState';
import { UiServer } from '../../lib/ui/UiServer';
import { batchInfo } from '../helpers/batchInfo';
import { ensureChromium } from './ensureChromium';

const root = new URL('../..', import.meta.url).pathname;
const executablePath = ensureChromium();

/** The page's charts, as the test reads them through the page: each chart's x values (batch times in s). */
type ChartXs = Record<string, number[]>;

describe.skipIf(executablePath === undefined)('the Streaming UI in a real browser', () => {
  let dir: string;
  let child: ChildProcess;
  let stderr = '';
  let url: string;
  let browser: Browser;

  beforeAll(async () => {
    // given a job running in real time with --ui 0, its metrics written to a file too
    dir = await mkdtemp(join(tmpdir(), 'sluice-ui-'));
    child = spawn(
      process.execPath,
      [
        join(root, 'lib/local/sluice.mjs'),
        'run',
        join(root, 'events/hashtag-counts.json'),
        '--ui',
        '0',
        '--workers',
        '0',
        '--quiet',
        '--store',
        join(dir, 'store'),
        '--out',
        dir,
        '--metrics',
        join(dir, 'metrics.jsonl'),
      ],
      { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr!.on('data', (d) => (stderr += d));
    while (!/Streaming UI at (\S+)/.test(stderr)) {
      if (child.exitCode !== null) throw new Error(`sluice run ended early: ${stderr}`);
      await sleep(100);
    }
    url = /Streaming UI at (\S+)/.exec(stderr)![1]!;
    browser = await chromium.launch({ executablePath: executablePath!, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('close', resolve));
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('charts the batches that ran, opens a batch page with its stages, and saves a screenshot', async () => {
    // when several batches completed
    let summary: StreamingSummary;
    do {
      await sleep(500);
      summary = (await (await fetch(`${url}api/streaming`)).json()) as StreamingSummary;
    } while (summary.completedBatches < 8);
    const page = await browser.newPage({ viewport: { width: 1200, height: 1100 } });
    await page.goto(url);
    await page.waitForFunction(() => {
      const charts = (globalThis as unknown as { sluiceCharts: Record<string, { data: number[][] }> })
        .sluiceCharts;
      return (charts.totalDelay?.data[0]?.length ?? 0) >= 8;
    });
    // then every timeline holds the same batches, one point each, and those are batches that ran
    const xs: ChartXs = await page.evaluate(() => {
      const charts = (globalThis as unknown as { sluiceCharts: Record<string, { data: number[][] }> })
        .sluiceCharts;
      return Object.fromEntries(
        ['inputRate', 'schedulingDelay', 'processingTime', 'totalDelay'].map((name) => [
          name,
          charts[name]!.data[0]!,
        ]),
      );
    });
    const header = await page.textContent('#header');
    expect(header).toMatch(
      /Running batches of 1\.0 s for \d+ seconds since .* \(\d+ completed batches, [\d,]+ records\)/,
    );
    expect(await page.textContent('#stability')).toMatch(/Stable|Not stable/);
    const firstBatchTime = xs.totalDelay![0]! * 1000;
    for (const name of ['inputRate', 'schedulingDelay', 'processingTime'])
      expect(xs[name]).toEqual(xs.totalDelay);
    // the batch interval is drawn on the processing time timeline as a series of its own
    const intervalLine = await page.evaluate(
      () =>
        (globalThis as unknown as { sluiceCharts: Record<string, { data: number[][] }> }).sluiceCharts
          .processingTime!.data[2],
    );
    expect(new Set(intervalLine)).toEqual(new Set([1000]));
    // The README's picture is refreshed on request only, so that a test run leaves the checkout as it was.
    const picture = process.env.SLUICE_UPDATE_SCREENSHOT
      ? join(root, 'docs/ui.png')
      : join(tmpdir(), `sluice-ui-${process.pid}.png`);
    await page.screenshot({ path: picture, fullPage: false });
    // and, on the system clock, each completed batch is named by its date in UTC, as Spark names a batch time
    expect(await page.textContent('#completed th')).toBe('Batch Time (UTC)');
    // and, no batch having failed, it has no Error column, as Spark's has none then
    const heads = await page.$$eval('#completed th', (cells) => cells.map((c) => c.textContent));
    expect(heads).toContain('Slowest Stage');
    expect(heads).not.toContain('Error');
    expect(await page.textContent(`a[href="#/batch/${firstBatchTime}"]`)).toMatch(
      /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d$/,
    );

    // when the first batch's link is followed
    await page.click(`a[href="#/batch/${firstBatchTime}"]`);
    await page.waitForSelector('tr.stage, tr.slowest');
    // then its page shows the output operation's job and its stages, the slowest highlighted
    const stageRows = await page.$$eval('tr.stage, tr.slowest', (rows) => rows.length);
    expect(stageRows).toBeGreaterThanOrEqual(2);
    expect(await page.$$eval('tr.slowest', (rows) => rows.length)).toBe(1);
    expect(await page.textContent('main')).toContain('Output Op 0: counts');
    expect(await page.textContent('h3')).toMatch(
      /^Details of batch at \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d UTC$/,
    );
    await page.close();

    // and, once the run is stopped, the charted batches are among those the metrics file recorded
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('close', resolve));
    const ran = (await readFile(join(dir, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as BatchInfo).batchTime);
    for (const x of xs.totalDelay!) expect(ran).toContain(x * 1000);
    expect(stderr).not.toContain('Error');
  });
});

describe.skipIf(executablePath === undefined)('the Streaming UI with 1,000 batches', () => {
  it('charts every retained batch and pages the completed batches, 100 a page', async () => {
    // given a run of 1,200 batches, of which the UI retains the last 1,000, on no wall clock (a simulation): its
    // batches are named by their stream time
    const state = new StreamingUiState('long-run', 1000, Date.now(), false);
    for (let n = 1; n <= 1200; n++) state.onBatchCompleted(batch(n * 1000, n % 7));
    // and two active batches: one running, started 1.5 s after it was due, one of its 3 output ops done and one
    // failed; one queued behind it, not yet due (so it has waited 0 ms)
    state.onBatchSubmitted(1_201_000, 5, Date.now() - 1500, 3);
    state.onBatchStarted(1_201_000);
    state.onOutputOpCompleted(1_201_000, 0);
    state.onOutputOpCompleted(1_201_000, 1, 'boom');
    state.onBatchSubmitted(1_202_000, 3, Date.now() + 3_600_000, 2);
    const server = await UiServer.start(state, 0);
    const browser = await chromium.launch({ executablePath: executablePath!, args: ['--no-sandbox'] });
    try {
      // when the page is opened, then its third page of completed batches
      const page = await browser.newPage();
      await page.goto(server.url);
      await page.waitForSelector('#completed table');
      const points = await page.evaluate(
        () =>
          (globalThis as unknown as { sluiceCharts: Record<string, { data: number[][] }> }).sluiceCharts
            .processingTime!.data[0]!.length,
      );
      const pages = await page.$$eval('#completed-pager button', (buttons) => buttons.length);
      await page.click('#completed-pager button[data-page="2"]');
      await page.waitForSelector('#completed-pager button[data-page="2"][disabled]');
      const times = await page.$$eval('#completed tr td:first-child', (cells) =>
        cells.map((c) => c.textContent),
      );
      // then every retained batch is a point, and the third page starts 200 batches back from the newest
      expect(points).toBe(1000);
      expect(await page.textContent('#completed-title')).toBe('Completed Batches (last 1,000 out of 1,200)');
      expect(pages).toBe(10);
      expect(times).toHaveLength(100);
      expect(times[0]).toBe('1000 s');
      // and when Processing Time's head is clicked, every retained batch is sorted by it, largest first, from the
      // first page: the newest batch of the largest, 6 ms, is 1196 (1196 % 7 = 6)
      await page.click('#completed th[data-sort="processingTime"]');
      await page.waitForSelector('#completed th[data-sort="processingTime"][aria-sort="descending"]');
      const sorted = await page.$$eval('#completed tr', (rows) =>
        rows.slice(1, 3).map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent)),
      );
      expect(sorted.map((r) => [r[0], r[3]])).toEqual([
        ['1196 s', '6 ms'],
        ['1189 s', '6 ms'],
      ]);
      expect(await page.getAttribute('#completed-pager button[data-page="0"]', 'disabled')).not.toBeNull();
      const active = await page.$$eval('#active tr', (rows) =>
        rows.slice(1).map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent)),
      );
      expect(await page.textContent('#active-title')).toBe('Active Batches (2)');
      const heads = await page.$$eval('#active th', (cells) => cells.map((c) => c.textContent));
      expect(heads).toEqual([
        'Batch Time',
        'Records',
        'Scheduling Delay',
        'Processing Time',
        'Output Ops: Succeeded/Total',
        'Status',
      ]);
      expect(active.map((r) => [r[0], r[1], r[2], r[4], r[5]])).toEqual([
        ['1202 s', '3', '0 ms', '0/2', 'queued'],
        ['1201 s', '5', '1.5 s', '1/3 (1 failed)', 'processing'],
      ]);
      expect(active[0]![3]).toBe('-');
      expect(active[1]![3]).toMatch(/^\d+ ms|\d+\.\d s$/);
      expect(await page.textContent('#active-fresh')).toBe('');
      // and when Records' head of Active Batches is clicked, they are sorted by it, largest first, as the completed
      // ones are, and the completed ones stay as they were
      await page.click('#active th[data-sort="records"]');
      await page.waitForSelector('#active th[data-sort="records"][aria-sort="descending"]');
      const byRecords = await page.$$eval('#active tr td:first-child', (cells) =>
        cells.map((c) => c.textContent),
      );
      expect(byRecords).toEqual(['1201 s', '1202 s']);
      expect(await page.getAttribute('#completed th[data-sort="processingTime"]', 'aria-sort')).toBe(
        'descending',
      );
      // and when the total delay's timeline is clicked at its right end, the page of the batch there opens (one of
      // the newest: 1,000 batches share 485 pixels), as a click on a point of Spark's timelines leads to that batch
      const over = (await page.$('#tl-totalDelay .u-over'))!;
      const box = (await over.boundingBox())!;
      await over.click({ position: { x: box.width - 1, y: box.height / 2 } });
      await page.waitForSelector('main h3:text("Details of batch")');
      const opened = Number(
        /^#\/batch\/(\d+)$/.exec(
          await page.evaluate(() => (globalThis as unknown as { location: { hash: string } }).location.hash),
        )?.[1],
      );
      expect(opened).toBeGreaterThanOrEqual(1_195_000);
      expect(await page.textContent('main h3')).toBe(`Details of batch at ${opened / 1000} s`);
      await page.close();
    } finally {
      await browser.close();
      await server.close();
    }
  });
});

/** A completed batch of 5 records and the given processing time. */
function batch(batchTime: number, processingTimeMs: number): BatchInfo {
  return batchInfo({ batchTime, records: 5, processingTimeMs });
}

mkdirSync(join(root, 'docs'), { recursive: true });
