import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ActiveSnapshot, AwsMetricsUiSource } from '../../lib/aws/AwsMetricsUiSource';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import type { StreamingSummary, StreamingUiSource } from '../../lib/ui/StreamingUiState';
import { batchPageHtml } from '../../lib/ui/static/batchPage.js';
import { pollErrorLine, unreadableNote } from '../../lib/ui/static/pageFormat.js';
import { UiServer } from '../../lib/ui/UiServer';
import { batchInfo } from '../helpers/batchInfo';

// The bucket is a local folder here (a BlockStore as S3's is): what is tested is how the reader takes objects
// that are not what the coordinator writes, not S3. test/ui/awsUi.test.ts reads a real bucket on LocalStack.
let dir: string;
let server: UiServer | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-aws-ui-unreadable-'));
  await mkdir(join(dir, 'jobs/sums/store/dead-letter'), { recursive: true });
  await writeFile(join(dir, 'jobs/sums/job.json'), JSON.stringify({ name: 'sums', batchIntervalMs: 1000 }));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

const put = (key: string, text: string) => writeFile(join(dir, key), text);
const source = () => new AwsMetricsUiSource(new LocalFolderStore(dir), 'sums');
const batches = [1000, 2000, 3000].map((batchTime) =>
  batchInfo({ batchTime, records: 5, processingTimeMs: 40 }),
);
const active: ActiveSnapshot = {
  writtenAtMs: 1,
  active: [
    {
      batchTime: 4000,
      records: 5,
      status: 'queued',
      dueAtMs: 1,
      schedulingDelayMs: 0,
      outputOpsTotal: 1,
      outputOpsSucceeded: 0,
      outputOpsFailed: 0,
    },
  ],
};

/** GET `path` of the server, as the page does. */
async function get(path: string) {
  const response = await fetch(`${server!.url}${path.slice(1)}`);
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
}

describe('the Streaming UI of a job on AWS, with objects of the bucket that are not what the coordinator writes', () => {
  it('shows the kept batches when active.json is cut short, and says it left the active batches out', async () => {
    // given good kept metrics, and an active.json cut short (an empty object, as a failed copy leaves)
    await put('jobs/sums/metrics.json', JSON.stringify(batches));
    await put('jobs/sums/active.json', JSON.stringify(active).slice(0, 20));
    // when the page polls
    server = await UiServer.start(source(), 0);
    const { status, body } = await get('/api/streaming');
    // then it answers, with the batches, no active one, and a sentence naming the object
    expect(status).toBe(200);
    const summary = JSON.parse(body) as StreamingSummary;
    expect(summary.batches.map((b) => b.batchTime)).toEqual([1000, 2000, 3000]);
    expect(summary.active).toEqual([]);
    expect(summary.activeAsOfMs).toBeUndefined();
    expect(summary.unreadable).toEqual([
      'jobs/sums/active.json is not JSON (20 bytes, cut short or not written by Sluice)',
    ]);
    expect(unreadableNote(summary)).toBe(
      "Some of the job's metrics could not be read and are left out: jobs/sums/active.json is not JSON (20 bytes, cut short or not written by Sluice).",
    );
  });

  it('shows the active batches when metrics.json is cut short, and `sluice ui` still starts', async () => {
    // given a metrics.json cut mid-batch, and a good active.json
    await put('jobs/sums/metrics.json', JSON.stringify(batches).slice(0, 100));
    await put('jobs/sums/active.json', JSON.stringify(active));
    // when the UI reads them
    const summary = await source().summary();
    // then no completed batch is shown, the active one is, and the page says why the table is empty
    expect(summary.batches).toEqual([]);
    expect(summary.records).toBe(0);
    expect(summary.active.map((a) => a.batchTime)).toEqual([4000]);
    expect(summary.unreadable).toEqual([
      'jobs/sums/metrics.json is not JSON (100 bytes, cut short or not written by Sluice)',
    ]);
    // and a batch's address says the metrics could not be read, not only that the run has no such batch
    server = await UiServer.start(source(), 0);
    const { status, body } = await get('/api/batch/2000');
    expect(status).toBe(404);
    expect(JSON.parse(body).error).toBe(
      'no batch 2000 has completed in this run (as far as the readable metrics tell: jobs/sums/metrics.json is not JSON (100 bytes, cut short or not written by Sluice))',
    );
  });

  it('leaves out a kept batch without its times or records, and one not a list, and says how many', async () => {
    // given kept metrics where one batch lacks its delays (another version's record)
    const { totalDelayMs: _, ...partial } = batchInfo({ batchTime: 2000 });
    await put('jobs/sums/metrics.json', JSON.stringify([batches[0], partial, batches[2], null]));
    // then the others are shown, and the sentence counts those left out
    const summary = await source().summary();
    expect(summary.batches.map((b) => b.batchTime)).toEqual([1000, 3000]);
    expect(summary.records).toBe(10);
    expect(summary.unreadable).toEqual([
      'jobs/sums/metrics.json: 2 of 4 batches left out, without a batch time, records or delays',
    ]);
    // given metrics.json and active.json that are JSON but not the coordinator's
    await put('jobs/sums/metrics.json', '{"batches": []}');
    await put('jobs/sums/active.json', '{"active": [{"batchTime": 4000}]}');
    // then both are named
    expect((await source().summary()).unreadable).toEqual([
      'jobs/sums/metrics.json is not a list of batches: no batch is read from it',
      "jobs/sums/active.json is not the coordinator's active batches: none is shown",
    ]);
  });

  it('reads job.json that is not JSON as a job whose interval is the spacing of its batches', async () => {
    await put('jobs/sums/job.json', '{"name": "su');
    await put('jobs/sums/metrics.json', JSON.stringify(batches));
    const summary = await source().summary();
    expect(summary.batchIntervalMs).toBe(1000);
    expect(summary.unreadable).toEqual([
      'jobs/sums/job.json is not JSON (12 bytes, cut short or not written by Sluice)',
    ]);
  });

  it("shows a batch's dead letters of whole lines, and says how many lines it left out", async () => {
    // given a dead-letter file whose last line is cut short
    await put('jobs/sums/metrics.json', JSON.stringify(batches));
    const letter = { batchTime: 2000, dataset: 'map#1', error: 'Unexpected token', record: 'not json' };
    await put(
      'jobs/sums/store/dead-letter/2000.jsonl',
      `${JSON.stringify(letter)}\n${JSON.stringify(letter).slice(0, 30)}`,
    );
    // when the batch's page is read
    const detail = await source().batch(2000);
    // then it has the whole letter, and a sentence about the other line, which the page shows
    expect(detail?.deadLetters).toEqual([letter]);
    expect(detail?.unreadable).toEqual([
      'jobs/sums/store/dead-letter/2000.jsonl: 1 of 2 lines left out, not JSON',
    ]);
    expect(batchPageHtml(detail!)).toContain(
      '<p class="failed">jobs/sums/store/dead-letter/2000.jsonl: 1 of 2 lines left out, not JSON</p>',
    );
  });

  it('still says when the job is not in the bucket', async () => {
    await expect(new AwsMetricsUiSource(new LocalFolderStore(dir), 'nope').summary()).rejects.toThrow(
      'no job nope in this bucket: jobs/nope/job.json is missing',
    );
  });
});

