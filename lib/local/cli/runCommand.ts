import { basename } from 'node:path';
import type { Command } from 'commander';
import { JobValidationError, SluiceError, StoreLockedError } from '../../errors';
import { batchFields } from '../../log/batchFields';
import type { Logger, LogLevel } from '../../log/Logger';
import { DelayTrend } from '../../scheduler/DelayTrend';
import type { BatchInfo } from '../../scheduler/StreamingListener';
import { LocalUi, parseUiPort } from '../../ui/LocalUi';
import { defaultStoreDir } from '../defaultStoreDir';
import { LocalRuntime } from '../LocalRuntime';
import { StderrLogger } from '../StderrLogger';
import { EXIT, type ExitWith } from './exitCodes';
import { formatBatchLine } from './formatBatchLine';
import { jobSourceFromArgument } from './jobSourceFromArgument';
import {
  ALLOW_FUNCTIONS_OUTSIDE_HELP,
  JOB_ARGUMENT_HELP,
  parseBatches,
  parseDuration,
  parseLogLevel,
  parseWorkers,
} from './optionParsers';
import { reportInvalid } from './reportInvalid';
import { takenPortSentence } from './takenPortSentence';

/** How often `sluice run` checks that the process that started it is still there. */
export const PARENT_CHECK_MS = 1000;

/**
 * A second SIGINT or SIGTERM this soon after the first is the same stop, delivered twice: Ctrl-C on `npm start`
 * reaches the whole process group, and npm forwards the one it got as well. Later, a second one quits at once.
 */
export const REPEATED_SIGNAL_MS = 1000;

/** The flags of `sluice run`, as commander reads them. */
interface RunOptions {
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
}

/** `sluice run <job>`: runs a job in embedded local mode until its batches are done or a stop. */
export function runCommand(program: Command, exit: ExitWith): void {
  program
    .command('run')
    .description('run a job in embedded local mode, printing each batch as it completes')
    .argument('<job>', JOB_ARGUMENT_HELP)
    .option('--fast', 'run batches back to back on the logical clock instead of in real time')
    .option('--batches <n>', 'stop after n batches', parseBatches)
    .option('--duration <time>', 'stop after this much stream time (500ms, 10s, 2m)', parseDuration)
    .option(
      '--workers <n>',
      'worker threads, 0 to 256; 0 runs tasks in the main thread (default: one per core)',
      parseWorkers,
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
    .action(async (jobArg: string, opts: RunOptions) => {
      exit(await run(jobArg, opts));
    });
}

async function run(jobArg: string, opts: RunOptions): Promise<number> {
  let runtime: LocalRuntime;
  let ui: LocalUi | undefined;
  let jobName = 'job';
  // Made at the first batch, once the job (and so its interval, which the trend judges waits by) is built.
  let trend: DelayTrend | undefined;
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
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${takenPortSentence(error, '--ui') ?? message}\n`);
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
                  trend ??= new DelayTrend(runtime.ssc.batchIntervalMs);
                  logger[info.error ? 'error' : 'info'](
                    formatBatchLine(info, trend.observe(info), runtime.ssc.batchIntervalMs),
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
  // Set once someone asks the run to stop (a signal, the parent gone, stdout closed): its UI then ends with it.
  let stopAsked = false;
  // While the UI is kept up after the run ended by itself: what a stop request resolves.
  let endLinger: (() => void) | undefined;
  /** Records a stop request; true when it ended the UI kept up after the run, so there is no run to stop. */
  const askStop = (): boolean => {
    stopAsked = true;
    endLinger?.();
    return endLinger !== undefined;
  };
  onOutputClosed = () => {
    if (!askStop()) runtime.stop();
  };
  ui?.describe(jobName, runtime.ssc.batchIntervalMs, log, !opts.fast, runtime.ssc.graph.inputs);
  const doneThrough = runtime.checkpoint?.lastCompletedBatch ?? 0;
  if (runtime.checkpoint)
    log(`Resuming from the checkpoint in ${runtime.storeDir}: batches up to ${doneThrough} ms are done\n`);
  // A stop that comes before the next batch runs nothing: say so and why, rather than exit 0 without a word.
  const nothingToRun = nothingToRunSentence(opts, doneThrough, runtime.ssc.batchIntervalMs);
  if (nothingToRun) log(`Nothing to run: ${nothingToRun}\n`, 'warn');
  let firstSignalAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (askStop()) return;
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
    if (askStop()) return;
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
    }
    // A run that ended by itself (its batches done, or a failed batch) keeps its UI up, marked as ended, so its
    // last batches and a failure can be looked at: until now the page went away with the process. A stop that
    // someone asked for ends both.
    if (ui?.serving && !stopAsked) {
      ui.end(summary.error?.message);
      log('The run has ended; its Streaming UI stays up until Ctrl-C\n');
      await new Promise<void>((resolve) => {
        endLinger = resolve;
      });
    }
    return summary.error ? EXIT.failed : EXIT.ok;
  } catch (error) {
    // A source that cannot start (a missing folder, a cloud source in local mode) is a problem of the job.
    if (error instanceof JobValidationError) return reportInvalid(error);
    // A write the scheduler could not make (a batch's jsonl lines, its checkpoint) stopped the run at that batch,
    // which the next run does again: a sentence and exit code 1 like a failed batch's, not a stack trace.
    if (!(error instanceof SluiceError)) throw error;
    log(`The job stopped: ${error.message}\n`, 'error');
    return EXIT.failed;
  } finally {
    await ui?.close();
    clearInterval(parentWatch);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Why a run stops before its next batch, from `--batches` or `--duration` and the batch a checkpoint has done
 * (0 for a fresh store); undefined when a batch is left to run.
 */
function nothingToRunSentence(
  opts: { batches?: number; duration?: number },
  doneThroughMs: number,
  intervalMs: number,
): string | undefined {
  const atCheckpoint = `the checkpoint is already at batch ${doneThroughMs / intervalMs} (${doneThroughMs} ms)`;
  if (opts.batches !== undefined && doneThroughMs >= opts.batches * intervalMs) {
    if (doneThroughMs === 0) return `--batches ${opts.batches} ends before the first batch; give 1 or more`;
    return (
      `${atCheckpoint}, --batches ${opts.batches} ends at batch ${opts.batches}; give a larger --batches to go ` +
      'on, or --fresh to start over'
    );
  }
  if (opts.duration !== undefined && doneThroughMs + intervalMs > opts.duration) {
    const endsAt = `--duration ends at ${opts.duration} ms of stream time`;
    if (doneThroughMs === 0) {
      return (
        `${endsAt}, before the first batch at ${intervalMs} ms (a number without a unit is ms: 5 is 5 ms, 5s ` +
        'is 5 seconds); give a --duration of at least the batch interval'
      );
    }
    return (
      `${atCheckpoint}, ${endsAt}, before the next batch at ${doneThroughMs + intervalMs} ms; give a longer ` +
      '--duration to go on, or --fresh to start over'
    );
  }
  return undefined;
}
