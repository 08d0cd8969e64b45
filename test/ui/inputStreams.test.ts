import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobSource } from '../../lib/job/JobSource';
import { LocalRuntime } from '../../lib/local/LocalRuntime';
import type { StreamingListener } from '../../lib/scheduler/StreamingListener';
import type { BatchDetail, StreamingSummary } from '../../lib/ui/StreamingUiState';
import { StreamingUiState } from '../../lib/ui/StreamingUiState';
import { batchPageHtml } from '../../lib/ui/static/batchPage.js';
import { statisticsCharts } from '../../lib/ui/static/pageFormat.js';
import { UiServer } from '../../lib/ui/UiServer';
import { batchInfo } from '../helpers/batchInfo';
import { withServedRun } from '../helpers/servedRun';

const jobs = new URL('../helpers/runtimeJobs.ts', import.meta.url).pathname;

/** A JSON job of two queue sources, `clicks` and `views`, each printed. */
function twoSources(baseDir: string): JobSource {
  return {
    kind: 'document',
    baseDir,
    document: {
      name: 'two-sources',
      batchIntervalMs: 1000,
      sources: {
        clicks: { type: 'queue', batches: [['a', 'b'], ['c']] },
        views: { type: 'queue', batches: [['x'], ['y', 'z', 'w']] },
      },
      outputs: [
        { stream: 'clicks', type: 'print' },
        { stream: 'views', type: 'print' },
      ],
    },
  };
}

/**
 * Writes `files` files of one line (7 bytes) into `dir/in` once batch 1000 completed: the folder source reads only
 * files that appear after it started, so batch 2000 takes them.
 */
function filesAfterFirstBatch(dir: string, files: number): StreamingListener {
  mkdirSync(join(dir, 'in'));
  return {
    onBatchCompleted: ({ batchTime }) => {
      if (batchTime !== 1000) return;
      for (let i = 10; i < 10 + files; i++) writeFileSync(join(dir, 'in', `f${i}.txt`), `line${i}\n`);
    },
  };
}

/** A JSON job of a folder, a generator and a queue, all printed. */
function threeSources(baseDir: string): JobSource {
  return {
    kind: 'document',
    baseDir,
    document: {
      name: 'three-sources',
      batchIntervalMs: 1000,
      sources: {
        logs: { type: 'textFileStream', directory: 'in' },
        tweets: { type: 'generator', kind: 'tweets', ratePerSec: 5, seed: 1 },
        fixes: { type: 'queue', batches: [['a'], ['b', 'c']] },
      },
      outputs: ['logs', 'tweets', 'fixes'].map((stream) => ({ stream, type: 'print' })),
    },
  };
}

/**
 * Runs `job` for `batches` on the logical clock with the UI's state listening, serves it, and reads what the page
 * reads: the summary and the last batch's page.
 */
async function servedJson(
  job: JobSource,
  batches: number,
  storeDir: string,
  listeners: readonly StreamingListener[] = [],
) {
  const state = new StreamingUiState('test-job', 1000);
  const runtime = await LocalRuntime.start(job, {
    clock: 'logical',
    batches,
    workers: 0,
    storeDir,
    write: () => {},
    listeners: [state, ...listeners],
  });
  await runtime.run();
  const server = await UiServer.start(state, 0);
  try {
    const read = async (path: string) => (await fetch(`http://127.0.0.1:${server.port}${path}`)).json();
    return {
      summary: (await read('/api/streaming')) as StreamingSummary,
      batch: (await read(`/api/batch/${batches * 1000}`)) as BatchDetail,
    };
  } finally {
    await server.close();
  }
}

