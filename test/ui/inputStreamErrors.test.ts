import { once } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobSource } from '../../lib/job/JobSource';
import { LocalRuntime } from '../../lib/local/LocalRuntime';
import { silentLogger } from '../../lib/log/Logger';
import { StreamingContext } from '../../lib/StreamingContext';
import { LogicalClock } from '../../lib/scheduler/Clock';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import type { StreamingListener } from '../../lib/scheduler/StreamingListener';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import type { StreamingSummary } from '../../lib/ui/StreamingUiState';
import { StreamingUiState } from '../../lib/ui/StreamingUiState';
import { inputStreamStatusRows, receiversLabel } from '../../lib/ui/static/pageFormat.js';
import { UiServer } from '../../lib/ui/UiServer';
import { connectInProcess } from '../helpers/connectInProcess';
import { withServedRun } from '../helpers/servedRun';
import { until } from '../helpers/until';

/** A JSON job of one source, `lines`, printed, in batches of `batchIntervalMs`. */
function oneSource(baseDir: string, source: Record<string, unknown>, batchIntervalMs = 1000): JobSource {
  return {
    kind: 'document',
    baseDir,
    document: {
      name: 'input-errors',
      batchIntervalMs,
      sources: { lines: source },
      outputs: [{ stream: 'lines', type: 'print' }],
    },
  };
}

