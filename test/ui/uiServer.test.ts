import { mkdtemp, rm } from 'node:fs/promises';
import { type IncomingHttpHeaders, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PortInUseError } from '../../lib/errors';
import { LocalRuntime } from '../../lib/local/LocalRuntime';
import type { BatchDetail, StreamingSummary } from '../../lib/ui/StreamingUiState';
import { StreamingUiState } from '../../lib/ui/StreamingUiState';
import { UiServer } from '../../lib/ui/UiServer';
import { batchInfo } from '../helpers/batchInfo';

const jobs = new URL('../helpers/runtimeJobs.ts', import.meta.url).pathname;
const job = (exportName: string) => ({ kind: 'module', path: jobs, exportName }) as const;

/** A GET (or another method) with the Host header a browser would send for `host`. */
function get(port: number, path: string, host = `127.0.0.1:${port}`, method = 'GET') {
  return answer(port, path, host, method).then(({ status, body }) => ({ status, body }));
}

/** A request's whole answer: status, headers and body. */
function answer(port: number, path: string, host = `127.0.0.1:${port}`, method = 'GET') {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Runs a job of the runtime tests on the logical clock with the UI's state listening, and serves it. */
async function served(exportName: string, batches: number, storeDir: string) {
  const state = new StreamingUiState('test-job', 1000);
  const runtime = await LocalRuntime.start(job(exportName), {
    clock: 'logical',
    batches,
    workers: 0,
    storeDir,
    write: () => {},
    listeners: [state],
  });
  const summary = await runtime.run();
  return { server: await UiServer.start(state, 0), summary };
}

describe('the Streaming UI server', () => {
  let dir: string;
  let server: UiServer | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-ui-'));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the header, the batches and each batch with its output operations, stages and dead letters', async () => {
    // given a job with a shuffle and malformed records, run for 2 batches
    const run = await served('malformedRecords', 2, join(dir, 'store'));
    server = run.server;
    // when the page's JSON is read
    const summary = JSON.parse((await get(server.port, '/api/streaming')).body) as StreamingSummary;
    // then it holds both batches, with their totals, and no output operations (those are on the batch page)
    expect(summary.jobName).toBe('test-job');
    expect(summary.batches.map((b) => b.batchTime)).toEqual([1000, 2000]);
    expect(summary.completedBatches).toBe(2);
    expect(summary.records).toBe(4);
    expect(summary.active).toEqual([]);
    expect(summary.batches[0]).not.toHaveProperty('outputOps');
    expect(summary.batches[0]!.outputOpsTotal).toBe(1);
    expect(summary.batches[0]!.slowestStage?.description).toBeTruthy();
    // and a batch's page has the output, its job, its two stages (map side, then reduce side), every task, and
    // the dead letter of the line that is not JSON
    const detail = JSON.parse((await get(server.port, '/api/batch/1000')).body) as BatchDetail;
    const op = detail.info.outputOps![0]!;
    expect(op.name).toBe('sums');
    const stages = op.jobs.flatMap((j) => j.stages);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const [mapSide, reduceSide] = [stages[0]!, stages.at(-1)!];
    expect(mapSide.recordsIn).toBeUndefined();
    expect(reduceSide.recordsIn).toBeGreaterThan(0);
    expect(mapSide.shuffleBytesWritten).toBeGreaterThan(0);
    for (const stage of stages) {
      expect(stage.tasks.length).toBeGreaterThan(0);
      for (const task of stage.tasks) expect(task.attempts).toBe(1);
    }
    expect(detail.deadLetters.map((l) => l.record)).toEqual(['not json']);
    expect(run.summary.batches[0]!.outputOps).toEqual(detail.info.outputOps);
  });

  it('counts the attempts of a task that failed once', async () => {
    // given a job whose only task fails on its first attempt
    const run = await served('flakyOnce', 1, join(dir, 'store'));
    server = run.server;
    // when the batch is read
    const detail = JSON.parse((await get(server.port, '/api/batch/1000')).body) as BatchDetail;
    // then its task shows 2 attempts
    const tasks = detail.info.outputOps!.flatMap((op) =>
      op.jobs.flatMap((j) => j.stages.flatMap((s) => s.tasks)),
    );
    expect(tasks.map((t) => t.attempts)).toEqual([2]);
  });

  it('refuses a Host that is not the loopback, any method but GET and HEAD, and files outside the page', async () => {
    // given a server
    server = await UiServer.start(new StreamingUiState(), 0);
    // when a DNS-rebinding page, a POST, an unknown batch and a path out of the static folder are tried
    // then each is refused, while the page itself and uPlot (from node_modules) are served
    expect((await get(server.port, '/api/streaming', `evil.example:${server.port}`)).status).toBe(403);
    expect((await get(server.port, '/api/streaming', undefined, 'POST')).status).toBe(405);
    expect((await get(server.port, '/api/batch/5000')).status).toBe(404);
    expect((await get(server.port, '/static/../UiServer.ts')).status).toBe(404);
    expect((await get(server.port, '/static/%2e%2e/UiServer.ts')).status).toBe(404);
    expect((await get(server.port, '/')).body).toContain('/static/uPlot.iife.min.js');
    expect((await get(server.port, '/static/uPlot.iife.min.js')).body).toContain('uPlot');
    expect((await get(server.port, '/static/pageFormat.js')).body).toContain('export function');
    expect((await get(server.port, '/', `localhost:${server.port}`)).status).toBe(200);
  });

  it('says why a batch has no page: still active, no longer retained, or never in the run', async () => {
    // given 1,002 completed batches of 1 s (the first 2 no longer retained) and batch 1,003,000 running
    const state = new StreamingUiState('j', 1000);
    for (let n = 1; n <= 1002; n++) state.onBatchCompleted(batchInfo({ batchTime: n * 1000 }));
    state.onBatchSubmitted(1_003_000, 1, Date.now(), 1);
    state.onBatchStarted(1_003_000);
    server = await UiServer.start(state, 0);
    // when batches that have no page are asked for, then each 404 says why
    const reason = async (batchTime: number) => {
      const answer = await get(server!.port, `/api/batch/${batchTime}`);
      expect(answer.status).toBe(404);
      return (JSON.parse(answer.body) as { error: string }).error;
    };
    expect(await reason(1_003_000)).toBe(
      'batch 1003000 is still processing: its page opens once it completes',
    );
    expect(await reason(2000)).toBe(
      'batch 2000 is no longer retained: the UI keeps the last 1000 completed batches, the oldest is batch 3000',
    );
    expect(await reason(2500)).toBe(
      'no batch 2500 in this run: batch times are multiples of the batch interval, 1000 ms',
    );
    expect(await reason(9_000_000)).toBe('no batch 9000000 has completed in this run');
    // and once the run has ended, the running batch is one that never completed, not one to wait for
    state.end('the sink is down');
    expect(await reason(1_003_000)).toBe(
      'batch 1003000 was processing when the run ended and never completed: it has no page',
    );
  });

  it('answers HTTP as a client expects: HEAD, Allow, any case of Host, a bad target, JSON errors under /api/', async () => {
    // given a server of a run with batch 3000
    const state = new StreamingUiState('j', 1000);
    state.onBatchCompleted(batchInfo({ batchTime: 3000 }));
    server = await UiServer.start(state, 0);
    const port = server.port;
    // then HEAD is GET without the body
    const head = await answer(port, '/', undefined, 'HEAD');
    expect([head.status, head.headers['content-type'], head.body]).toEqual([
      200,
      'text/html; charset=utf-8',
      '',
    ]);
    // a refused method says which are allowed
    const post = await answer(port, '/api/streaming', undefined, 'POST');
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
    // a host name in capitals is the loopback still
    expect((await get(port, '/', `LOCALHOST:${port}`)).status).toBe(200);
    // a target that is not one is a bad request, not a server error
    expect((await get(port, 'http://[')).status).toBe(400);
    // every answer under /api/ is JSON, found or not, and a batch time is only its canonical number
    expect((await get(port, '/api/batch/3000')).status).toBe(200);
    for (const path of [
      '/api/batch/-1000',
      '/api/batch/1e3',
      '/api/batch/0003000',
      '/api/streaming/',
      '/api/x',
    ]) {
      const refused = await answer(port, path);
      expect([path, refused.status, refused.headers['content-type']]).toEqual([
        path,
        404,
        'application/json',
      ]);
      expect(JSON.parse(refused.body)).toHaveProperty('error');
    }
    // and the browser's icon request is answered without an error
    expect((await get(port, '/favicon.ico')).status).toBe(204);
    expect((await get(port, '/')).body).toContain('rel="icon"');
  });

  it('serves a tune search at /api/tune, with or without a streaming job beside it', async () => {
    // given a page of a job without a search, and a page of a search only
    server = await UiServer.start(new StreamingUiState(), 0);
    const searchOnly = await UiServer.start(undefined, 0, { job: 'words.json' });
    try {
      // then each answers what it has, and says what it has not
      expect(await get(server.port, '/api/tune')).toEqual({
        status: 404,
        body: JSON.stringify({ error: 'no sluice tune search on this page' }),
      });
      expect(JSON.parse((await get(searchOnly.port, '/api/tune')).body)).toEqual({ job: 'words.json' });
      for (const path of ['/api/streaming', '/api/batch/1000']) {
        expect(await get(searchOnly.port, path)).toEqual({
          status: 404,
          body: JSON.stringify({ error: 'no streaming job on this page' }),
        });
      }
      expect((await get(searchOnly.port, '/')).status).toBe(200);
    } finally {
      await searchOnly.close();
    }
  });

  it('says which port is taken, for the command to name its option', async () => {
    server = await UiServer.start(new StreamingUiState(), 0);
    const taken = UiServer.start(new StreamingUiState(), server.port);
    await expect(taken).rejects.toBeInstanceOf(PortInUseError);
    await expect(taken).rejects.toThrow(`port ${server.port} on 127.0.0.1 is in use`);
  });
});

