import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lib/aws/awsClients';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';

/**
 * A job started again on the serverless runtime with a changed document, over the checkpoint of the one before
 * (LocalStack's S3, the real coordinator and worker handlers in our Lambda host). The start event is where the
 * document is checked, so a change the checkpoint cannot carry over is refused there, before it replaces the
 * job's document: resumed, a state of 3 partitions read as 2 lost keys and counted others twice, and a graph of
 * another shape mixed the old streams' state into new ones.
 */

const suffix = Math.random().toString(36).slice(2, 8);
const bucket = `sluice-changed-job-${suffix}`;
const name = `changed-${suffix}`;
const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

/** Each batch holds every key once; the state counts them, checkpointed every 2 batches. */
const job = (partitions: number, extraOps: readonly Record<string, unknown>[] = []) => ({
  name,
  batchIntervalMs: 1000,
  checkpointIntervalMs: 2000,
  sources: { keys: { type: 'queue', batches: Array.from({ length: 10 }, () => KEYS) } },
  streams: {
    pairs: { from: 'keys', ops: [...extraOps, { op: 'map', expr: '[$, 1]' }] },
    counts: { from: 'pairs', ops: [{ op: 'updateStateByKey', fn: 'countState', partitions }] },
  },
  outputs: [{ stream: 'counts', type: 'jsonl', path: `counts-${suffix}` }],
});

let serverless: ServerlessHost;
const invoke = (payload: unknown) => serverless.invoke('coordinator', payload);

beforeAll(async () => {
  serverless = await startServerlessHost({ bucket });
}, 120_000);

afterAll(async () => {
  await serverless?.stop();
});