/** A loopback port where nothing listens: a server's own free port, once it closed. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Starts a loopback server on `port` that keeps each connection open and sends nothing. */
async function listenOn(port: number): Promise<Server> {
  const server = createServer((socket) => socket.on('error', () => {}));
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** The input stream `lines` as `/api/streaming` answers it. */
async function linesStream(url: string) {
  const summary = (await (await fetch(`${url}api/streaming`)).json()) as StreamingSummary;
  return summary.inputStreams.find((s) => s.name === 'lines');
}

/**
 * Runs a JSON job of a socket source, `lines`, in batches of `batchIntervalMs` on the wall clock, pointed at a
 * loopback port where nothing listens, with the UI served (and watching the run's input streams when `watch`), until
 * the UI shows it retrying; then listens on the port until the UI shows it connected. Returns the port, the stream
 * as the UI showed it each time, and the last summary.
 */
async function refusedThenServed(batchIntervalMs: number, watch = false) {
  const port = await closedPort();
  const state = new StreamingUiState();
  const runtime = await LocalRuntime.start(
    oneSource(dir, { type: 'socket', host: '127.0.0.1', port }, batchIntervalMs),
    {
      clock: 'system',
      workers: 0,
      storeDir: join(dir, 'store'),
      write: () => {},
      log: silentLogger, // the retry lines
      listeners: [state],
    },
  );
  if (watch) state.watchInputs(runtime.ssc.graph.inputs);
  const ui = await UiServer.start(state, 0);
  const running = runtime.run();
  let server: Server | undefined;
  try {
    await until(
      'the refused connection in /api/streaming',
      async () => (await linesStream(ui.url))?.state === 'retrying',
      20_000,
    );
    const refused = await linesStream(ui.url);
    server = await listenOn(port);
    await until(
      'the connected socket in /api/streaming',
      async () => (await linesStream(ui.url))?.state === 'connected',
      20_000,
    );
    const summary = (await (await fetch(`${ui.url}api/streaming`)).json()) as StreamingSummary;
    const connected = summary.inputStreams.find((s) => s.name === 'lines');
    return { port, refused, connected, summary };
  } finally {
    runtime.stop();
    await running;
    await ui.close();
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  }
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-ui-input-errors-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the Streaming UI's input streams, their state and latest error", () => {
  it('show a socket refused while nothing listens, retrying, then connected once a server listens', async () => {
    // given a socket source pointed at a loopback port where nothing listens, in batches of 200 ms
    // when batches complete while the connection is refused, then a server listens on the port
    const { port, refused, connected } = await refusedThenServed(200);
    // then the stream's row said it was retrying, with the refusal as its latest error, in UTC on the page
    expect(refused?.lastError?.message).toBe(`Error: connect ECONNREFUSED 127.0.0.1:${port}`);
    const [row] = inputStreamStatusRows([refused!]);
    expect(row?.lastErrorTime).toMatch(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d UTC$/);
    // and then connected again, its latest error still shown (as Spark keeps it)
    expect(connected?.lastError?.message).toContain('ECONNREFUSED');
    // and the Input Rate's cell counted it as Spark counts its receivers: inactive while retrying, then active
    expect(receiversLabel([refused!])).toBe('Receivers: 0 / 1 active');
    expect(receiversLabel([connected!])).toBe('Receivers: 1 / 1 active');
  });

  it("show a socket's state and error live, before a batch completes, as Spark's receiver events do", async () => {
    // given the same socket in batches of an hour, so that no batch completes, the UI watching the run's input
    // streams as `sluice run --ui` has it
    // when the connection is refused, then a server listens on the port
    const { port, refused, connected, summary } = await refusedThenServed(3_600_000, true);
    // then the stream showed retrying with the refusal, then connected with it kept, and no batch had completed
    expect(refused?.lastError?.message).toBe(`Error: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(connected?.lastError?.message).toContain('ECONNREFUSED');
    expect(summary.completedBatches).toBe(0);
  });

  it('show a folder whose planned file was gone when its task read it, as the failed batch left it', async () => {
    // given a folder source; a file appears after batch 1000 and is deleted once batch 2000 planned to read it
    mkdirSync(join(dir, 'in'));
    const gone: StreamingListener = {
      onBatchCompleted: ({ batchTime }) => {
        if (batchTime === 1000) writeFileSync(join(dir, 'in', 'f1.txt'), 'one\n');
      },
      onBatchSubmitted: (batchTime) => {
        if (batchTime === 2000) rmSync(join(dir, 'in', 'f1.txt'));
      },
    };
    const job = oneSource(dir, { type: 'textFileStream', directory: 'in' });
    // when it runs: batch 2000's task cannot read the file, and the batch fails
    await withServedRun(job, { batches: 3, storeDir: join(dir, 'store'), listeners: [gone] }, async (run) => {
      expect(run.batches.at(-1)?.error).toContain('is gone');
      // then the stream's row has the read's error, and batch 2000's page too, in its own columns
      const [lines] = run.summary.inputStreams;
      expect(lines?.lastError?.message).toMatch(/^Error: file .*f1\.txt is gone/);
      expect(lines?.state).toBeUndefined();
      const { html } = await run.batch(2000);
      expect(html).toContain('<th>Last Error</th>');
      expect(html).toContain('is gone');
      // and batch 1000's page, before the error, says nothing of errors
      expect((await run.batch(1000)).html).not.toContain('Last Error');
    });
  });

  it('give each of two streams made on one line its own error, as Spark keys its receivers by stream id', async () => {
    // given two streams of one folder made on one line, so of one source line and one description: the first read by
    // its tasks, the second rate-limited and so read at the tick; a file appears once batch 1000 completed and is
    // deleted once batch 2000 took it
    mkdirSync(join(dir, 'in'));
    const ssc = new StreamingContext({ batchIntervalMs: 1000 });
    const [byTasks, atTick] = [undefined, { maxRatePerSec: 1000 }].map((input) =>
      ssc.textFileStream(join(dir, 'in'), 1, input),
    );
    byTasks!.collectBatches('by-tasks');
    atTick!.collectBatches('at-tick');
    const state = new StreamingUiState();
    ssc.addListener(state);
    ssc.addListener({
      onBatchCompleted: ({ batchTime }) => {
        if (batchTime === 1000) writeFileSync(join(dir, 'in', 'f1.txt'), 'one\n');
      },
      onBatchSubmitted: (batchTime) => {
        if (batchTime === 2000) rmSync(join(dir, 'in', 'f1.txt'));
      },
    });
    connectInProcess(ssc, new LocalFolderStore(join(dir, 'store')), dir);
    // when batch 2000 runs: the first stream's task cannot read the file, the second read it at the tick
    const run = await new JobScheduler(ssc, new LogicalClock(), { name: 'twins' }).run({ batches: 3 });
    expect(run.error?.message).toContain('is gone');
    // then only the first stream's row has the read's error, in the summary and on batch 2000's page
    const streams = (await state.summary()).inputStreams;
    expect(streams.find((s) => s.id === byTasks!.id)?.lastError?.message).toMatch(/is gone/);
    expect(streams.find((s) => s.id === atTick!.id)).not.toHaveProperty('lastError');
    const inputs = (await state.batch(2000))?.info.inputs;
    expect(inputs?.[atTick!.id]).not.toHaveProperty('lastError');
  });

  it('show a folder that could not be listed at the tick', async () => {
    // given a folder source whose folder is removed once batch 1000 completed
    mkdirSync(join(dir, 'in'));
    const removed: StreamingListener = {
      onBatchCompleted: ({ batchTime }) => {
        if (batchTime === 1000) rmSync(join(dir, 'in'), { recursive: true });
      },
    };
    const job = oneSource(dir, { type: 'textFileStream', directory: 'in' });
    // when batch 2000 lists it
    await withServedRun(
      job,
      { batches: 3, storeDir: join(dir, 'store'), listeners: [removed] },
      async (run) => {
        // then the stream's row has the listing's error
        expect(run.summary.inputStreams[0]?.lastError?.message).toMatch(/^Error: ENOENT/);
      },
    );
  });

  it('say nothing of a stream that has had no error and has no connection', async () => {
    // given a queue source
    const job = oneSource(dir, { type: 'queue', batches: [['a'], ['b']] });
    // when it runs
    await withServedRun(job, { batches: 2, storeDir: join(dir, 'store') }, async (run) => {
      // then its stream has neither state nor error, and the page draws no table of them
      expect(run.summary.inputStreams).toEqual([{ id: expect.any(String), name: 'lines' }]);
      expect(inputStreamStatusRows(run.summary.inputStreams)).toEqual([]);
      expect(receiversLabel(run.summary.inputStreams)).toBeUndefined();
      expect((await run.batch(2000)).html).not.toContain('Last Error');
    });
  });
});
