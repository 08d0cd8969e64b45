/**
 * The shuffle benchmark (issue 11), run by `node --import tsx bench/shuffleBench.ts`: a groupByKey from M map
 * tasks to R = M reduce partitions, every map output above the 64 KiB inline limit, read directly (one ranged
 * read per map × reduce pair) and through the combining shuffle (`ShuffleMerger`), on the local folder store and on LocalStack's S3. It counts the
 * shuffle's storage requests with a `CountingBlockStore` around the real store and times each batch, and
 * appends its section to bench/RESULTS.md. `--no-s3` skips LocalStack; `--batches N` sets the batches per row.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../lib/aws/awsClients';
import { S3BlockStore } from '../lib/aws/S3BlockStore';
import { StreamingContext } from '../lib/StreamingContext';
import { LogicalClock } from '../lib/scheduler/Clock';
import { JobScheduler } from '../lib/scheduler/JobScheduler';
import type { BlockStore } from '../lib/storage/BlockStore';
import { CountingBlockStore } from '../lib/storage/CountingBlockStore';
import { LocalFolderStore } from '../lib/storage/LocalFolderStore';
import { setup, teardown } from '../test/aws/localstack';
import { connectInProcess } from '../test/helpers/connectInProcess';
import { appendSection } from './resultsFile';

// 8 besides the 4, 16 and 64: the crossover in time lies between 4 and 16.
const SIZES = [4, 8, 16, 64];
/** Bytes of one map output: above the 64 KiB inline limit, so every map output goes through storage. */
const MAP_OUTPUT_BYTES = 96 * 1024;
const RECORD_PAD = 'x'.repeat(80);
const argv = process.argv.slice(2);
const BATCHES = Number(argv[argv.indexOf('--batches') + 1]) || 5;
const withS3 = !argv.includes('--no-s3');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? 0 : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });

interface Row {
  store: string;
  m: number;
  mode: 'direct' | 'combining';
  requestsPerBatch: number;
  puts: number;
  gets: number;
  rangeGets: number;
  medianMs: number;
}

/** Runs BATCHES batches of the shuffle on `inner` and returns the shuffle's requests and batch times. */
async function measure(
  storeName: string,
  inner: BlockStore,
  dir: string,
  m: number,
  mode: Row['mode'],
): Promise<Row> {
  const ssc = new StreamingContext({
    batchIntervalMs: 1000,
    shuffle: { combine: mode === 'direct' ? 'never' : 'always' },
  });
  const perMap = Math.ceil(MAP_OUTPUT_BYTES / (RECORD_PAD.length + 16));
  const batch = Array.from({ length: perMap * m }, (_, i) => i);
  ssc
    .queueStream(
      Array.from({ length: BATCHES }, () => batch),
      { partitions: m },
    )
    .map((i): [number, string] => [i % (m * 16), RECORD_PAD])
    .groupByKey(m)
    .map(([key, values]): [number, number] => [key, values.length])
    .count()
    .collectBatches('out');
  const store = new CountingBlockStore(inner, 'shuffle/');
  // Tasks run in this process: their storage calls overlap as on parallel workers, their compute does not.
  connectInProcess(ssc, store, dir);
  const times: number[] = [];
  ssc.addListener({ onBatchCompleted: (info) => times.push(info.processingTimeMs) });
  const summary = await new JobScheduler(ssc, new LogicalClock(), { name: 'shuffle-bench' }).run({
    batches: BATCHES,
  });
  if (summary.error) throw new Error(`${storeName} M=${m} ${mode}: ${summary.error}`);
  const { puts, gets, rangeGets } = store.counts;
  const row: Row = {
    store: storeName,
    m,
    mode,
    requestsPerBatch: (puts + gets + rangeGets) / BATCHES,
    puts: puts / BATCHES,
    gets: gets / BATCHES,
    rangeGets: rangeGets / BATCHES,
    // The first batch warms the JIT and the store's connections.
    medianMs: median(times.slice(1)),
  };
  console.log(JSON.stringify(row));
  return row;
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const rows: Row[] = [];
  const stores: Array<{ name: string; open: (m: number, mode: string) => Promise<BlockStore> }> = [];
  const dir = await mkdtemp(join(tmpdir(), 'sluice-shuffle-bench-'));
  stores.push({
    name: 'local folder',
    open: async (m, mode) => new LocalFolderStore(join(dir, `${m}-${mode}`)),
  });
  if (withS3) {
    await setup();
    const bucket = `sluice-shuffle-bench-${Math.random().toString(36).slice(2, 8)}`;
    await s3Client().send(new CreateBucketCommand({ Bucket: bucket }));
    stores.push({
      name: 'LocalStack S3',
      open: async (m, mode) => new S3BlockStore({ client: s3Client(), bucket, prefix: `${m}-${mode}/` }),
    });
  }
  try {
    for (const store of stores) {
      for (const m of SIZES) {
        for (const mode of ['direct', 'combining'] as const) {
          rows.push(await measure(store.name, await store.open(m, mode), dir, m, mode));
        }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    if (withS3) await teardown();
  }
  const loadAfter = loadavg();
  const table = rows
    .filter((r) => r.mode === 'direct')
    .map((d) => {
      const c = rows.find((r) => r.store === d.store && r.m === d.m && r.mode === 'combining')!;
      return `| ${d.store} | ${d.m} | ${fmt(d.requestsPerBatch)} | ${fmt(c.requestsPerBatch)} (${fmt(c.puts)} PUT, ${fmt(c.gets)} GET, ${fmt(c.rangeGets)} ranged GET) | ${fmt(c.requestsPerBatch / d.requestsPerBatch)} | ${fmt(c.requestsPerBatch / (2 * d.m))} | ${fmt(d.medianMs)} | ${fmt(c.medianMs)} | ${fmt(c.medianMs / d.medianMs)} |`;
    });
  const lines = [
    '',
    '## Shuffle requests: direct against combining (issue 11)',
    '',
    `Run by \`node --import tsx bench/shuffleBench.ts\` on ${new Date().toISOString()}: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, load average ${loadBefore.map((l) => l.toFixed(2)).join(' / ')} before and ${loadAfter.map((l) => l.toFixed(2)).join(' / ')} after (other helpers' test runs share the machine). A groupByKey from M map tasks to R = M reduce partitions, each map output about ${fmt(MAP_OUTPUT_BYTES / 1024)} KiB (above the 64 KiB inline limit, so every one is stored), tasks in-process (their storage calls overlap, their compute does not), ${BATCHES} batches per row, median processing time over batches 2–${BATCHES}. Requests are the shuffle's PUT, GET and ranged GET per batch, counted by a \`CountingBlockStore\` around the real store (the batch clean-up's one prefix delete is the same in both modes and left out).`,
    '',
    '| Store | M = R | Direct requests | Combining requests | Ratio | Combining ÷ (M + R) | Direct (ms) | Combining (ms) | Time ratio |',
    '|---|---|---|---|---|---|---|---|---|',
    ...table,
    '',
  ];
  await appendSection(`${lines.join('\n')}\n`);
  console.log(lines.join('\n'));
}

await main();
