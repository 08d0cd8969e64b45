/**
 * The AWS model of issue 11's benchmark: the sliding hashtag job (1 s batches) on AWS at 10,000, 100,000 and
 * 1,000,000 records/s, from documented latencies and list prices: total delay, the Lambda concurrency it needs,
 * and dollars per hour, beside the anchors (Managed Service for Apache Flink's minimum, and a Lambda Kinesis
 * event-source mapping counting with tumbling windows). Pure arithmetic, no emulator: `npm run bench:serverless`
 * appends it after its emulator sections, and `node --import tsx bench/costModel.ts` prints it alone.
 */
import { appendFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
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
  /**
   * Task compute per record of the hashtag job, in ms: measured on this repository's emulator runs (bench/RESULTS.md,
   * "after issue 5": 13.8 ms summed over tasks for 2,000 records = 0.0069 ms), rounded up.
   */
  computePerRecordMs: 0.007,
  /** Kinesis provisioned shards take 1,000 records/s each (KDS quotas). */
  recordsPerShardPerSec: 1000,
  /**
   * Records one map task reads per batch: the source's `partitions` chosen by work, each task reading several
   * shards' ranges (35 ms of compute at 5,000), rather than one task per shard, whose fixed costs (an invocation,
   * its wait on Kinesis) would be paid by slow shards of 1,000 records each.
   */
  recordsPerMapTask: 5000,
  /** Reduce tasks per map task (the job's window stage after the map-side combine), at least `minReduceTasks`. */
  reducePerMap: 0.25,
  minReduceTasks: 2,
  /** The worker's memory (`sluice:workerMemoryMb`, default 1769) and the coordinator's (default 1024). */
  workerMemoryMb: 1769,
  coordinatorMemoryMb: 1024,
  // S3 requests, counted on the wire by bench/s3RequestBreakdown.ts (a logging proxy between each function and
  // LocalStack; held as upper bounds by test/aws/requestsPerBatch.test.ts), after the changes of "What each request
  // is".
  /** Per batch, the coordinator: the metadata checkpoint twice (the plan before, the completion after), the jsonl
   * output object, one DeleteObjects of the window blocks no batch needs any more. */
  s3WritesPerBatch: 4,
  /** Per map task: none (its input report rides in its answer; the shuffle, small after the combine, inline). */
  s3WritesPerMapTask: 0,
  /** Per reduce task: the window's two persisted blocks (the batch's reduced counts, the window). */
  s3WritesPerReduceTask: 2,
  /**
   * Per reduce task on Lambda: reading those two blocks of earlier batches back (measured 0 on the emulators, where
   * one worker process holds every partition in memory; on Lambda a task may land on another container).
   */
  s3ReadsPerReduceTask: 2,
  /** Per second whatever the batches: the kept metrics and the active batches, each rewritten every 5 s. */
  s3WritesPerSecond: 0.4,
  /** The lease lasts 3 batch intervals (at least 5 s) and is renewed once a third of it passed: one PUT, and one
   * GET of the control record (the stop check) with it. */
  leaseTtlIntervals: 3,
  leaseTtlMinMs: 5000,
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

/** What a model row may vary: the batch interval, the workers' memory, the window stage's partitions. */
export interface ModelOptions {
  readonly intervalMs?: number;
  readonly workerMemoryMb?: number;
  /** The window stage's partitions (the job's `defaultPartitions`); 1 runs it in the coordinator. */
  readonly reducePartitions?: number;
}

/** One row of the model. */
export interface ModelRow {
  readonly ratePerSec: number;
  readonly intervalMs: number;
  readonly workerMemoryMb: number;
  readonly shards: number;
  readonly mapTasks: number;
  readonly reducePartitions: number;
  /** Reduce tasks sent to workers: none when the one-partition window stage runs in the coordinator. */
  readonly reduceTasks: number;
  readonly totalDelayMs: number;
  readonly concurrency: number;
  readonly s3WritesPerSec: number;
  readonly s3ReadsPerSec: number;
  readonly coordinatorDollarsPerHour: number;
  readonly lambdaDollarsPerHour: number;
  readonly s3DollarsPerHour: number;
  readonly dollarsPerHour: number;
  readonly kinesisDollarsPerHour: number;
  readonly flinkKpu: number;
  readonly flinkDollarsPerHour: number;
  readonly esmDelayMs: number;
  readonly esmDollarsPerHour: number;
}

/** The model at `ratePerSec`, with 1 s batches unless `options` says otherwise. */
export function modelAt(
  ratePerSec: number,
  options: ModelOptions = {},
  m = MODEL,
  prices = US_EAST_1_PRICES,
): ModelRow {
  const intervalMs = options.intervalMs ?? 1000;
  const workerMemoryMb = options.workerMemoryMb ?? m.workerMemoryMb;
  const batchesPerSec = 1000 / intervalMs;
  const records = (ratePerSec * intervalMs) / 1000;
  const shards = Math.ceil(ratePerSec / m.recordsPerShardPerSec);
  const mapTasks = Math.max(1, Math.ceil(records / m.recordsPerMapTask));
  const reducePartitions =
    options.reducePartitions ?? Math.max(m.minReduceTasks, Math.ceil(mapTasks * m.reducePerMap));
  // One-partition stages run in the coordinator: no invocation, and the window's blocks stay in its memory too.
  const reduceTasks = reducePartitions === 1 ? 0 : reducePartitions;
  const perMapRecords = records / mapTasks;
  // A map task: its invoke, GetShardIterator + GetRecords (its shards in parallel), compute; the shuffle and its
  // input report ride in its answer.
  const mapTaskMs = m.invokeMs + 2 * m.kinesisMs + perMapRecords * m.computePerRecordMs;
  // A reduce task: its invoke, reading the window's blocks of earlier batches (in parallel), compute on the combined
  // counts, writing its two blocks (one after the other).
  const reduceTaskMs =
    (reduceTasks > 0 ? m.invokeMs + m.s3Ms : 0) + (perMapRecords / 4) * m.computePerRecordMs + 2 * m.s3Ms;
  // The coordinator: the plan's checkpoint before, the output and the completion's checkpoint after; it sends each
  // stage's invokes one after another.
  const coordinatorMs = 3 * m.s3Ms + (mapTasks + reduceTasks) * m.dispatchPerTaskMs;
  const totalDelayMs = coordinatorMs + m.stageTailFactor * mapTaskMs + m.stageTailFactor * reduceTaskMs;
  const concurrency = mapTasks + reduceTasks + 1;
  const workerGbSecondsPerBatch =
    ((mapTasks * mapTaskMs + reduceTasks * reduceTaskMs) / 1000) * (workerMemoryMb / 1024);
  // The coordinator runs the whole hour: it drives the batches.
  const coordinatorDollarsPerHour = 3600 * (m.coordinatorMemoryMb / 1024) * prices.lambdaPerGbSecond;
  const lambdaDollarsPerHour =
    coordinatorDollarsPerHour +
    3600 *
      batchesPerSec *
      (workerGbSecondsPerBatch * prices.lambdaPerGbSecond +
        (mapTasks + reduceTasks) * prices.lambdaPerInvocation);
  const leaseTtlMs = Math.max(m.leaseTtlMinMs, m.leaseTtlIntervals * intervalMs);
  // Renewed at the first batch end once a third of the TTL passed.
  const renewalsPerSec = 1000 / (Math.ceil(leaseTtlMs / 3 / intervalMs) * intervalMs);
  const s3WritesPerSec =
    batchesPerSec *
      (m.s3WritesPerBatch + mapTasks * m.s3WritesPerMapTask + reducePartitions * m.s3WritesPerReduceTask) +
    m.s3WritesPerSecond +
    renewalsPerSec;
  const s3ReadsPerSec = batchesPerSec * reduceTasks * m.s3ReadsPerReduceTask + renewalsPerSec;
  const s3DollarsPerHour =
    3600 * (s3WritesPerSec * prices.s3PerWriteRequest + s3ReadsPerSec * prices.s3PerReadRequest);
  const flinkKpu = Math.max(m.flinkMinKpu, Math.ceil(ratePerSec / m.flinkRecordsPerKpuSec) + 1);
  const esmInvocationsPerSec = shards * m.esmInvocationsPerShardSec;
  const esmPerShardRecords = ratePerSec / shards;
  const esmDurationSec = (m.esmOverheadMs + esmPerShardRecords * m.computePerRecordMs) / 1000;
  const esmDollarsPerHour =
    3600 *
    esmInvocationsPerSec *
    (prices.lambdaPerInvocation + esmDurationSec * m.esmMemoryGb * prices.lambdaPerGbSecond);
  return {
    ratePerSec,
    intervalMs,
    workerMemoryMb,
    shards,
    mapTasks,
    reducePartitions,
    reduceTasks,
    totalDelayMs,
    concurrency,
    s3WritesPerSec,
    s3ReadsPerSec,
    coordinatorDollarsPerHour,
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
  const intervals = [
    modelAt(10_000, { intervalMs: 1000 }),
    modelAt(10_000, { intervalMs: 1000, workerMemoryMb: 1024 }),
    modelAt(10_000, { intervalMs: 1000, workerMemoryMb: 1024, reducePartitions: 1 }),
    modelAt(10_000, { intervalMs: 2000 }),
    modelAt(10_000, { intervalMs: 5000 }),
  ];
  const lean = intervals[2]!;
  const twoSeconds = intervals[3]!;
  const verdict = (r: ModelRow) => (r.dollarsPerHour < flinkMin ? 'met' : 'missed');
  const one = at(10_000);
  const writeDollars = 3600 * US_EAST_1_PRICES.s3PerWriteRequest;
  return [
    '',
    '## A model of the same batches on AWS, with the anchors (issue 11), after the request cuts',
    '',
    `Written by \`npm run bench:serverless\` (bench/costModel.ts) on ${new Date().toISOString()} (${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(
        ' / ',
      )}); arithmetic, not a measurement on AWS. Prices: ${US_EAST_1_PRICES.source} (Lambda $0.0000166667 per GB-s on x86 and $0.20 per million requests; S3 Standard $0.005 per 1,000 PUT/COPY/POST/LIST and $0.0004 per 1,000 GET; Kinesis $0.015 per shard-hour), from the AWS pricing pages (lib/aws/AwsPrices.ts). Latencies: a warm invoke ${MODEL.invokeMs} ms, an S3 request ${MODEL.s3Ms} ms, a Kinesis call ${MODEL.kinesisMs} ms; a stage waits for its slowest task, taken as ${MODEL.stageTailFactor}× the median; the coordinator sends invokes at ${MODEL.dispatchPerTaskMs} ms each. Compute: ${MODEL.computePerRecordMs} ms per record, measured on the emulators. Map tasks by work: one per ${MODEL.recordsPerMapTask.toLocaleString('en-US')} records of a batch (the source's \`partitions\`; each reads several shards' ranges), a quarter as many reduce tasks and at least ${MODEL.minReduceTasks}; workers ${MODEL.workerMemoryMb} MB unless a row says otherwise, coordinator ${MODEL.coordinatorMemoryMb} MB, running the whole hour. S3 requests, counted on the wire on the emulators (\`node --import tsx bench/s3RequestBreakdown.ts\`, see "What each S3 request of a running job is" above): per batch ${MODEL.s3WritesPerBatch} PUT/POST by the coordinator (checkpoint twice, the output object, one DeleteObjects), ${MODEL.s3WritesPerMapTask} per map task, ${MODEL.s3WritesPerReduceTask} PUT + ${MODEL.s3ReadsPerReduceTask} GET per reduce task (the window's blocks; the GETs are not seen on the emulators, where one worker process keeps every partition in memory, but are on Lambda); ${MODEL.s3WritesPerSecond} PUT/s for the kept metrics and active batches (each every 5 s); the lease renewed (a PUT, and a GET of the control record) once a third of its TTL passed.`,
    '',
    '| Records/s | Shards | Map + reduce tasks | Modelled total delay (ms) | Lambda concurrency | S3 PUT/s | Sluice Lambda $/h | Sluice S3 $/h | Sluice $/h | Kinesis shards $/h (any consumer) | Managed Flink KPU | Managed Flink $/h | Lambda ESM tumbling window: delay (ms) | Lambda ESM $/h |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.ratePerSec.toLocaleString('en-US')} | ${r.shards} | ${r.mapTasks} + ${r.reducePartitions} | ${ms(r.totalDelayMs)} | ${r.concurrency} | ${r.s3WritesPerSec.toFixed(1)} | ${money(r.lambdaDollarsPerHour)} | ${money(r.s3DollarsPerHour)} | ${money(r.dollarsPerHour)} | ${money(r.kinesisDollarsPerHour)} | ${r.flinkKpu} | ${money(r.flinkDollarsPerHour)} | ${ms(r.esmDelayMs)} | ${money(r.esmDollarsPerHour)} |`,
    ),
    `| idle (no records) | — | — | — | 0 | 0 | $0 | $0 | $0 (the deployment's tick: about $0.0009/h, all jobs together) | as above | ${MODEL.flinkMinKpu} | ${money(flinkMin)} | — | $0 |`,
    '',
    `**10,000 records/s by batch interval** (the same job; a longer interval pays the per-batch requests less often, and the coordinator the same):`,
    '',
    '| Batch interval | Workers (MB) | Map + reduce tasks per batch | Modelled total delay (ms) | S3 PUT/s | Coordinator $/h | Workers $/h | S3 $/h | Sluice $/h | Under Managed Flink’s $0.22/h |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...intervals.map(
      (r) =>
        `| ${r.intervalMs / 1000} s | ${r.workerMemoryMb} | ${r.mapTasks} + ${r.reducePartitions}${r.reduceTasks === 0 ? ' (in the coordinator)' : ''} | ${ms(r.totalDelayMs)} | ${r.s3WritesPerSec.toFixed(2)} | ${money(r.coordinatorDollarsPerHour)} | ${money(r.lambdaDollarsPerHour - r.coordinatorDollarsPerHour)} | ${money(r.s3DollarsPerHour)} | ${money(r.dollarsPerHour)} | ${r.dollarsPerHour < flinkMin ? 'yes' : 'no'} |`,
    ),
    '',
    `Ratios at 10,000 records/s, 1 s batches: Sluice / Managed Flink minimum = ${(one.dollarsPerHour / flinkMin).toFixed(2)}; Sluice / Lambda ESM = ${(one.dollarsPerHour / one.esmDollarsPerHour).toFixed(0)}. At 1,000,000 records/s: Sluice / Managed Flink = ${(at(1_000_000).dollarsPerHour / at(1_000_000).flinkDollarsPerHour).toFixed(2)}.`,
    '',
    'Managed Flink: its smallest application (2 KPU, $0.22/h) and, above it, one KPU per 25,000 records/s (an assumption: AWS publishes no per-KPU rate) plus the one KPU each application pays for orchestration; its running storage ($0.10 per GB-month) is left out. The Lambda event-source mapping: one invocation per shard per second (a 1 s batching window), 256 MB, 20 ms of overhead plus the same per-record compute; its tumbling windows keep state per shard only, so a count across shards needs a second step that is not priced here, and its delay is the batching window plus the poll.',
    '',
    `**Targets.** Modelled total delay under 1 s at 100,000 records/s: ${delayTarget ? 'met' : 'missed'} (${ms(at(100_000).totalDelayMs)} ms; at 1,000,000 records/s ${ms(at(1_000_000).totalDelayMs)} ms with ${at(1_000_000).concurrency} concurrent Lambdas). A running job at 10,000 records/s costs less per hour than Managed Flink's minimum: ${costTarget ? 'met' : 'missed'} with the bench job as it is (1 s batches, ${MODEL.workerMemoryMb} MB workers, the window in ${one.reducePartitions} partitions: ${money(one.dollarsPerHour)} against ${money(flinkMin)}, ${Math.round((one.s3DollarsPerHour / one.dollarsPerHour) * 100)}% of it S3); ${verdict(lean)} at 1 s with the window in one partition, which the coordinator runs, and ${lean.workerMemoryMb} MB workers (${money(lean.dollarsPerHour)}); ${verdict(twoSeconds)} with 2 s batches and nothing else changed (${money(twoSeconds.dollarsPerHour)}). An idle job costs nothing: met (it runs no Lambda; test/aws/idle.test.ts counts the invocations), beyond the deployment's minute tick.`,
    '',
    `**The floor at 1 s batches.** Each PUT made every second costs ${writeDollars.toFixed(3)} $/h. What a batch must write to stay exactly once and recoverable is the metadata checkpoint before it (its plan: a recomputed task must read the same records) and after it (its completion), its output object, the window's two blocks per window partition (a task on another container reads them) and one DeleteObjects of what no recovery needs: ${MODEL.s3WritesPerBatch} + 2 per partition, ${money((MODEL.s3WritesPerBatch + 2) * writeDollars)}/h with one partition. To that add the lease and the kept metrics (about ${(lean.s3WritesPerSec - (MODEL.s3WritesPerBatch + 2)).toFixed(1)} PUT/s), the coordinator running the whole hour (${money(one.coordinatorDollarsPerHour)}/h at ${MODEL.coordinatorMemoryMb} MB) and the workers: about ${money(lean.dollarsPerHour)}/h at 1 s in the leanest setting, just under Managed Flink's ${money(flinkMin)}; the bench job's defaults (${one.reducePartitions} window partitions, ${MODEL.workerMemoryMb} MB workers) cost ${money(one.dollarsPerHour)}. Every per-batch part halves with 2 s batches, which meet the target without other changes.`,
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const section = costModelSection();
  if (process.argv.includes('--write')) await appendFile(new URL('./RESULTS.md', import.meta.url), section);
  process.stdout.write(section);
}