describe('the Streaming UI server, when its source fails', () => {
  it("answers the API's 500 as JSON, whose sentence the page shows while it goes on polling", async () => {
    // given a source whose reads fail (a bucket that refuses them)
    const failing: StreamingUiSource = {
      summary: () => Promise.reject(new Error('Access Denied')),
      batch: () => Promise.reject(new Error('Access Denied')),
    };
    server = await UiServer.start(failing, 0);
    // when the page polls
    const { status, type, body } = await get('/api/streaming');
    // then the answer is the API's JSON error, and the page says the UI could not read the metrics, not that the
    // run is gone
    expect(status).toBe(500);
    expect(type).toBe('application/json');
    const { error } = JSON.parse(body) as { error: string };
    expect(error).toBe('The UI could not read the metrics: Error: Access Denied');
    expect(pollErrorLine({ status, message: error })).toBe(
      "The UI could not read the job's metrics (500): The UI could not read the metrics: Error: Access Denied",
    );
    expect(pollErrorLine(new TypeError('Failed to fetch'))).toBe(
      'The run is gone or unreachable: Failed to fetch',
    );
    // and a batch's page fails the same way
    expect((await get('/api/batch/1000')).type).toBe('application/json');
  });
});

describe('the Streaming UI of a job on AWS, between the writes of metrics.json and active.json', () => {
  it('shows a batch that metrics.json has completed as completed only, not also as active', async () => {
    // given metrics.json written with batch 3000 done, and active.json still from before, with 3000 processing
    await put('jobs/sums/metrics.json', JSON.stringify(batches));
    const before: ActiveSnapshot = {
      writtenAtMs: 1,
      active: [
        { ...active.active[0]!, batchTime: 3000, status: 'processing', startedAtMs: 1, processingTimeMs: 9 },
        active.active[0]!,
      ],
    };
    await put('jobs/sums/active.json', JSON.stringify(before));
    // when the UI reads them
    const summary = await source().summary();
    // then batch 3000 is a completed batch only, and 4000 is still queued
    expect(summary.batches.map((b) => b.batchTime)).toEqual([1000, 2000, 3000]);
    expect(summary.active.map((a) => a.batchTime)).toEqual([4000]);
  });
});
