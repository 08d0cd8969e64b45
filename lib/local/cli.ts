import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import {
  CheckpointMismatchError,
  JobValidationError,
  SluiceError,
  StoreLockedError,
  StreamGraphError,
} from '../errors';
import type { JobSource } from '../job/JobSource';
import { batchFields } from '../log/batchFields';
import { isLogLevel, LOG_LEVELS, type Logger, type LogLevel } from '../log/Logger';
import { DelayTrend } from '../scheduler/DelayTrend';
import type { BatchInfo } from '../scheduler/StreamingListener';
import { LocalUi, parseUiPort } from '../ui/LocalUi';
import { defaultStoreDir } from './defaultStoreDir';
import { LocalRuntime } from './LocalRuntime';
import { type LocalJobCheckOptions, localJobIssues } from './localJobChecks';
import { packageVersion } from './packageVersion';
import { StderrLogger } from './StderrLogger';

/** Exit codes: 0 done, 1 a batch failed, 2 the job is invalid (or the command line is), 3 the store is in use. */
export const EXIT = { ok: 0, failed: 1, invalid: 2, storeInUse: 3 } as const;

/** How often `sluice run` checks that the process that started it is still there. */
export const PARENT_CHECK_MS = 1000;

/**
 * A second SIGINT or SIGTERM this soon after the first is the same stop, delivered twice: Ctrl-C on `npm start`
 * reaches the whole process group, and npm forwards the one it got as well. Later, a second one quits at once.
 */
export const REPEATED_SIGNAL_MS = 1000;

/** Batches in a row of growing total delay after which the CLI says the configuration is not stable. */
export const UNSTABLE_AFTER = 10;

/** Spark's per-batch log line: total delay, scheduling delay, processing time, plus records in. */
export function formatBatchLine(info: BatchInfo, growingFor = 0): string {
  const s = (ms: number) => (ms / 1000).toFixed(3);
  const base = `Batch ${info.batchTime} ms: total delay ${s(info.totalDelayMs)} s (scheduling ${s(
    info.schedulingDelayMs,
  )} s, processing ${s(info.processingTimeMs)} s), ${info.records} records in, ${info.tasks} tasks`;
  const dead = info.deadLetters > 0 ? `, ${info.deadLetters} dead letters` : '';
  // The cost report where the runtime makes one (on AWS); locally the store requests are what S3 would bill.
  const cost = info.cost
    ? `, $${info.cost.dollars.toFixed(6)}${
        info.cost.dollarsPerMillionRecords !== undefined
          ? ` ($${info.cost.dollarsPerMillionRecords.toFixed(4)} per million records)`
          : ''
      }`
    : `, ${info.storageRequests ?? 0} store requests (cost: n/a locally)`;
  // Spark's stability rule: a total delay that keeps growing means batches arrive faster than they are done.
  const trend =
    growingFor >= UNSTABLE_AFTER ? `; total delay has grown ${growingFor} batches in a row: not stable` : '';
  return info.error ? `${base}${cost}${dead}; FAILED: ${info.error}` : `${base}${cost}${dead}${trend}`;
}

/**
 * Reads a job argument: a `.json` document, or a TypeScript/JavaScript module (`path#exportName`). A document
 * is checked against this machine first (`localJobIssues`: its folders, its functions module), before anything
 * it names is imported.
 */
export async function jobSourceFromArgument(
  argument: string,
  checks: LocalJobCheckOptions = {},
): Promise<JobSource> {
  const [path, exportName] = argument.split('#') as [string, string | undefined];
  const absolute = resolve(path);
  if (extname(absolute) === '.json') {
    let text: string;
    try {
      text = await readFile(absolute, 'utf8');
    } catch {
      throw new JobValidationError([{ path: '', message: `cannot read the job file ${absolute}` }]);
    }
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new JobValidationError([
        { path: '', message: `the job file is not valid JSON: ${(error as Error).message}` },
      ]);
    }
    const issues = localJobIssues(document, dirname(absolute), checks);
    if (issues.length > 0) throw new JobValidationError(issues);
    return { kind: 'document', document, baseDir: dirname(absolute) };
  }
  return { kind: 'module', path: absolute, ...(exportName ? { exportName } : {}) };
}