describe("the Streaming UI's input streams", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-ui-inputs-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("are named by a JSON job's source names, once in the summary, with each batch's records per stream", async () => {
    // given a JSON job of two sources, run for 2 batches
    const { summary, batch } = await servedJson(twoSources(dir), 2, join(dir, 'store'));
    // then the summary names both streams once, and each row counts their records by id, without the details
    expect(summary.inputStreams.map((s) => s.name)).toEqual(['clicks', 'views']);
    const [clicks, views] = summary.inputStreams.map((s) => s.id);
    expect(summary.batches.map((b) => [b.inputRecords?.[clicks!], b.inputRecords?.[views!]])).toEqual([
      [2, 1],
      [1, 3],
    ]);
    expect(summary.batches[0]).not.toHaveProperty('inputs');
    // and the batch page has each stream by name
    expect(batch.info.inputs?.[clicks!]?.name).toBe('clicks');
  });

  it('are named in a TypeScript job by their source and the line that made them, twins by their number', async () => {
    // given a job module whose queue streams are made on line 111 of its file, two of them alike
    const job: JobSource = { kind: 'module', path: jobs, exportName: 'unionOfMany' };
    // when it runs
    const { summary, batch } = await servedJson(job, 2, join(dir, 'store'));
    // then each stream is named by its queue and that line, and the two alike also by their input stream's
    // number, as Spark's are (QueueInputDStream-0)
    const names = [
      'test/helpers/runtimeJobs.ts:111 (queue(1 batches)-0)',
      'test/helpers/runtimeJobs.ts:111 (queue(1 batches)-1)',
      'test/helpers/runtimeJobs.ts:111 (queue(2 batches))',
    ];
    expect(summary.inputStreams.map((s) => s.name)).toEqual(names);
    // and the batch page's rows and the charts are named so
    const html = batchPageHtml(batch);
    for (const name of names) expect(html).toContain(`<td class="text">${name}</td>`);
    const charts = statisticsCharts(summary).filter((c) => c.inputStream !== undefined);
    expect(charts.map((c) => c.label)).toEqual(names);
  });

  it("show on the batch page what each stream took: files, index ranges, the queue's batch", async () => {
    // given a job of a folder, a generator of 5 records a second and a queue; 2 files appear after batch 1000
    const files = filesAfterFirstBatch(dir, 2);
    // when it runs 2 batches
    const { batch } = await servedJson(threeSources(dir), 2, join(dir, 'store'), [files]);
    // then batch 2000's page shows what each stream took
    const took = Object.values(batch.info.inputs ?? {}).map((i) => [i.name, i.took, i.tookNotShown]);
    expect(took).toEqual([
      ['logs', ['f10.txt (7 bytes)', 'f11.txt (7 bytes)'], undefined],
      ['tweets', ['records 5–9'], undefined],
      ['fixes', ['queued batch 2 of 2'], undefined],
    ]);
  });

  it("show a socket's received blocks, each with its records", async () => {
    // given a server that sends 3 lines to whoever connects, and a job of a socket source reading it
    const server = createServer((socket) => {
      socket.on('error', () => {});
      socket.end('one\ntwo\nthree\n');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const job: JobSource = {
      kind: 'document',
      baseDir: dir,
      document: {
        name: 'socket-blocks',
        batchIntervalMs: 1000,
        sources: {
          lines: { type: 'socket', host: '127.0.0.1', port: (server.address() as AddressInfo).port },
        },
        outputs: [{ stream: 'lines', type: 'print' }],
      },
    };
    let received = 0;
    try {
      // when it runs until the 3 lines arrived (on the logical clock each batch cuts a block of what arrived)
      await withServedRun(
        job,
        {
          batches: 10_000,
          storeDir: join(dir, 'store'),
          stopAfter: (b) => {
            received += b.records;
            return received >= 3;
          },
        },
        async (run) => {
          // then each batch that received lines names its blocks, whose records add up to the batch's, and the
          // rendered page shows them under the stream
          const withLines = run.summary.batches.filter((b) => b.records > 0);
          expect(withLines.length).toBeGreaterThan(0);
          for (const b of withLines) {
            const { detail, html } = await run.batch(b.batchTime);
            const took = detail.info.inputs?.[run.summary.inputStreams[0]!.id]?.took ?? [];
            expect(took.length).toBeGreaterThan(0);
            const records = took.map((line) => Number(/^block b-[\w-]+: (\d+) records$/.exec(line)?.[1]));
            expect(records.reduce((a, n) => a + n, 0)).toBe(b.records);
            expect(html).toContain(
              `<td class="text">lines</td><td>${b.records}</td><td class="text">${took.join('<br>')}</td>`,
            );
          }
        },
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('show what a rate-limited folder took: the lines of a file read in part, a file read whole', async () => {
    // given a folder source capped at 2 lines a second, into which a file of 3 lines and one of 1 line are written
    // once batch 1000 completed
    mkdirSync(join(dir, 'in'));
    const files: StreamingListener = {
      onBatchCompleted: ({ batchTime }) => {
        if (batchTime !== 1000) return;
        writeFileSync(join(dir, 'in', 'a.txt'), 'a1\na2\na3\n');
        writeFileSync(join(dir, 'in', 'b.txt'), 'b1\n');
      },
    };
    const job: JobSource = {
      kind: 'document',
      baseDir: dir,
      document: {
        name: 'capped-folder',
        batchIntervalMs: 1000,
        sources: { logs: { type: 'textFileStream', directory: 'in', maxRatePerSec: 2 } },
        outputs: [{ stream: 'logs', type: 'print' }],
      },
    };
    // when it runs 3 batches
    await withServedRun(
      job,
      { batches: 3, storeDir: join(dir, 'store'), listeners: [files] },
      async (run) => {
        // then batch 2000 took the first 2 lines of a.txt, and batch 3000 its last line and all of b.txt
        const took = async (batchTime: number) => {
          const { detail, html } = await run.batch(batchTime);
          return { took: Object.values(detail.info.inputs ?? {})[0]?.took, html };
        };
        const [second, third] = [await took(2000), await took(3000)];
        expect(second.took).toEqual(['a.txt lines 1–2']);
        expect(third.took).toEqual(['a.txt line 3, its last', 'b.txt']);
        // and the rendered page shows them under the stream
        expect(third.html).toContain(
          '<td class="text">logs</td><td>2</td><td class="text">a.txt line 3, its last<br>b.txt</td>',
        );
      },
    );
  });

  it('keep 10 lines of what a stream took and count the rest', async () => {
    // given 12 files that appear after batch 1000
    const files = filesAfterFirstBatch(dir, 12);
    // when the job reads them in batch 2000
    const { batch } = await servedJson(threeSources(dir), 2, join(dir, 'store'), [files]);
    // then its page names the first 10 files, and counts 2 more
    const logs = Object.values(batch.info.inputs ?? {}).find((i) => i.name === 'logs');
    expect(logs?.took).toEqual(Array.from({ length: 10 }, (_, i) => `f${i + 10}.txt (7 bytes)`));
    expect(logs?.tookNotShown).toBe(2);
  });

  it('are named by their ids in metrics written before streams had names', async () => {
    // given batches that count records by stream id but name no stream, as older kept metrics do
    const state = new StreamingUiState('j', 1000);
    state.onBatchCompleted(batchInfo({ batchTime: 1000, records: 3, inputRecords: { n1: 1, n2: 2 } }));
    // then the summary names each stream by its id
    expect((await state.summary()).inputStreams).toEqual([
      { id: 'n1', name: 'n1' },
      { id: 'n2', name: 'n2' },
    ]);
  });
});
