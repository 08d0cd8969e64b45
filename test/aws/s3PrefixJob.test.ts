import { writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lib/aws/awsClients';
import { runBatches } from '../../lib/local/LocalRuntime';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';
import { until } from '../helpers/until';

/**
 * An `s3Prefix` job end to end on the serverless runtime, against LocalStack with the real handlers in our Lambda
 * host: the coordinator lists and plans byte ranges of at most `maxPartBytes`, more parts than partitions, and the
 * workers read them with ranged GETs. Its outputs must equal local mode's for a folder holding the same files with
 * the same cap, line for line, and the line that is not UTF-8 must be one dead letter in both.
 */

const suffix = Math.random().toString(36).slice(2, 8);
const bucket = `sluice-s3in-${suffix}`;
const job = `s3in-${suffix}`;
const MAX_PART_BYTES = 65_536;

/** Two files: one of about 140 KB with a line that is not UTF-8 in its middle (3 parts of 64 KiB), and a small one. */
const FILES: Record<string, Buffer> = {
  'a.txt': Buffer.concat([
    Buffer.from(
      Array.from({ length: 3000 }, (_, i) => `a${i} w${i % 37} w${i % 11} ${'z'.repeat(i % 41)}\n`).join(''),
    ),
    Buffer.from([0x61, 0xff, 0x0a]),
    Buffer.from(Array.from({ length: 3000 }, (_, i) => `b${i} w${i % 13} é${i % 7}\r\n`).join('')),
  ]),
  'b.txt': Buffer.from('last w1 w2\nno final newline w1'),
};

function jobDocument(source: Record<string, unknown>, outputs: unknown[]) {
  return {
    name: job,
    batchIntervalMs: 1000,
    sources: { lines: { ...source, partitions: 2, maxPartBytes: MAX_PART_BYTES } },
    streams: {
      count: { from: 'lines', ops: [{ op: 'count' }] },
      words: { from: 'lines', ops: [{ op: 'flatMap', fn: 'splitWords' }, { op: 'countByValue' }] },
      firsts: { from: 'lines', ops: [{ op: 'map', expr: '$substringBefore($, " ")' }] },
    },
    outputs,
  };
}

let serverless: ServerlessHost;
let dir: string;

const sortRecords = (records: unknown[]) => records.map((r) => JSON.stringify(r)).sort();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-s3in-'));
  serverless = await startServerlessHost({
    bucket,
    coordinatorTimeoutMs: 120_000,
    coordinatorEnv: { SLUICE_COORDINATOR_FUNCTION: 'coordinator', SLUICE_TASK_CONCURRENCY: '4' },
  });
  for (const [name, bytes] of Object.entries(FILES)) {
    await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: `input/${name}`, Body: bytes }));
  }
}, 180_000);

afterAll(async () => {
  await serverless?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('an s3Prefix job on the serverless runtime', () => {
  it('reads its objects as byte ranges on the workers and gives what local mode gives for the same files', async () => {
    // given the objects under input/, and a job capping a task at 64 KiB over 2 partitions
    const totalBytes = Object.values(FILES).reduce((sum, bytes) => sum + bytes.length, 0);
    const parts = Math.ceil(totalBytes / MAX_PART_BYTES);
    expect(parts).toBeGreaterThan(2);
    const path = (name: string) => `${job}/${name}`;
    const outputs = ['count', 'words', 'firsts'].map((name) => ({
      stream: name,
      type: 'jsonl',
      path: path(name),
    }));
    const doc = jobDocument({ type: 's3Prefix', bucket, prefix: 'input/' }, outputs);

    // when the coordinator runs 2 batches of it (the first takes both objects)
    await serverless.invokeEvent('coordinator', { action: 'start', job: doc, batches: 2 });
    const status = () => serverless.invoke('coordinator', { action: 'status', job, last: 10 });
    await until(
      'the last batch',
      async () => {
        const s = await status();
        return s.state === 'stopped' && s.lastCompletedBatch === 2000;
      },
      120_000,
    );

    // and local mode runs the same job over a folder the same files are dropped into after its first batch
    await mkdir(join(dir, 'in'));
    const local = await runBatches(
      {
        kind: 'document',
        document: jobDocument(
          { type: 'textFileStream', directory: 'in' },
          ['count', 'words', 'firsts'].map((name) => ({ stream: name, type: 'collectBatches', name })),
        ),
        baseDir: dir,
      },
      2,
      {
        workers: 0,
        listeners: [
          {
            onBatchCompleted: (info: { batchTime: number }) => {
              if (info.batchTime !== 1000) return;
              for (const [name, bytes] of Object.entries(FILES)) writeFileSync(join(dir, 'in', name), bytes);
            },
          },
        ],
      },
    );
    expect(local.error).toBeUndefined();

    // then the serverless batch that took the objects equals local mode's batch that took the files
    const batch = async (name: string) =>
      JSON.parse(await serverless.text(`outputs/${path(name)}/1000.json`)).records as unknown[];
    expect(await batch('count')).toEqual([6002]); // 6,003 lines, one of them a dead letter
    expect(await batch('count')).toEqual(local.recordsOf('count')[1]);
    expect(await batch('firsts')).toEqual(local.recordsOf('firsts')[1]);
    expect(sortRecords(await batch('words'))).toEqual(sortRecords(local.recordsOf('words')[1]!));
    // (the serverless batch after it took nothing new)
    expect(JSON.parse(await serverless.text(`outputs/${path('count')}/2000.json`)).records).toEqual([0]);

    // and the line that is not UTF-8 is one dead letter, as in local mode
    const letters: Record<string, unknown>[] = [];
    for (const key of await serverless.keys(`jobs/${job}/store/dead-letter/`)) {
      for (const line of (await serverless.text(key)).split('\n').filter(Boolean))
        letters.push(JSON.parse(line));
    }
    expect(letters.map((l) => l.record)).toEqual([
      { bytes: 2, base64: Buffer.from([0x61, 0xff]).toString('base64') },
    ]);
    expect(local.deadLetters.map((l) => l.record)).toEqual(letters.map((l) => l.record));

    // and the batch counted every line its tasks reported, and the stage reading the objects ran a task a part
    const first = (await status()).batches.find((b: BatchInfo) => b.batchTime === 1000) as BatchInfo;
    expect(first.records).toBe(6003);
    const stages = (first.outputOps ?? []).flatMap((op) => op.jobs.flatMap((j) => j.stages));
    const firsts = stages.filter((stage) => stage.recordsOut === 6002 && stage.shuffleBytesRead === 0);
    expect(firsts.map((stage) => stage.tasks.length)).toContain(parts);
  }, 300_000);
});