function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new InvalidArgumentError(`expected a duration such as 500ms, 10s or 2m, got ${text}`);
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 'ms']!;
  return Math.round(Number(match[1]) * factor);
}

function parseLogLevel(text: string): LogLevel {
  if (!isLogLevel(text))
    throw new InvalidArgumentError(`expected one of ${LOG_LEVELS.join(', ')}, got ${text}`);
  return text;
}

function parseCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number, got ${text}`);
  return n;
}

const ALLOW_FUNCTIONS_OUTSIDE_HELP =
  "accept a job document's functions module outside the job file's folder (it must still be a .js, .mjs, .ts or .mts file)";

/** Runs the CLI and returns its exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command()
    .name('sluice')
    .description(
      'Discretized Streams on serverless AWS: run and check Sluice jobs in embedded local mode, feed a Kinesis stream',
    )
    .version(packageVersion(), '-V, --version', "print Sluice's version")
    .exitOverride()
    .showHelpAfterError();

  program
    .command('run')
    .description('run a job in embedded local mode, printing each batch as it completes')
    .argument('<job>', 'a job document (.json) or a TypeScript job module (.ts, path#exportName)')
    .option('--fast', 'run batches back to back on the logical clock instead of in real time')
    .option('--batches <n>', 'stop after n batches', parseCount)
    .option('--duration <time>', 'stop after this much stream time (500ms, 10s, 2m)', parseDuration)
    .option(
      '--workers <n>',
      'worker threads; 0 runs tasks in the main thread (default: one per core)',
      parseCount,
    )
    .option('--store <dir>', 'block store folder (default: .sluice/<job name>)')
    .option('--out <dir>', 'folder that output paths are relative to', '.')
    .option('--quiet', 'do not print the per-batch log line')
    .option(
      '--log-level <level>',
      'the least severe log lines written to stderr: debug, info, warn or error',
      parseLogLevel,
      'info' as LogLevel,
    )
    .option('--log-json', 'write log lines as JSON objects (level, message, timestamp, job, batchTime, …)')
    .option('--fresh', "ignore and delete the store's checkpoint instead of resuming from it")
    .option('--allow-functions-outside', ALLOW_FUNCTIONS_OUTSIDE_HELP)
    .option(
      '--ui [port]',
      'serve the Streaming UI on 127.0.0.1 (default port 4040; 0 picks a free one)',
      parseUiPort,
    )
    .option('--metrics <file>', "append every batch's full metrics to this file, one JSON line each")
    .action(async (jobArg: string, opts) => {
      code = await run(jobArg, opts);
    });

  program
    .command('tune')
    .description(
      'find the batch interval and partitions that keep the total delay flat: the highest sustainable input rate of each',
    )
    .argument('<job>', 'a job document (.json)')
    .option(
      '--intervals <times>',
      'batch intervals to try (default 500ms,1s,2s,5s)',
      parseList(parseDuration),
    )
    .option(
      '--partitions <counts>',
      "partition counts to try (default the job's and the cores')",
      parseList(parseCount),
    )
    .option('--target-rate <n>', 'records a second the recommendation must sustain', parseCount)
    .option(
      '--sample <file>',
      'records to replay for a source that is not a generator ([source=]file.jsonl)',
      collect,
      [],
    )
    .option('--budget <time>', 'time for the whole search (default 5m)', parseDuration)
    .option(
      '--trial <time>',
      'stream time of one real-clock trial (default 4s; 10s with --aws)',
      parseDuration,
    )
    .option('--workers <n>', 'worker threads (default: one per core)', parseCount)
    .option('--out <file>', 'write the whole search as JSON')
    .option(
      '--start-rate <n>',
      'records a second of the first real-clock trial (default: a logical-clock estimate; 100 with --aws)',
      parseCount,
    )
    .option('--max-trials <n>', 'real-clock trials per configuration at most (default 8)', parseCount)
    .option(
      '--aws',
      'run the trials on the deployed stack through its control function (AWS_ENDPOINT_URL for an emulator)',
    )
    .option('--control <function>', "with --aws: the stack's ControlFunctionName output")
    .option('--stream <name>', "with --aws: the stack's StreamName output, for a kinesis source naming none")
    .option('--allow-functions-outside', ALLOW_FUNCTIONS_OUTSIDE_HELP)
    .action(async (jobArg: string, opts: TuneCommandOptions) => {
      code = await tune(jobArg, opts);
    });

  program
    .command('ui')
    .description(
      'serve the Streaming UI of a job on AWS, read-only, from the metrics its coordinator keeps, or of a sluice tune search',
    )
    .option('--bucket <name>', "the stack's bucket (with --job)")
    .option('--job <name>', 'the job, as named when submitted (with --bucket)')
    .option('--tune <file>', 'a search that sluice tune --out wrote, on the Tune page')
    .option('--port <n>', 'the port on 127.0.0.1 (0 picks a free one)', parseUiPort, 4040)
    .action(async (opts: UiCommandOptions) => {
      code = await awsUi(opts);
    });

  program
    .command('validate')
    .description('check a job without running it')
    .argument('<job>', 'a job document (.json) or a TypeScript job module')
    .option('--allow-functions-outside', ALLOW_FUNCTIONS_OUTSIDE_HELP)
    .action(async (jobArg: string, opts: { allowFunctionsOutside?: boolean }) => {
      code = await validate(jobArg, opts);
    });

  program
    .command('produce')
    .description(
      "put the built-in tweet generator's tweets into a Kinesis stream, as JSON lines (honours AWS_ENDPOINT_URL)",
    )
    .argument('<stream>', 'the Kinesis stream name')
    .option('--rate <n>', 'tweets per second', parseCount, 500)
    .option('--seconds <n>', 'for how many seconds', parseCount, 60)
    .option('--seed <n>', 'the generator seed', parseCount, 1)
    .action(async (stream: string, opts: { rate: number; seconds: number; seed: number }) => {
      code = await produce(stream, opts);
    });

  program
    .command('lambda-host')
    .description(
      "serve the stack's control, coordinator and worker functions on a loopback Lambda Invoke API, for an " +
        'emulator without Lambda (LocalStack without Docker, stack deployed with -c sluice:functions=false)',
    )
    .requiredOption('--bucket <name>', "the stack's BucketName output")
    .requiredOption('--stream <name>', "the stack's StreamName output")
    .option('--port <n>', 'the port on 127.0.0.1', parseCount, 9001)
    .option('--workers <n>', 'worker invocations in flight at once', parseCount, 8)
    .option(
      '--tick <time>',
      'how often the watchdog ticks the coordinator (0 for never)',
      parseDuration,
      60_000,
    )
    .option(
      '--modules <paths>',
      'your job modules and functions modules, as sluice:jobModules deploys them: a folder or a comma-separated list of files (default jobs/ when it exists)',
    )
    .action(async (opts: LambdaHostOptions) => {
      code = await lambdaHost(opts);
    });

  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.invalid;
    throw error;
  }
  return code;
}

function parseList<T>(parse: (text: string) => T): (text: string) => T[] {
  return (text) => text.split(',').map((part) => parse(part));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface TuneCommandOptions {
  intervals?: number[];
  partitions?: number[];
  targetRate?: number;
  sample: string[];
  budget?: number;
  trial?: number;
  workers?: number;
  out?: string;
  startRate?: number;
  maxTrials?: number;
  aws?: boolean;
  control?: string;
  stream?: string;
  allowFunctionsOutside?: boolean;
}

/** `sluice tune`: the search lives in `tune/`; this reads the job and maps the flags. */
async function tune(jobArg: string, opts: TuneCommandOptions): Promise<number> {
  const { runTune } = await import('./tune/tuneCommand');
  try {
    const source = await jobSourceFromArgument(jobArg, opts);
    // On AWS the first trial's rate is a guess: there is no logical clock to estimate it with.
    const elsewhere = opts.aws ? await (await import('../aws/awsTrialRunner')).awsTrials(opts) : undefined;
    const startRate = opts.startRate ?? (opts.aws ? 100 : undefined);
    // and its first batches pay for the functions' cold starts: longer trials judge the batches after them.
    const trialMs = opts.trial ?? (opts.aws ? 10_000 : undefined);
    await runTune(
      source,
      jobArg,
      {
        ...(opts.intervals ? { intervalsMs: opts.intervals } : {}),
        ...(opts.partitions ? { partitions: opts.partitions } : {}),
        ...(opts.targetRate !== undefined ? { targetPerSec: opts.targetRate } : {}),
        samples: opts.sample,
        ...(opts.budget !== undefined ? { budgetMs: opts.budget } : {}),
        ...(trialMs !== undefined ? { trialMs } : {}),
        ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
        ...(opts.out !== undefined ? { outPath: opts.out } : {}),
        ...(startRate !== undefined ? { startPerSec: startRate } : {}),
        ...(opts.maxTrials !== undefined ? { maxTrials: opts.maxTrials } : {}),
        ...(elsewhere ? { elsewhere } : {}),
      },
      (text) => process.stdout.write(text),
      (line) => process.stderr.write(`${line}\n`),
    );
    return EXIT.ok;
  } catch (error) {
    if (error instanceof SluiceError || error instanceof RangeError || error instanceof JobValidationError)
      return reportInvalid(error);
    process.stderr.write(`sluice tune: ${(error as Error).message}\n`);
    return EXIT.invalid;
  }
}

interface LambdaHostOptions {
  bucket: string;
  stream: string;
  port: number;
  workers: number;
  tick: number;
  modules?: string;
}

/** Serves the functions until SIGINT or SIGTERM. */
async function lambdaHost(opts: LambdaHostOptions): Promise<number> {
  const [{ startLocalFunctions }, { findJobModules }] = await Promise.all([
    import('../devhost/localFunctions'),
    import('../job/jobModuleFiles'),
  ]);
  let jobModules: ReturnType<typeof findJobModules> = [];
  const spec = opts.modules ?? (existsSync(resolve('jobs')) ? 'jobs' : undefined);
  try {
    if (spec !== undefined) jobModules = findJobModules(spec, process.cwd());
  } catch (error) {
    process.stderr.write(`sluice: --modules: ${(error as Error).message}\n`);
    return EXIT.invalid;
  }
  const functions = await startLocalFunctions({
    bucket: opts.bucket,
    stream: opts.stream,
    port: opts.port,
    workerConcurrency: Math.max(1, opts.workers),
    tickMs: opts.tick,
    jobModules,
  });
  const deployed = jobModules.length > 0 ? `, modules ${jobModules.map((m) => m.name).join(', ')}` : '';
  process.stderr.write(
    `serving control, coordinator and worker on ${functions.url} (bucket ${opts.bucket}, stream ${opts.stream}${deployed}); ` +
      'Ctrl-C stops\n',
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await functions.stop();
  return EXIT.ok;
}

/** `sluice ui`: serves the page until Ctrl-C; the AWS SDK is loaded only for this command. */
interface UiCommandOptions {
  bucket?: string;
  job?: string;
  tune?: string;
  port: number;
}

async function awsUi(opts: UiCommandOptions): Promise<number> {
  const log = (text: string) => process.stderr.write(text);
  const { bucket, job, port } = opts;
  if ((bucket === undefined) !== (job === undefined) || (bucket === undefined && opts.tune === undefined)) {
    log(
      'sluice ui: give --bucket and --job for a job on AWS, --tune <file> for a sluice tune search, or both\n',
    );
    return EXIT.invalid;
  }
  let server: { close(): Promise<void> };
  try {
    const { readTuneView } = await import('./tune/tuneView');
    const tune = opts.tune === undefined ? undefined : await readTuneView(opts.tune);
    if (bucket !== undefined && job !== undefined) {
      const { serveAwsUi } = await import('../aws/serveAwsUi');
      server = await serveAwsUi({ bucket, job, port }, log, tune);
    } else {
      const { UiServer } = await import('../ui/UiServer');
      const tunePage = await UiServer.start(undefined, port, tune);
      log(`sluice tune search ${opts.tune} at ${tunePage.url}#/tune\n`);
      server = tunePage;
    }
  } catch (error) {
    process.stderr.write(`sluice ui: ${(error as Error).message}\n`);
    return EXIT.failed;
  }
  await new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return EXIT.ok;
}

