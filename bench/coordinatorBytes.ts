/**
 * Coordinator bytes per batch at several input rates (issue 11), against LocalStack's Kinesis and S3: the same
 * records read by the two input paths of the serverless runtime, each with a Kinesis client and a store that count
 * every byte the coordinator moves. Direct reads: the coordinator plans the shard ranges (a ListShards when a
 * shard finished, the tasks' small reports of the batch before, the plan and the source's position written into
 * the metadata checkpoint); tasks read the ranges (their bytes are counted apart). Input blocks: the coordinator
 * reads every record and writes the batch's input block. Part of `npm run bench:serverless`; run alone with
 * `node --import tsx bench/coordinatorBytes.ts`.
 */
import { cpus, loadavg } from 'node:os';
import { CreateStreamCommand, DeleteStreamCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { s3Client } from '../lib/aws/awsClients';
import { KinesisRangeReader, type KinesisReadPart } from '../lib/aws/KinesisRangeReader';
import { KinesisSource } from '../lib/aws/KinesisSource';
import { openBlockStore } from '../lib/aws/WorkerRuntime';
import { GeneratorSource } from '../lib/source/GeneratorSource';
import type { BlockStore } from '../lib/storage/BlockStore';
import { encodeSegments } from '../lib/storage/SegmentedBlob';
import { setup, waitForStreamActive } from '../test/aws/localstack';
import { putRoundRobin } from '../test/helpers/kinesisFeed';
import { appendSection } from './resultsFile';

/** Records per 1 s batch; kinesis-mock ingests a few thousand records per second on this machine. */
export const INPUT_RATES = [100, 500, 2000, 5000];
const BATCHES_PER_RATE = 3;
const PARTITIONS = 2;

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** A Kinesis client that counts the bytes of every answer (the records' data as the wire carries it, base64). */
function countingKinesis(): { client: KinesisClient; bytes: () => number } {
  const client = new KinesisClient({ requestHandler: new NodeHttpHandler() });
  let bytes = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      bytes += Buffer.byteLength(
        JSON.stringify(out.output, (_, v) =>
          v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
        ),
      );
      return out;
    },
    { step: 'initialize', name: 'countBytes' },
  );
  return { client, bytes: () => bytes };
}

/** A real store that counts the bytes written and read through it. */
class CountingStore implements BlockStore {
  written = 0;
  read = 0;
  constructor(private readonly inner: BlockStore) {}
  async put(key: string, bytes: Uint8Array | string): Promise<void> {
    this.written += typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
    await this.inner.put(key, bytes);
  }
  async get(key: string): Promise<Uint8Array | undefined> {
    const bytes = await this.inner.get(key);
    this.read += bytes?.byteLength ?? 0;
    return bytes;
  }
  async getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    const bytes = await this.inner.getRange(key, start, end);
    this.read += bytes.byteLength;
    return bytes;
  }
  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }
  deletePrefix(prefix: string): Promise<void> {
    return this.inner.deletePrefix(prefix);
  }
}

