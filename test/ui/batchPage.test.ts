import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobSource } from '../../lib/job/JobSource';
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
});
