import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobSource } from '../../lib/job/JobSource';
import { outputOpsTable } from '../../lib/ui/static/batchPage.js';
import { withServedRun } from '../helpers/servedRun';

const jobs = new URL('../helpers/runtimeJobs.ts', import.meta.url).pathname;
const job = (exportName: string): JobSource => ({ kind: 'module', path: jobs, exportName });

describe("a batch's page, rendered from what the running UI serves", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-batch-page-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is the module the server serves, and shows the output operation, its stages and the dead letter', async () => {
    // given a job with a shuffle and a line that is not JSON, run for 1 batch and served
    await withServedRun(
      job('malformedRecords'),
      { batches: 1, storeDir: join(dir, 'store') },
      async (run) => {
        // when batch 1000's page is drawn from its JSON
        const { html } = await run.batch(1000);
        // then it heads the batch, names the output with its job, has a row per stage, and the dead letter
        expect(html).toContain('<h3>Details of batch at 1 s</h3>');
        expect(html).toMatch(/Output Op 0: sums/);
        expect(html.match(/<tr class="(stage|slowest stage)">/g)?.length).toBeGreaterThanOrEqual(2);
        expect(html).toContain('Dead Letters (1)');
        expect(html).toContain('&#34;not json&#34;');
        // and the module that drew it is the one the server sends to the browser
        const served = await (await fetch(`${run.url}static/batchPage.js`)).text();
        expect(served).toBe(
          await readFile(new URL('../../lib/ui/static/batchPage.js', import.meta.url), 'utf8'),
        );
      },
    );
  });

  it("has Spark's table of output operations: each with its jobs, their durations and stages, and its error", async () => {
    // given a job whose first output runs two jobs and whose second fails on the reduce side of a shuffle
    await withServedRun(
      job('twoJobsThenAFailure'),
      { batches: 1, storeDir: join(dir, 'store') },
      async (run) => {
        // when batch 1000's page is drawn
        const { detail, html } = await run.batch(1000);
        const [first, second] = detail.info.outputOps!;
        // then the metrics have each job's duration and its plan's stages, the failed job 1 of its 2 stages
        expect(first!.jobs.map((j) => [j.action, j.stagesTotal, j.stages.length])).toEqual([
          ['count', 1, 1],
          ['collect', 1, 1],
        ]);
        for (const j of first!.jobs) expect(j.durationMs).toBeGreaterThanOrEqual(0);
        expect(second!.jobs.map((j) => [j.stagesTotal, j.stages.length])).toEqual([[2, 1]]);
        // and the page's table has a row per job, the operation's cells spanning them, where it was written, and
        // the failed operation's error: its first line, the whole under it
        const table = /<table class="output-ops">.*?<\/table>/s.exec(html)?.[0] ?? '';
        const rows = table.split('<tr class="output-op">').slice(1);
        expect(rows).toHaveLength(3);
        expect(rows[0]).toMatch(
          /^<td rowspan="2">0<\/td><td rowspan="2" class="text">countThenCollect<br><small>test\/helpers\/runtimeJobs\.ts:\d+ \(countThenCollect\)<\/small>/,
        );
        expect(rows[0]).toContain('>succeeded<');
        expect(rows[0]).toMatch(
          /<td class="text">\d+ \(count\)<\/td><td>\d+ ms<\/td><td>1\/1<\/td><td>2<\/td>/,
        );
        expect(rows[1]).toMatch(/^<td class="text">\d+ \(collect\)<\/td>/);
        expect(rows[2]).toContain('<span class="failed">failed</span>');
        expect(rows[2]).toMatch(/\(collect\)<\/td><td>\d+ ms<\/td><td>1\/2<\/td>/);
        expect(rows[2]).toMatch(
          /<td class="text"><span class="failed">test\/helpers\/runtimeJobs\.ts:\d+ \(mapPartitions\): task 0 of stage 1 failed 1 time\(s\); last error: Error: the sink is down<\/span><\/td><\/tr>/,
        );
      },
    );
  });

  it("writes its counts grouped by thousands: the records, and each input stream's and stage's", async () => {
    // given a JSON job of a generator of 2,500 records a second, counted by a shuffle, run for 1 batch and served
    const counted: JobSource = {
      kind: 'document',
      baseDir: dir,
      document: {
        name: 'many-records',
        batchIntervalMs: 1000,
        sources: { tweets: { type: 'generator', kind: 'tweets', ratePerSec: 2500, seed: 1 } },
        outputs: [{ stream: 'tweets', type: 'print' }],
      },
    };
    await withServedRun(counted, { batches: 1, storeDir: join(dir, 'store') }, async (run) => {
      // when batch 1000's page is drawn
      const { html } = await run.batch(1000);
      // then its records, its input stream's and its stage's records in read 2,500
      expect(html).toContain('<li>Records: 2,500</li>');
      expect(html).toContain('<td class="text">tweets</td><td>2,500</td>');
      expect(html).toMatch(/<tr class="(slowest )?stage"><td class="text">\d+<\/td>.*?<td>2,500<\/td>/);
    });
  });

  it("shows an output operation's error by its first line, the whole under it, and one that ran no job", () => {
    // given an operation that failed with two lines before it ran a job
    const html = outputOpsTable([
      { id: 0, name: 'save', durationMs: 3, error: 'the sink is down\nretry later', jobs: [] },
    ]);
    // then it is one row, no job, and its error's first line opens the whole
    expect(html.split('<tr class="output-op">')).toHaveLength(2);
    expect(html).toContain('<td class="text">-</td>'.repeat(4));
    expect(html).toContain(
      '<details><summary><span class="failed">the sink is down</span></summary><pre class="error">the sink is down\nretry later</pre></details>',
    );
  });
});
