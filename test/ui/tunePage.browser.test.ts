import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TuneReport } from '../../lib/local/tune/tuneCommand';
import { runSluice } from '../helpers/sluiceProcess';
import { ensureChromium } from './ensureChromium';

const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'lib/local/sluice.mjs');
const executablePath = ensureChromium();

/** The page's charts, as the test reads them: each one's data, x values first. */
type Charts = Record<string, { data: (number | null)[][] }>;

let dir: string;
let report: TuneReport;

beforeAll(async () => {
  // given a search of a word count over two intervals, written with --out
  dir = await mkdtemp(join(tmpdir(), 'sluice-tune-ui-'));
  await writeFile(
    join(dir, 'words.json'),
    JSON.stringify({
      name: 'words',
      batchIntervalMs: 1000,
      sources: { lines: { type: 'generator', kind: 'lines', ratePerSec: 100 } },
      streams: {
        counts: { from: 'lines', ops: [{ op: 'flatMap', fn: 'splitWords' }, { op: 'countByValue' }] },
      },
      outputs: [{ stream: 'counts', type: 'print' }],
    }),
  );
  const tuned = await runSluice(
    [
      'tune',
      'words.json',
      '--intervals',
      '500ms,1s',
      '--partitions',
      '2',
      '--budget',
      '10s',
      '--trial',
      '1500ms',
      '--workers',
      '0',
      '--out',
      'tune.json',
    ],
    dir,
  );
  expect(tuned.code, tuned.stderr).toBe(0);
  report = JSON.parse(await readFile(join(dir, 'tune.json'), 'utf8')) as TuneReport;
}, 180_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(executablePath === undefined)('the tune page of the Streaming UI', () => {
  it('shows the search of `sluice ui --tune`: the table, the recommendation and each trial’s total delay', async () => {
    // when `sluice ui --tune tune.json` serves it and the page is opened at its root
    const child: ChildProcess = spawn(process.execPath, [bin, 'ui', '--tune', 'tune.json', '--port', '0'], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const browser = await chromium.launch({ executablePath: executablePath!, args: ['--no-sandbox'] });
    try {
      while (!/ at (http:\S+)#\/tune/.test(stderr)) {
        if (child.exitCode !== null) throw new Error(`sluice ui ended: ${stderr}`);
        await sleep(100);
      }
      const url = / at (http:\S+)#\/tune/.exec(stderr)![1]!;
      const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
      await page.goto(url);
      // then, with no streaming job on this page, it opens on the search
      await page.waitForSelector('p.recommendation');
      expect(page.url()).toMatch(/#\/tune$/);
      expect(await page.textContent('p.recommendation')).toBe(report.recommendation.text);
      expect(await page.textContent('main')).toContain(report.rule.text);
      // and the search's start is in UTC, says so, and is written as the streaming page writes dates
      expect(await page.textContent('main')).toMatch(
        /from \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d UTC on \d+ cores/,
      );
      // and the table has the CLI's columns and one row per configuration, with the rate each sustained
      const rows = await page.$$eval('#tune-table tr', (trs) =>
        trs.map((tr) => [...tr.querySelectorAll('th, td')].map((c) => c.textContent)),
      );
      expect(rows[0]!.slice(0, 4)).toEqual(['interval', 'partitions', 'estimate/s', 'sustained/s']);
      expect(rows.slice(1).map((r) => r.slice(0, 2))).toEqual([
        ['0.5 s', '2'],
        ['1 s', '2'],
      ]);
      expect(rows.slice(1).map((r) => r[3])).toEqual(
        report.results.map((r) => (r.sustainablePerSec !== undefined ? String(r.sustainablePerSec) : 'none')),
      );
      // and the recommended configuration's row is marked
      const marked = await page.$$eval('#tune-table tr', (trs) =>
        trs.slice(1).map((tr) => tr.classList.contains('recommended')),
      );
      expect(marked).toEqual(
        report.results.map(
          (r) =>
            r.intervalMs === report.recommendation.intervalMs &&
            r.partitions === report.recommendation.partitions,
        ),
      );
      // and each configuration's chart has one curve per real-clock trial, over the batches that trial ran
      const charts: Charts = (await page.evaluate(() => {
        const all = (globalThis as unknown as { sluiceCharts: Record<string, { data: unknown }> })
          .sluiceCharts;
        return Object.fromEntries(Object.entries(all).map(([name, chart]) => [name, { data: chart.data }]));
      })) as Charts;
      report.results.forEach((result, i) => {
        const trials = result.trials.filter((t) => t.clock === 'system');
        expect(trials.length).toBeGreaterThan(0);
        const data = charts[`tune${i}`]!.data;
        expect(data).toHaveLength(1 + trials.length + 1);
        trials.forEach((trial, k) => {
          const points = data[0]!
            .map((x, j) => [x, data[k + 1]![j]])
            .filter(([, y]) => y !== null && y !== undefined);
          expect(points).toEqual(trial.batches.map((b) => [b.batchTime / 1000, b.totalDelayMs]));
        });
        expect(new Set(data.at(-1))).toEqual(new Set([result.intervalMs]));
      });
      // The README's picture of the page, refreshed on request only, as the streaming page's.
      const picture = process.env.SLUICE_UPDATE_SCREENSHOT
        ? join(root, 'docs/tune.png')
        : join(tmpdir(), `sluice-tune-${process.pid}.png`);
      await page.screenshot({ path: picture, fullPage: false });
      await page.close();
    } finally {
      await browser.close();
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('close', resolve));
    }
    expect(child.exitCode).toBe(0);
  }, 120_000);

  it('says what to give when neither a job nor a search is named, and when the file is not a search', async () => {
    const none = await runSluice(['ui'], dir);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(
      'give --bucket and --job for a job on AWS, --tune <file> for a sluice tune search',
    );
    expect(none.stderr).toContain('a local run serves its own: sluice run <job> --ui');
    const wrong = await runSluice(['ui', '--tune', 'words.json', '--port', '0'], dir);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('words.json is not a sluice tune file');
  });
});
