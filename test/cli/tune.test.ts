import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recommend } from '../../lib/local/tune/recommend';
import type { TuneReport } from '../../lib/local/tune/tuneCommand';
import { runSluice } from '../helpers/sluiceProcess';

const root = new URL('../..', import.meta.url).pathname;
const _bin = join(root, 'lib/local/sluice.mjs');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-tune-cli-'));
  // A job reading a socket (which tune never connects to) and counting the words of each line.
  await writeFile(
    join(dir, 'words.json'),
    JSON.stringify({
      name: 'socket-words',
      batchIntervalMs: 1000,
      sources: { lines: { type: 'socket', host: '127.0.0.1', port: 9 } },
      streams: {
        words: { from: 'lines', ops: [{ op: 'flatMap', fn: 'splitWords' }, { op: 'countByValue' }] },
      },
      outputs: [{ stream: 'words', type: 'print' }],
    }),
  );
  await writeFile(
    join(dir, 'lines.jsonl'),
    '"to be or not to be"\n"that is the question"\n"whether tis nobler"\n',
  );
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `file`: a job applying `op` to a key/value generator's records in `batchIntervalMs` batches. */
async function writeKvJob(file: string, batchIntervalMs: number, op: Record<string, unknown>): Promise<void> {
  await writeFile(
    join(dir, file),
    JSON.stringify({
      name: file.replace(/\.json$/, ''),
      batchIntervalMs,
      sources: { kv: { type: 'generator', kind: 'kv', ratePerSec: 10 } },
      streams: { n: { from: 'kv', ops: [op] } },
      outputs: [{ stream: 'n', type: 'print' }],
    }),
  );
}

describe('sluice tune', () => {
  it('replays a sample at each rate tried, prints a table and a recommendation, and writes the search', async () => {
    // when a socket job is tuned over two intervals with a sample of its lines and a target of 50 lines/s
    const result = await runSluice(
      [
        'tune',
        'words.json',
        '--sample',
        'lines.jsonl',
        '--intervals',
        '500ms,1s',
        '--partitions',
        '2',
        '--target-rate',
        '50',
        '--budget',
        '20s',
        '--trial',
        '2s',
        '--out',
        'tune.json',
      ],
      dir,
    );
    // then it exits 0 and prints the table, one row per configuration, and the recommendation in words
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^interval\s+partitions\s+estimate\/s\s+sustained\/s/);
    expect(result.stdout).toMatch(/\n0\.5 s\s+2\s+\d+/);
    expect(result.stdout).toMatch(/\n1 s\s+2\s+\d+/);
    const report = JSON.parse(await readFile(join(dir, 'tune.json'), 'utf8')) as TuneReport;
    expect(report).toMatchObject({ kind: 'sluice-tune', version: 1, settings: { intervalsMs: [500, 1000] } });
    expect(report.settings.samples).toEqual({ lines: join(dir, 'lines.jsonl') });
    expect(report.results.map((r) => [r.intervalMs, r.partitions])).toEqual([
      [500, 2],
      [1000, 2],
    ]);
    // and the recommendation is the one its own results give, printed as it is in the file
    expect(report.recommendation).toEqual(recommend(report.results, 50));
    expect(result.stdout).toContain(report.recommendation.text);
    // and every batch of every trial got the sample at the trial's rate: rate × interval records, exactly
    for (const config of report.results) {
      expect(config.error).toBeUndefined();
      for (const trial of config.trials) {
        for (const batch of trial.batches) {
          const t = batch.batchTime;
          const expected =
            Math.floor((trial.ratePerSec * t) / 1000) -
            Math.floor((trial.ratePerSec * (t - config.intervalMs)) / 1000);
          expect(batch.records).toBe(expected);
        }
      }
    }
  }, 120_000);

  it('feeds a generator no faster than the job allows, and reports a rate that held there as a floor', async () => {
    // given a job counting a key/value generator's records in 5 s batches: its generator may make at most
    // 1 000 000 records a batch, 200 000 a second, far below what a count takes
    await writeKvJob('kv.json', 5000, { op: 'count' });
    // when it is tuned at that interval
    const result = await runSluice(
      ['tune', 'kv.json', '--intervals', '5s', '--partitions', '2', '--max-trials', '1', '--trial', '15s'],
      dir,
    );
    // then it ran (before, the search raised the rate past the limit and the job refused its own source), and
    // no trial, on either clock, fed more than the limit
    expect(result.stderr).not.toMatch(/not possible|invalid job/);
    expect(result.code).toBe(0);
    const rates = [...result.stderr.matchAll(/(\d+)\/s on the (?:logical|real) clock/g)].map((m) =>
      Number(m[1]),
    );
    expect(rates.length).toBeGreaterThan(1);
    expect(Math.max(...rates)).toBeLessThanOrEqual(200_000);
    // and where the trial at the limit held, the table and the recommendation say "at least"
    if (/200000\/s on the real clock: stable/.test(result.stderr)) {
      expect(result.stdout).toMatch(/\n5 s\s+2\s+\d+\s+≥ 200000/);
      expect(result.stdout).toContain('it sustains at least 200000 records/s');
    }
  }, 120_000);

  it('exits 1 when the job could run in no configuration tried', async () => {
    // given a job whose window slides every 3 s, which no 2 s interval divides
    await writeKvJob('window.json', 1000, { op: 'countByWindow', windowMs: 3000, slideMs: 3000 });
    const result = await runSluice(['tune', 'window.json', '--intervals', '2s', '--partitions', '2'], dir);
    // then the row says invalid, the sentence says the job could not run, and the exit code is not success
    expect(result.stdout).toMatch(/\n2 s\s+2\s+-\s+invalid/);
    expect(result.stdout).toContain('No configuration tried could run the job');
    expect(result.code).toBe(1);
  }, 60_000);

  it('replays a .jsonl sample of objects as the text lines a socket delivers, so parseJson reads them', async () => {
    // given the README's socket job, which parses each line, and its sample of tweets, one JSON object a line
    // when it is tuned with that sample for one short trial
    const result = await runSluice(
      [
        'tune',
        join(root, 'events/socket-hashtags.json'),
        '--sample',
        join(root, 'events/tweets.jsonl'),
        '--intervals',
        '1s',
        '--partitions',
        '2',
        '--max-trials',
        '1',
        '--trial',
        '3s',
        '--out',
        'tune.json',
      ],
      dir,
    );
    // then its batches read the tweets and dead-letter none of them (before, each object reached parseJson
    // as an object, every record was a dead letter, and the search measured only that)
    expect(result.code).toBe(0);
    const report = JSON.parse(await readFile(join(dir, 'tune.json'), 'utf8')) as TuneReport;
    const batches = report.results.flatMap((config) => config.trials.flatMap((trial) => trial.batches));
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.reduce((sum, batch) => sum + batch.records, 0)).toBeGreaterThan(0);
    expect(batches.map((batch) => batch.deadLetters)).toEqual(batches.map(() => 0));
  }, 120_000);

  it('asks for a sample when a source is not a generator', async () => {
    const result = await runSluice(['tune', 'words.json', '--budget', '5s'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('source lines is not a generator');
    expect(result.stderr).toContain('--sample');
  });
});