/** Measures both paths on one stream (LocalStack must be up and the AWS environment set); returns the section. */
export async function coordinatorBytesSection(): Promise<string> {
  const suffix = Math.random().toString(36).slice(2, 8);
  const bucket = `sluice-bytes-${suffix}`;
  const streamName = `bytes-${suffix}`;
  await s3Client().send(new CreateBucketCommand({ Bucket: bucket }));
  const admin = new KinesisClient({ requestHandler: new NodeHttpHandler() });
  await admin.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 2 }));
  await waitForStreamActive(admin, streamName);
  const storeUrl = `s3://${bucket}/jobs/bench/store/`;
  const jobStore = await openBlockStore(`s3://${bucket}`, 'jobs/bench/store/');
  const generator = new GeneratorSource({ kind: 'tweets', ratePerSec: 1000, seed: 11 });
  let next = 0;

  const directKinesis = countingKinesis();
  const directStore = new CountingStore(jobStore);
  const direct = new KinesisSource({
    client: directKinesis.client,
    streamName,
    direct: { storeUrl, settleMs: 0 },
  });
  const blockKinesis = countingKinesis();
  const blockStore = new CountingStore(jobStore);
  const blocks = new KinesisSource({ client: blockKinesis.client, streamName });
  const taskKinesis = countingKinesis();
  const reader = new KinesisRangeReader(taskKinesis.client, (url) => openBlockStore(url));

  const rows: string[] = [];
  const perRate: Array<{ rate: number; direct: number; blocks: number }> = [];
  let batchTime = 0;
  // The first batch lists the shards: a warm-up batch, not measured.
  for (const rate of [INPUT_RATES[0]!, ...INPUT_RATES]) {
    const samples: Array<{
      direct: number;
      kinesis: number;
      written: number;
      read: number;
      blocks: number;
      tasks: number;
    }> = [];
    for (let b = 0; b < BATCHES_PER_RATE; b++) {
      batchTime += 1000;
      const records = Array.from({ length: rate }, () => JSON.stringify(generator.recordAt(next++)));
      await putRoundRobin(admin, streamName, records);
      // Direct reads: plan (reports of the batch before are read here), record the plan, let the tasks read.
      const d0 = { k: directKinesis.bytes(), w: directStore.written, r: directStore.read };
      const plan = await direct.planBatch(batchTime, 1000, PARTITIONS, {
        folder: `input/n1/${batchTime}/`,
        readReport: (key) => directStore.get(key),
      });
      await directStore.put(
        `bench/${batchTime}/checkpoint-input.json`,
        JSON.stringify({ plan, position: direct.checkpointPosition() }),
      );
      const d1 = { k: directKinesis.bytes(), w: directStore.written, r: directStore.read };
      const t0 = taskKinesis.bytes();
      let taken = 0;
      for (const part of plan.parts) taken += (await reader.read(part as KinesisReadPart)).length;
      const tasks = taskKinesis.bytes() - t0;
      // Input blocks: the coordinator reads the same records and writes the block and its position.
      const b0 = blockKinesis.bytes() + blockStore.written;
      const lines = await blocks.recordsFor(batchTime, 1000);
      await blockStore.put(`bench/${batchTime}/block`, encodeSegments([lines]).bytes);
      await blockStore.put(`bench/${batchTime}/position.json`, JSON.stringify(blocks.checkpointPosition()));
      const blockBytes = blockKinesis.bytes() + blockStore.written - b0;
      if (taken !== rate || lines.length !== rate) {
        throw new Error(
          `batch ${batchTime}: ${rate} records written, direct read ${taken}, blocks ${lines.length}`,
        );
      }
      const kinesis = d1.k - d0.k;
      const written = d1.w - d0.w;
      const read = d1.r - d0.r;
      samples.push({ direct: kinesis + written + read, kinesis, written, read, blocks: blockBytes, tasks });
    }
    if (batchTime <= BATCHES_PER_RATE * 1000) continue; // the warm-up
    const m = (f: (s: (typeof samples)[number]) => number) => median(samples.map(f));
    perRate.push({ rate, direct: m((s) => s.direct), blocks: m((s) => s.blocks) });
    rows.push(
      `| ${fmt(rate)} | ${fmt(m((s) => s.direct))} | ${fmt(m((s) => s.kinesis))} | ${fmt(m((s) => s.written))} | ${fmt(m((s) => s.read))} | ${fmt(m((s) => s.tasks))} | ${fmt(m((s) => s.blocks))} |`,
    );
  }
  await admin.send(new DeleteStreamCommand({ StreamName: streamName, EnforceConsumerDeletion: true }));
  const first = perRate[0]!;
  const last = perRate.at(-1)!;
  const flat = last.direct <= first.direct * 1.1;
  return [
    '',
    '## Coordinator bytes per batch at several input rates (issue 11)',
    '',
    `Run by \`node --import tsx bench/coordinatorBytes.ts\` (also part of \`npm run bench:serverless\`) on ${new Date().toISOString()}: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, load average before ${loadavg()
      .map((l) => l.toFixed(2))
      .join(
        ' / ',
      )}. LocalStack 4.14.0 (S3, kinesis-mock), a 2-shard stream, generated tweets (~150 bytes of JSON each), ${PARTITIONS} partitions, ${BATCHES_PER_RATE} batches per rate, medians. Both paths read the same records; each has its own Kinesis client and store wrapper counting every byte the coordinator moves (Kinesis answers as JSON with the data in base64, S3 bodies).`,
    '',
    '| Records per batch | Direct: coordinator bytes per batch | of which Kinesis read | S3 written (plan and position in the checkpoint) | S3 read (task reports) | Tasks’ Kinesis bytes (not the coordinator’s) | Input blocks: coordinator bytes per batch |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `From ${fmt(first.rate)} to ${fmt(last.rate)} records per batch the direct coordinator's bytes per batch went from ${fmt(first.direct)} to ${fmt(last.direct)} (target: flat; **${flat ? 'met' : 'not met'}**), while the input-block path's went from ${fmt(first.blocks)} to ${fmt(last.blocks)} (×${fmt(last.blocks / first.blocks)}). What is left per batch is per shard and per partition (a range in the plan, a report of the batch before, the position's sequence numbers), so it grows with the shards, not the records; a ListShards is added only in a batch after a shard finished.`,
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await setup();
  const section = await coordinatorBytesSection();
  await appendSection(section);
  process.stdout.write(section);
}
