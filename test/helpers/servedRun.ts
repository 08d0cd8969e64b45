import type { JobSource } from '../../lib/job/JobSource';
import { LocalRuntime } from '../../lib/local/LocalRuntime';
import type { BatchInfo, StreamingListener } from '../../lib/scheduler/StreamingListener';
import { type BatchDetail, type StreamingSummary, StreamingUiState } from '../../lib/ui/StreamingUiState';
import { batchPageHtml } from '../../lib/ui/static/batchPage.js';
import { UiServer } from '../../lib/ui/UiServer';

/** What the page of a served run reads and draws: the summary, and a batch's JSON with its page's HTML. */
export interface ServedRun {
  /** The run's batches as the runtime reported them. */
  readonly batches: readonly BatchInfo[];
  /** The page's address. */
  readonly url: string;
  readonly summary: StreamingSummary;
  /** The batch at `batchTime` as `/api/batch/<batch time>` answers it, and its page rendered from that answer. */
  batch(batchTime: number): Promise<{ readonly detail: BatchDetail; readonly html: string }>;
}

/**
 * Runs `job` for `batches` (or until a batch meets `stopAfter`) with the UI's state listening (on the logical clock
 * unless told), serves it on a free
 * port, and reads what the page reads from the running server: the batch page's HTML is made by the page's own
 * module from the JSON served, as the browser makes it. The server is closed when `use` returns.
 */
export async function withServedRun<T>(
  job: JobSource,
  opts: {
    readonly batches: number;
    readonly storeDir: string;
    readonly clock?: 'logical' | 'system';
    readonly listeners?: readonly StreamingListener[];
    /** Stops the run after the first batch for which it is true (a source whose records arrive when they do). */
    readonly stopAfter?: (info: BatchInfo) => boolean;
  },
  use: (run: ServedRun) => Promise<T>,
): Promise<T> {
  const clock = opts.clock ?? 'logical';
  const state = new StreamingUiState();
  const runtime = await LocalRuntime.start(job, {
    clock,
    batches: opts.batches,
    workers: 0,
    storeDir: opts.storeDir,
    write: () => {},
    listeners: [
      state,
      ...(opts.listeners ?? []),
      { onBatchCompleted: (info) => (opts.stopAfter?.(info) ? runtime.stop() : undefined) },
    ],
  });
  state.describe('test-job', runtime.ssc.batchIntervalMs, Date.now(), clock === 'system');
  const { batches } = await runtime.run();
  const server = await UiServer.start(state, 0);
  try {
    const read = async (path: string) => (await fetch(`${server.url}${path.slice(1)}`)).json();
    return await use({
      url: server.url,
      batches,
      summary: (await read('/api/streaming')) as StreamingSummary,
      batch: async (batchTime) => {
        const detail = (await read(`/api/batch/${batchTime}`)) as BatchDetail;
        return { detail, html: batchPageHtml(detail) };
      },
    });
  } finally {
    await server.close();
  }
}
