/**
 * Sluice's engine process in `npm run bench:spark`: the counterpart of `SparkStreamingBench.java`, with the
 * same arguments and the same output, so the driver treats both engines alike (a child process whose RSS it
 * reads, whose start-up it times, whose stdout carries one JSON line per batch).
 *
 * Usage: `node --import tsx bench/spark/sluiceEngine.ts workload=grep port=40123 intervalMs=1000
 * [windowMs=60000 slideMs=1000] [workers=2] storeDir=/tmp/…`. Closing stdin stops the run once the running
 * batch is done.
 *
 * Output: `{"event":"started","atMs":…}` once the worker threads are ready, then for every batch that had
 * jobs `{"event":"batch","timeMs":…,"records":…,"schedulingDelayMs":…,"processingMs":…,"totalDelayMs":…,
 * "result":…}`. `timeMs` is the batch's wall-clock time in ms since the epoch, as Spark reports it.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { LocalRuntime } from '../../lib/local/LocalRuntime';
import { socketJobName, type Workload } from './sluiceJobs';

const JOBS_PATH = fileURLToPath(new URL('./sluiceJobs.ts', import.meta.url));

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function parseArgs(args: readonly string[]): Map<string, string> {
  const options = new Map<string, string>();
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new Error(`arguments are key=value pairs, got ${arg}`);
    options.set(arg.slice(0, eq), arg.slice(eq + 1));
  }
  return options;
}

function required(options: Map<string, string>, key: string): string {
  const value = options.get(key);
  if (value === undefined) throw new Error(`missing argument ${key}=…`);
  return value;
}

const options = parseArgs(process.argv.slice(2));
const intervalMs = Number(required(options, 'intervalMs'));
const settings = {
  workload: required(options, 'workload') as Workload, // validated by the job module's name parser
  port: Number(required(options, 'port')),
  intervalMs,
  windowMs: Number(options.get('windowMs') ?? 0),
  slideMs: Number(options.get('slideMs') ?? 0),
};
/** Each batch's collected output, by batch time, until its BatchInfo arrives. */
const results = new Map<number, readonly unknown[]>();
/** Wall-clock ms at which the run's clock starts; batch t is due at `clockStartMs + t`. */
let clockStartMs = 0;
/** The batch time of the last reported batch. */
let lastReported = 0;
/** Processing of the batches since `lastReported` that ran no output (see `BatchReport.aheadMs`). */
let aheadMs = 0;

const runtime = await LocalRuntime.start(
  { kind: 'module', path: JOBS_PATH, exportName: socketJobName(settings) },
  {
    clock: 'system',
    workers: Number(options.get('workers') ?? availableParallelism()),
    storeDir: required(options, 'storeDir'),
    outputDir: required(options, 'storeDir'),
    fresh: true,
    write: () => {},
    listeners: [
      {
        onOutput: (event) => results.set(event.batchTime, event.records),
        onBatchCompleted: (info) => {
          const records = results.get(info.batchTime);
          results.delete(info.batchTime);
          // Spark reports no batch without jobs (the in-between batches of a window that slides every second
          // batch), so neither does this: both engines' reports cover the same batches. Sluice's in-between batch
          // computes its own per-batch reduce ahead of the slide, which is no output.
          if (!info.outputOps?.some((op) => !op.ahead)) {
            aheadMs += info.processingTimeMs;
            return;
          }
          emit({
            event: 'batch',
            timeMs: clockStartMs + info.batchTime,
            records: info.records + recordsBetween(lastReported, info.batchTime),
            schedulingDelayMs: info.schedulingDelayMs,
            processingMs: info.processingTimeMs,
            ...(aheadMs > 0 ? { aheadMs } : {}),
            totalDelayMs: info.totalDelayMs,
            result: settings.workload === 'grep' ? (records?.[0] ?? null) : (records ?? null),
            ...(info.error ? { error: info.error } : {}),
          });
          lastReported = info.batchTime;
          aheadMs = 0;
        },
      },
    ],
  },
);
emit({ event: 'started', atMs: Date.now() });

/**
 * The records of the unreported batches strictly between two reported ones. An input stream is computed when
 * a job first needs it, so with a window that slides every second batch the in-between batch's socket lines
 * are read at the slide and its BatchInfo (which has no jobs) says 0; its count is known by the next report.
 */
function recordsBetween(fromTime: number, toTime: number): number {
  let records = 0;
  for (const input of runtime.ssc.graph.inputs) {
    for (const [time, count] of input.recordsPerBatch) if (time > fromTime && time < toTime) records += count;
  }
  return records;
}

process.stdin.on('end', () => runtime.stop());
process.stdin.on('error', () => runtime.stop());
process.stdin.resume();

// Spark's batches fall on multiples of the interval since the epoch; starting Sluice's clock on such a multiple
// puts both engines' batch boundaries at the same wall-clock moments, which the driver's per-batch input
// relies on. The clock starts right after the socket connects, a few ms past the multiple.
clockStartMs = (Math.floor(Date.now() / intervalMs) + 1) * intervalMs;
await new Promise((resolve) => setTimeout(resolve, clockStartMs - Date.now()));
const summary = await runtime.run();
if (summary.error) process.stderr.write(`sluice: the run failed: ${summary.error.message}\n`);
process.exit(summary.error ? 1 : 0);
