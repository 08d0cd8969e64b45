/**
 * The AWS model of issue 11's benchmark: the sliding hashtag job (1 s batches) on AWS at 10,000, 100,000 and
 * 1,000,000 records/s, from documented latencies and list prices: total delay, the Lambda concurrency it needs,
 * and dollars per hour, beside the anchors (Managed Service for Apache Flink's minimum, and a Lambda Kinesis
 * event-source mapping counting with tumbling windows). Pure arithmetic, no emulator: `npm run bench:serverless`
 * appends it after its emulator sections, and `node --import tsx bench/costModel.ts` prints it alone.
 */
import { appendFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { US_EAST_1_PRICES } from '../lib/aws/AwsPrices';

/** The model's constants, each with where it comes from. */
export const MODEL = {
  // Latencies: medians documented or widely measured in us-east-1 (AWS's S3 performance guidelines give
  // 100–200 ms first-byte for small objects at the tail and tens of ms typical; Lambda's warm Invoke API round trip
  // ~20–40 ms; Kinesis GetRecords ~30 ms typical per the KDS developer guide's propagation delay figures).
  invokeMs: 30,
  s3Ms: 25,
  kinesisMs: 30,
  /** The slowest of a stage's tasks against their median: stages wait for the slowest (speculation bounds it). */
  stageTailFactor: 1.5,
  /** The coordinator's cost to send one more Invoke request (signing, TLS writes), in ms: dispatch is serial. */
  dispatchPerTaskMs: 0.2,
  /** Worker Invoke requests in flight at once (SLUICE_TASK_CONCURRENCY; raised with the shards). */
  taskConcurrencyPerShard: 1,
  /**
   * Task compute per record of the hashtag job, in ms: measured on this repository's emulator runs (bench/RESULTS.md,
   * "after issue 5": 13.8 ms summed over tasks for 2,000 records = 0.0069 ms), rounded up.
   */
  computePerRecordMs: 0.007,
  /** Kinesis provisioned shards take 1,000 records/s each (KDS quotas); one map task reads one shard. */
  recordsPerShardPerSec: 1000,
  /** Reduce tasks per map task (the job's window stage after the map-side combine). */
  reducePerMap: 0.25,
  workerMemoryGb: 1769 / 1024,
  coordinatorMemoryGb: 1,
  /**
   * S3 requests per batch, counted by the cost report on the emulators (test/aws/idle.test.ts, 2 partitions): about
   * 20 PUT/LIST and 40 GET per batch for the coordinator and tasks together; modelled as a fixed part for the
   * coordinator (checkpoint, lease, outputs, metrics) and a part per task (a map task's report, a reduce task's
   * persisted window blocks).
   */
  s3WritesFixed: 12,
  s3WritesPerMapTask: 2,
  s3WritesPerReduceTask: 2,
  s3ReadsFixed: 4,
  s3ReadsPerMapTask: 3,
  s3ReadsPerReduceTask: 4,
  // The anchors.
  /** Managed Service for Apache Flink: $0.11 per KPU-hour, and its smallest application runs 2 KPU (the issue). */
  flinkPerKpuHour: 0.11,
  flinkMinKpu: 2,
  /** A keyed windowed count per KPU (1 vCPU, 4 GB): an assumption (AWS publishes none), Flink's usual order. */
  flinkRecordsPerKpuSec: 25_000,
  /** An event-source mapping polls each shard about once a second; with a 1 s batching window, 1 invocation/s. */
  esmInvocationsPerShardSec: 1,
  esmOverheadMs: 20,
  esmMemoryGb: 0.25,
} as const;

/** One row of the model. */
export interface ModelRow {
  readonly ratePerSec: number;
  readonly shards: number;
  readonly totalDelayMs: number;
  readonly concurrency: number;
  readonly lambdaDollarsPerHour: number;
  readonly s3DollarsPerHour: number;
  readonly dollarsPerHour: number;
  readonly kinesisDollarsPerHour: number;
  readonly flinkKpu: number;
  readonly flinkDollarsPerHour: number;
  readonly esmDelayMs: number;
  readonly esmDollarsPerHour: number;
}

/** The model at `ratePerSec` with 1 s batches. */
export function modelAt(ratePerSec: number, m = MODEL, prices = US_EAST_1_PRICES): ModelRow {
  const shards = Math.ceil(ratePerSec / m.recordsPerShardPerSec);
  const mapTasks = shards;
  const reduceTasks = Math.max(2, Math.ceil(shards * m.reducePerMap));
  const perMapRecords = ratePerSec / mapTasks;
  // A map task: its invoke, GetShardIterator + GetRecords, compute, its report; the shuffle rides inline.
  const mapTaskMs = m.invokeMs + 2 * m.kinesisMs + perMapRecords * m.computePerRecordMs + m.s3Ms;
  // A reduce task: its invoke, reading the previous window block, compute on the combined counts, writing its blocks.
  const reduceTaskMs = m.invokeMs + m.s3Ms + (perMapRecords / 4) * m.computePerRecordMs + 2 * m.s3Ms;
  // The coordinator: plan (reads the reports, in parallel) and checkpoint before; outputs and checkpoint after;
  // it sends each stage's invokes one after another.
  const coordinatorMs = 4 * m.s3Ms + (mapTasks + reduceTasks) * m.dispatchPerTaskMs;
  const totalDelayMs = coordinatorMs + m.stageTailFactor * mapTaskMs + m.stageTailFactor * reduceTaskMs;
  const concurrency = mapTasks + reduceTasks + 1;
  const gbSecondsPerBatch =
    ((mapTasks * mapTaskMs + reduceTasks * reduceTaskMs) / 1000) * m.workerMemoryGb +
    m.coordinatorMemoryGb * 1;
  const lambdaDollarsPerHour =
    3600 *
    (gbSecondsPerBatch * prices.lambdaPerGbSecond + (mapTasks + reduceTasks) * prices.lambdaPerInvocation);
  const s3Writes = m.s3WritesFixed + mapTasks * m.s3WritesPerMapTask + reduceTasks * m.s3WritesPerReduceTask;
  const s3Reads = m.s3ReadsFixed + mapTasks * m.s3ReadsPerMapTask + reduceTasks * m.s3ReadsPerReduceTask;
  const s3DollarsPerHour = 3600 * (s3Writes * prices.s3PerWriteRequest + s3Reads * prices.s3PerReadRequest);
  const flinkKpu = Math.max(m.flinkMinKpu, Math.ceil(ratePerSec / m.flinkRecordsPerKpuSec) + 1);
  const esmInvocationsPerSec = shards * m.esmInvocationsPerShardSec;
  const esmDurationSec = (m.esmOverheadMs + perMapRecords * m.computePerRecordMs) / 1000;
  const esmDollarsPerHour =
    3600 *
    esmInvocationsPerSec *
    (prices.lambdaPerInvocation + esmDurationSec * m.esmMemoryGb * prices.lambdaPerGbSecond);
  return {
    ratePerSec,
    shards,
    totalDelayMs,
    concurrency,
    lambdaDollarsPerHour,
    s3DollarsPerHour,
    dollarsPerHour: lambdaDollarsPerHour + s3DollarsPerHour,
    kinesisDollarsPerHour: shards * prices.kinesisPerShardHour,
    flinkKpu,
    flinkDollarsPerHour: flinkKpu * m.flinkPerKpuHour,
    // The mapping's batching window (1 s) plus its poll (up to 1 s, half on average) plus the invocation.
    esmDelayMs: 1000 + 500 + m.invokeMs + esmDurationSec * 1000,
    esmDollarsPerHour,
  };
}

const money = (n: number) => `$${n < 0.01 ? n.toFixed(4) : n.toFixed(2)}`;
const ms = (n: number) => Math.round(n).toLocaleString('en-US');

/** The section for bench/RESULTS.md. */
export function costModelSection(): string {
  const rows = [10_000, 100_000, 1_000_000].map((rate) => modelAt(rate));
  const at = (rate: number) => rows.find((r) => r.ratePerSec === rate)!;
  const flinkMin = MODEL.flinkMinKpu * MODEL.flinkPerKpuHour;
  const delayTarget = at(100_000).totalDelayMs < 1000;
  const costTarget = at(10_000).dollarsPerHour < flinkMin;
  return [
    '',
    '## A model of the same batches on AWS, with the anchors (issue 11)',
    '',
    `Written by \`npm run bench:serverless\` (bench/costModel.ts) on ${new Date().toISOString()} (${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}); arithmetic, not a measurement on AWS. Prices: ${US_EAST_1_PRICES.source} (Lambda $0.0000166667 per GB-s on x86 and $0.20 per million requests; S3 Standard $0.005 per 1,000 PUT/COPY/POST/LIST and $0.0004 per 1,000 GET; Kinesis $0.015 per shard-hour), from the AWS pricing pages (lib/aws/AwsPrices.ts). Latencies: a warm invoke ${MODEL.invokeMs} ms, an S3 request ${MODEL.s3Ms} ms, a Kinesis call ${MODEL.kinesisMs} ms; a stage waits for its slowest task, taken as ${MODEL.stageTailFactor}× the median; the coordinator sends invokes at ${MODEL.dispatchPerTaskMs} ms each. Compute: ${MODEL.computePerRecordMs} ms per record, measured on the emulators. One map task per shard (${MODEL.recordsPerShardPerSec.toLocaleString('en-US')} records/s each), a quarter as many reduce tasks; workers ${Math.round(MODEL.workerMemoryGb * 1024)} MB, coordinator 1 GB, running the whole hour. S3 requests per batch: ${MODEL.s3WritesFixed} PUT + ${MODEL.s3ReadsFixed} GET for the coordinator, ${MODEL.s3WritesPerMapTask} PUT + ${MODEL.s3ReadsPerMapTask} GET per map task and ${MODEL.s3WritesPerReduceTask} PUT + ${MODEL.s3ReadsPerReduceTask} GET per reduce task, from the counts the cost report gave on the emulators.`,
    '',
    '| Records/s | Shards | Modelled total delay (ms) | Lambda concurrency | Sluice Lambda $/h | Sluice S3 $/h | Sluice $/h | Kinesis shards $/h (any consumer) | Managed Flink KPU | Managed Flink $/h | Lambda ESM tumbling window: delay (ms) | Lambda ESM $/h |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.ratePerSec.toLocaleString('en-US')} | ${r.shards} | ${ms(r.totalDelayMs)} | ${r.concurrency} | ${money(r.lambdaDollarsPerHour)} | ${money(r.s3DollarsPerHour)} | ${money(r.dollarsPerHour)} | ${money(r.kinesisDollarsPerHour)} | ${r.flinkKpu} | ${money(r.flinkDollarsPerHour)} | ${ms(r.esmDelayMs)} | ${money(r.esmDollarsPerHour)} |`,
    ),
    `| idle (no records) | — | — | 0 | $0 | $0 | $0 (the deployment's tick: about $0.0009/h, all jobs together) | as above | ${MODEL.flinkMinKpu} | ${money(flinkMin)} | — | $0 |`,
    '',
    `Ratios at 10,000 records/s: Sluice / Managed Flink minimum = ${(at(10_000).dollarsPerHour / flinkMin).toFixed(2)}; Sluice / Lambda ESM = ${(at(10_000).dollarsPerHour / at(10_000).esmDollarsPerHour).toFixed(0)}. At 1,000,000 records/s: Sluice / Managed Flink = ${(at(1_000_000).dollarsPerHour / at(1_000_000).flinkDollarsPerHour).toFixed(2)}.`,
    '',
    'Managed Flink: its smallest application (2 KPU, $0.22/h) and, above it, one KPU per 25,000 records/s (an assumption: AWS publishes no per-KPU rate) plus the one KPU each application pays for orchestration; its running storage ($0.10 per GB-month) is left out. The Lambda event-source mapping: one invocation per shard per second (a 1 s batching window), 256 MB, 20 ms of overhead plus the same per-record compute; its tumbling windows keep state per shard only, so a count across shards needs a second step that is not priced here, and its delay is the batching window plus the poll.',
    '',
    `**Targets.** Modelled total delay under 1 s at 100,000 records/s: ${delayTarget ? 'met' : 'missed'} (${ms(at(100_000).totalDelayMs)} ms; at 1,000,000 records/s ${ms(at(1_000_000).totalDelayMs)} ms, of which the coordinator's serial dispatch of ${at(1_000_000).concurrency - 1} invokes is ${ms((at(1_000_000).concurrency - 1) * MODEL.dispatchPerTaskMs)} ms; that rate needs ${at(1_000_000).concurrency} concurrent Lambdas, above the default account quota of 1,000). A running job at 10,000 records/s costs less per hour than Managed Flink's minimum: ${costTarget ? 'met' : 'missed'} (${money(at(10_000).dollarsPerHour)} against ${money(flinkMin)}; S3 requests are ${Math.round((at(10_000).s3DollarsPerHour / at(10_000).dollarsPerHour) * 100)}% of it: with 1 s batches the per-batch PUTs of checkpoint, lease, outputs and persisted window blocks cost more than the compute). An idle job costs nothing: met (it runs no Lambda; test/aws/idle.test.ts counts the invocations), beyond the deployment's minute tick.`,
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const section = costModelSection();
  if (process.argv.includes('--write')) await appendFile(new URL('./RESULTS.md', import.meta.url), section);
  process.stdout.write(section);
}
