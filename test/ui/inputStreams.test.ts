import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobSource } from '../../lib/job/JobSource';
import { LocalRuntime } from '../../lib/local/LocalRuntime';
import type { BatchDetail, StreamingSummary } from '../../lib/ui/StreamingUiState';
import { StreamingUiState } from '../../lib/ui/StreamingUiState';
import { UiServer } from '../../lib/ui/UiServer';
import { batchInfo } from '../helpers/batchInfo';

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

/** Runs `job` on the logical clock with the UI's state listening, serves it, and reads what the page reads. */
async function servedJson(job: JobSource, batches: number, storeDir: string) {
  const state = new StreamingUiState('test-job', 1000);
  const runtime = await LocalRuntime.start(job, {
    clock: 'logical',
    batches,
    workers: 0,
    storeDir,
    write: () => {},
    listeners: [state],
  });
  await runtime.run();
  const server = await UiServer.start(state, 0);
  try {
    const read = async (path: string) => (await fetch(`http://127.0.0.1:${server.port}${path}`)).json();
    return {
      summary: (await read('/api/streaming')) as StreamingSummary,
      batch: (await read('/api/batch/2000')) as BatchDetail,
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

  it('are named in a TypeScript job by their source and the line that made them', async () => {
    // given a job module whose queue streams are made on line 111 of its file
    const job: JobSource = { kind: 'module', path: jobs, exportName: 'unionOfMany' };
    // when it runs
    const { summary } = await servedJson(job, 2, join(dir, 'store'));
    // then each stream is named by its queue and that line
    expect(summary.inputStreams.map((s) => s.name)).toEqual([
      'test/helpers/runtimeJobs.ts:111 (queue(1 batches))',
      'test/helpers/runtimeJobs.ts:111 (queue(1 batches))',
      'test/helpers/runtimeJobs.ts:111 (queue(2 batches))',
    ]);
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
