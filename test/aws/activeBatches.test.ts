import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ActiveSnapshot, AwsMetricsUiSource } from '../../lib/aws/AwsMetricsUiSource';
import { s3Client } from '../../lib/aws/awsClients';
import { S3BlockStore } from '../../lib/aws/S3BlockStore';
import type { StreamingSummary } from '../../lib/ui/StreamingUiState';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';

/**
 * The active batches of a job on AWS (LocalStack's S3, the real coordinator and worker handlers in our Lambda
 * host): the coordinator writes the batches it runs or queues to `jobs/<job>/active.json` with its kept metrics,
 * and the Streaming UI's reader shows them with the moment they were written.
 */

const suffix = Math.random().toString(36).slice(2, 8);
const bucket = `sluice-active-${suffix}`;
const name = `active-${suffix}`;
const BATCHES = 12;

/** Generated lines, split into words and counted: two output operations per batch. */
const job = {
  name,
  batchIntervalMs: 1000,
  sources: { lines: { type: 'generator', kind: 'lines', ratePerSec: 50 } },
  streams: {
    words: { from: 'lines', ops: [{ op: 'flatMap', fn: 'splitWords' }] },
    counts: { from: 'words', ops: [{ op: 'countByValue' }] },
  },
  outputs: [
    { stream: 'words', type: 'print' },
    { stream: 'counts', type: 'print' },
  ],
};

let serverless: ServerlessHost;
const invoke = (functionName: string, payload: unknown) => serverless.invoke(functionName, payload);

beforeAll(async () => {
  serverless = await startServerlessHost({ bucket, coordinatorTimeoutMs: 120_000 });
}, 120_000);

afterAll(async () => {
  await serverless?.stop();
});

describe('the active batches of a job on AWS', () => {
  it('are written with the kept metrics while batches run, and read by the Streaming UI with their age', async () => {
    // given the UI's reader of the job's bucket, polling while the coordinator drives 12 batches
    const store = new S3BlockStore({ client: s3Client(), bucket });
    const source = new AwsMetricsUiSource(store, name);
    const seen: StreamingSummary[] = [];
    let running = true;
    const polling = (async () => {
      while (running) {
        const summary = await source.summary().catch(() => undefined); // job.json is not there at first
        if (summary && summary.active.length > 0) seen.push(summary);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    // when the coordinator runs them
    const started = await invoke('coordinator', { action: 'start', job, batches: BATCHES });
    running = false;
    await polling;
    expect(started).toMatchObject({ ok: true, batches: BATCHES });
    // then, while they ran, the page had a batch in processing, with its due time, delay and output ops, and
    // the moment the coordinator wrote it
    const processing = seen.flatMap((s) =>
      s.active.filter((b) => b.status === 'processing').map((b) => ({ ...b, asOf: s.activeAsOfMs })),
    );
    expect(processing.length).toBeGreaterThan(0);
    const batch = processing[0]!;
    expect(batch.batchTime % 1000).toBe(0);
    expect(batch.batchTime).toBeLessThanOrEqual(BATCHES * 1000);
    expect(batch.outputOpsTotal).toBe(2);
    expect(batch.startedAtMs).toBeGreaterThanOrEqual(batch.dueAtMs);
    expect(batch.schedulingDelayMs).toBe(batch.startedAtMs! - batch.dueAtMs);
    expect(batch.asOf).toBeGreaterThanOrEqual(batch.startedAtMs!);
    // and once the run ended, the last write says no batch is active, and the kept metrics hold them all
    const last = JSON.parse(
      Buffer.from((await store.get(`jobs/${name}/active.json`))!).toString('utf8'),
    ) as ActiveSnapshot;
    expect(last.active).toEqual([]);
    // with the job's input streams as they were then, for the UI to show a change of their state before a batch
    // records it (a generator has no state and no error: its name only)
    expect(last.inputs?.map(({ name: stream, ...status }) => [stream, status])).toEqual([
      ['lines', { id: 'n1' }],
    ]);
    const summary = await source.summary();
    expect(summary.active).toEqual([]);
    expect(summary.activeAsOfMs).toBe(last.writtenAtMs);
    expect(summary.batches).toHaveLength(BATCHES);
  }, 120_000);
});