/** Puts `rate` generated tweets a second into a stream for `seconds` seconds, one second's tweets per call batch. */
async function produce(stream: string, opts: { rate: number; seconds: number; seed: number }) {
  // Loaded only for this command: running jobs locally never pays for the AWS SDK.
  const [{ KinesisProducer }, { kinesisClient }, { GeneratorSource }] = await Promise.all([
    import('../aws/KinesisProducer'),
    import('../aws/awsClients'),
    import('../source/GeneratorSource'),
  ]);
  const generator = new GeneratorSource({ kind: 'tweets', ratePerSec: opts.rate, seed: opts.seed });
  const producer = new KinesisProducer({ client: kinesisClient(), streamName: stream });
  const started = Date.now();
  for (let second = 0; second < opts.seconds; second++) {
    const lines = Array.from({ length: opts.rate }, (_, i) =>
      JSON.stringify(generator.recordAt(second * opts.rate + i)),
    );
    try {
      await producer.put(lines);
    } catch (error) {
      process.stderr.write(`sluice produce: ${(error as Error).message}\n`);
      return EXIT.failed;
    }
    process.stderr.write(`second ${second + 1}: ${producer.sent} tweets in ${stream}\n`);
    const wait = started + (second + 1) * 1000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  return EXIT.ok;
}

async function validate(jobArg: string, opts: { allowFunctionsOutside?: boolean }): Promise<number> {
  try {
    const source = await jobSourceFromArgument(jobArg, opts);
    const { contextFromSource } = await import('../job/JobSource');
    const ssc = await contextFromSource(source);
    ssc.graph.start(0);
    process.stdout.write(
      `${jobArg} is a valid job: ${ssc.graph.inputs.length} input(s), ${ssc.graph.outputs.length} output(s)\n`,
    );
    return EXIT.ok;
  } catch (error) {
    return reportInvalid(error);
  }
}

function reportInvalid(error: unknown): number {
  if (
    error instanceof JobValidationError ||
    error instanceof StreamGraphError ||
    error instanceof CheckpointMismatchError ||
    // Any other of Sluice's named errors while building a job is a setting the engine refused, such as a
    // TypeScript job's generator seed beyond the safe integers: its message says which; a stack trace does not.
    error instanceof SluiceError ||
    error instanceof RangeError
  ) {
    process.stderr.write(`${error.message}\n`);
    return EXIT.invalid;
  }
  throw error;
}

async function run(
  jobArg: string,
  opts: {
    fresh?: boolean;
    fast?: boolean;
    batches?: number;
    duration?: number;
    workers?: number;
    store?: string;
    out: string;
    quiet?: boolean;
    logLevel: LogLevel;
    logJson?: boolean;
    allowFunctionsOutside?: boolean;
    ui?: number | true;
    metrics?: string;
  },
): Promise<number> {
  let runtime: LocalRuntime;
  let ui: LocalUi | undefined;
  let jobName = 'job';
  const trend = new DelayTrend();
  let failureLogged = false;
  // `sluice run … | head`: once the reader is gone, nothing more is written, and the run stops quietly after the
  // running batch, as a Unix tool ends on SIGPIPE, instead of dying on EPIPE with a stack trace.
  let outputClosed = false;
  let onOutputClosed = () => {};
  const onStreamError = (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && !outputClosed) throw error;
    outputClosed = true;
    onOutputClosed();
  };
  process.stdout.on('error', onStreamError);
  process.stderr.on('error', onStreamError);
  const stderr = (text: string) => {
    if (!outputClosed) process.stderr.write(text);
  };
  let logger: Logger = new StderrLogger({ level: opts.logLevel, json: opts.logJson === true, write: stderr });
  // The run's own lines, one a call (the text ends with a newline); the engine's go to the logger directly.
  const log = (text: string, level: 'info' | 'warn' | 'error' = 'info') =>
    logger[level](text.replace(/\n$/, ''));
  try {
    // Before the job starts, so that a taken port fails the command before the store is locked.
    ui = await LocalUi.start(opts);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.invalid;
  }
  try {
    const source = await jobSourceFromArgument(jobArg, opts);
    jobName = basename(defaultStoreDir(source));
    logger = logger.with({ job: jobName });
    runtime = await LocalRuntime.start(source, {
      log: logger,
      write: (text) => {
        if (!outputClosed) process.stdout.write(text);
      },
      clock: opts.fast ? 'logical' : 'system',
      ...(opts.batches !== undefined ? { batches: opts.batches } : {}),
      ...(opts.duration !== undefined ? { durationMs: opts.duration } : {}),
      ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
      ...(opts.store !== undefined ? { storeDir: opts.store } : {}),
      ...(opts.fresh ? { fresh: true } : {}),
      outputDir: opts.out,
      listeners: [
        ...(opts.quiet
          ? []
          : [
              {
                // The batch's one line; a failed batch's is its failure, logged once with the cause.
                onBatchCompleted: (info: BatchInfo) => {
                  if (info.error) failureLogged = true;
                  logger[info.error ? 'error' : 'info'](
                    formatBatchLine(info, trend.observe(info.totalDelayMs)),
                    batchFields(info),
                  );
                },
              },
            ]),
        ...(ui?.listeners ?? []),
      ],
    });
  } catch (error) {
    await ui?.close();
    if (error instanceof StoreLockedError) {
      process.stderr.write(`${error.message}\n`);
      return EXIT.storeInUse;
    }
    return reportInvalid(error);
  }
  onOutputClosed = () => runtime.stop();
  ui?.describe(jobName, runtime.ssc.batchIntervalMs, log);
  if (runtime.checkpoint) {
    const doneThrough = runtime.checkpoint.lastCompletedBatch;
    log(`Resuming from the checkpoint in ${runtime.storeDir}: batches up to ${doneThrough} ms are done\n`);
    const intervalMs = runtime.ssc.batchIntervalMs;
    if (opts.batches !== undefined && doneThrough >= opts.batches * intervalMs) {
      log(
        `Nothing to run: the checkpoint is already at batch ${doneThrough / intervalMs} (${doneThrough} ms), ` +
          `--batches ${opts.batches} ends at batch ${opts.batches}; give a larger --batches to go on, or --fresh ` +
          'to start over\n',
        'warn',
      );
    } else if (opts.duration !== undefined && doneThrough >= opts.duration) {
      log(
        `Nothing to run: the checkpoint is already at ${doneThrough} ms of stream time, --duration ends at ` +
          `${opts.duration} ms; give a longer --duration to go on, or --fresh to start over\n`,
        'warn',
      );
    }
  }
  let firstSignalAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (firstSignalAt !== undefined) {
      if (now - firstSignalAt < REPEATED_SIGNAL_MS) return;
      process.exit(signal === 'SIGTERM' ? 143 : 130);
    }
    firstSignalAt = now;
    const again = signal === 'SIGINT' ? 'Ctrl-C' : signal;
    log(`Stopping after the running batch (${again} again to quit at once)...\n`, 'warn');
    runtime.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A supervisor that kills the process that started this one (npm, a shell) leaves it to init: the parent's
  // PID changes. Stop then, as on SIGTERM, rather than run on as an orphan nobody watches.
  const parentPid = process.ppid;
  const parentWatch = setInterval(() => {
    if (process.ppid === parentPid) return;
    clearInterval(parentWatch);
    log(
      `The process that started sluice (PID ${parentPid}) is gone: stopping after the running batch...\n`,
      'warn',
    );
    runtime.stop();
  }, PARENT_CHECK_MS);
  parentWatch.unref();
  try {
    const summary = await runtime.run();
    if (summary.notRun > 0) log(`${summary.notRun} queued job(s) were not run because of the stop\n`);
    if (summary.error) {
      // Said once: a failed batch's line gave the cause already.
      if (failureLogged) log('The job stopped at the failed batch above; a new run resumes at it\n', 'warn');
      else log(`The job stopped: ${summary.error.message}\n`, 'error');
      return EXIT.failed;
    }
    return EXIT.ok;
  } catch (error) {
    // A source that cannot start (a missing folder, a cloud source in local mode) is a problem of the job.
    if (error instanceof JobValidationError) return reportInvalid(error);
    throw error;
  } finally {
    await ui?.close();
    clearInterval(parentWatch);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