describe('StreamingUiState', () => {
  it('keeps the last 1,000 batches, and counts every batch and record since the start', () => {
    // given 1,005 batches of 2 records, each queued longer than the one before (from the third, over an interval)
    const state = new StreamingUiState('j', 1000);
    for (let n = 1; n <= 1005; n++) {
      state.onBatchSubmitted(n * 1000, 2, Date.now(), 1);
      state.onBatchStarted(n * 1000);
      state.onBatchCompleted(completedBatch(n * 1000, n, n * 500));
    }
    state.onBatchSubmitted(1_006_000, 7, Date.now(), 2);
    // then the summary has the newest 1,000, the totals of all, the growing delay and the queued batch
    return state.summary().then((s) => {
      expect(s.batches).toHaveLength(1000);
      expect(s.batches[0]!.batchTime).toBe(6000);
      expect(s.completedBatches).toBe(1005);
      expect(s.records).toBe(2010);
      expect(s.delayGrowingFor).toBe(1003);
      expect(s.active).toMatchObject([
        { batchTime: 1_006_000, records: 7, status: 'queued', outputOpsTotal: 2, outputOpsSucceeded: 0 },
      ]);
    });
  });
});

/** A batch of 2 records that took `processingTimeMs` after `schedulingDelayMs` (no task compute in its breakdown). */
function completedBatch(batchTime: number, processingTimeMs: number, schedulingDelayMs = 0) {
  return batchInfo({
    batchTime,
    records: 2,
    processingTimeMs,
    schedulingDelayMs,
    breakdown: { planningMs: 0, dispatchMs: 0, taskComputeMs: 0, taskStorageMs: 0 },
  });
}