describe('a changed job document started over its checkpoint on the serverless runtime', () => {
  it('is refused when the checkpoint cannot carry over, and resumes when fresh or unchanged', async () => {
    // given a job that ran 3 batches, its state checkpointed in 3 partitions
    const first = await invoke({ action: 'start', job: job(3), batches: 3 });
    expect(first.error).toBeUndefined();
    expect(first.lastBatch).toBe(3000);
    // when it is started again with its state in 2 partitions
    const repartitioned = await invoke({ action: 'start', job: job(2), batches: 5 });
    // then the start is refused, naming the op, both settings and the way out
    expect(repartitioned.ok).toBe(false);
    expect(repartitioned.error).toContain(
      `s3://${bucket}/jobs/${name}/store/ holds a checkpoint of job "${name}" whose streams.counts.ops[0] (updateStateByKey) has 3 partitions, where the job now gives it 2 partitions`,
    );
    expect(repartitioned.error).toContain('send the start event with "fresh": true to discard it');
    // and so is a graph of another shape (one op more)
    const reshaped = await invoke({
      action: 'start',
      job: job(3, [{ op: 'filter', expr: '$ != "z"' }]),
      batches: 5,
    });
    expect(reshaped.ok).toBe(false);
    expect(reshaped.error).toContain('whose stream graph has another shape');
    // and the document recorded is still the one that ran, which goes on from its checkpoint
    expect(JSON.parse(await serverless.text(`jobs/${name}/job.json`)).streams.counts.ops[0].partitions).toBe(
      3,
    );
    const resumed = await invoke({ action: 'start', job: job(3), batches: 4 });
    expect(resumed.error).toBeUndefined();
    expect(resumed.lastBatch).toBe(4000);
    const fourth = JSON.parse(await serverless.text(`outputs/counts-${suffix}/4000.json`));
    expect([...fourth.records].sort()).toEqual(KEYS.map((key) => [key, 4]));
    // when the changed one is started fresh, then it runs from its first batch
    const fresh = await invoke({ action: 'start', job: job(2), batches: 2, fresh: true });
    expect(fresh.error).toBeUndefined();
    expect(fresh.lastBatch).toBe(2000);
  }, 120_000);

  it("refuses, in the coordinator, a document whose state settings changed behind the start's back", async () => {
    // given a job that ran 3 batches, its state checkpointed in 3 partitions
    const coordinated = (partitions: number) => ({
      ...job(partitions),
      name: `${name}-coordinator`,
      outputs: [{ stream: 'counts', type: 'jsonl', path: `coordinator-${suffix}` }],
    });
    const job2 = coordinated(3);
    const first = await invoke({ action: 'start', job: job2, batches: 3 });
    expect(first.error).toBeUndefined();
    // when its recorded document says 2 partitions (as a redeployed module's graph may) and a tick drives it on
    await put(`jobs/${job2.name}/job.json`, JSON.stringify(coordinated(2)));
    await put(
      `jobs/${job2.name}/control.json`,
      JSON.stringify({ state: 'running', maxBatches: 5, updatedAt: new Date().toISOString() }),
    );
    const ticked = await invoke({ action: 'tick', job: job2.name });
    // then the coordinator refuses it before any batch, naming the op, both settings and the way out, and stops it
    const [driven] = ticked.driven as Record<string, unknown>[];
    expect(driven?.ok).toBe(false);
    expect(driven?.state).toBe('stopped');
    expect(driven?.error).toContain(
      `s3://${bucket}/jobs/${job2.name}/store/ holds a checkpoint of job "${job2.name}" whose streams.counts.ops[0] (updateStateByKey) has 3 partitions, where the job now gives it 2 partitions`,
    );
    expect(driven?.error).toContain('send the start event with "fresh": true to discard it');
    expect(JSON.parse(await serverless.text(`jobs/${job2.name}/control.json`)).state).toBe('stopped');
    expect(await serverless.keys(`outputs/coordinator-${suffix}/`)).toEqual(
      [1000, 2000, 3000].map((t) => `outputs/coordinator-${suffix}/${t}.json`),
    );
  }, 120_000);

  it('refuses an S3 prefix source pointed at another bucket, whose same-named keys it skipped unread', async () => {
    const other = `${bucket}-other`;
    await s3Client().send(new CreateBucketCommand({ Bucket: other }));
    const s3Job = (from: string) => ({
      name: `${name}-moved`,
      batchIntervalMs: 1000,
      sources: { lines: { type: 's3Prefix', bucket: from, prefix: 'in/' } },
      streams: { counted: { from: 'lines', ops: [{ op: 'count' }] } },
      outputs: [{ stream: 'counted', type: 'jsonl', path: `moved-${suffix}` }],
    });
    // given a job that read in/x.txt of its bucket
    await put('in/x.txt', 'from the first bucket\n');
    const first = await invoke({ action: 'start', job: s3Job(bucket), batches: 2 });
    expect(first.error).toBeUndefined();
    // when it is started on another bucket that holds an in/x.txt of its own
    await s3Client().send(new PutObjectCommand({ Bucket: other, Key: 'in/x.txt', Body: 'from the other\n' }));
    const moved = await invoke({ action: 'start', job: s3Job(other), batches: 4 });
    // then the start is refused, naming both places, where the key it took in the first bucket skipped it
    expect(moved.ok).toBe(false);
    expect(moved.error).toContain(
      `whose sources.lines (s3Prefix) was an s3Prefix source reading s3://${bucket}/in/, where the job now makes it an s3Prefix source reading s3://${other}/in/: the checkpoint keeps how far the old source was read`,
    );
    // and a checkpoint in the words older ones stored, `a s3Prefix source`, resumes on its own bucket
    const key = `jobs/${name}-moved/store/checkpoint/metadata.json`;
    const checkpoint = JSON.parse(await serverless.text(key));
    const settings = checkpoint.resumeSettings as Record<string, string>;
    expect(Object.values(settings)).toEqual([`an s3Prefix source reading s3://${bucket}/in/`]);
    checkpoint.resumeSettings = Object.fromEntries(
      Object.entries(settings).map(([id, s]) => [id, s.replace('an s3Prefix source', 'a s3Prefix source')]),
    );
    await put(key, JSON.stringify(checkpoint));
    const resumed = await invoke({ action: 'start', job: s3Job(bucket), batches: 4 });
    expect(resumed.error).toBeUndefined();
  }, 120_000);
});

/** Puts an object into the job's bucket, as a user or a deployment would. */
const put = (key: string, body: string) =>
  s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
