import type { Command } from 'commander';
import { JobValidationError, SluiceError } from '../../errors';
import { EXIT, type ExitWith } from './exitCodes';
import { jobSourceFromArgument } from './jobSourceFromArgument';
import {
  ALLOW_FUNCTIONS_OUTSIDE_HELP,
  collect,
  parseBatchInterval,
  parseList,
  parsePartitions,
  parsePositiveCount,
  parsePositiveDuration,
  parseWorkers,
} from './optionParsers';
import { reportInvalid } from './reportInvalid';

/** The flags of `sluice tune`, as commander reads them. */
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

/** `sluice tune <job>`: the flags; the search itself lives in `../tune/` and is loaded only for this command. */
export function tuneCommand(program: Command, exit: ExitWith): void {
  program
    .command('tune')
    .description(
      'find the batch interval and partitions that keep the total delay flat: the highest sustainable input rate of each',
    )
    .argument('<job>', 'a job document (.json)')
    .option(
      '--intervals <times>',
      'batch intervals to try, 1ms to 1h each (default 500ms,1s,2s,5s)',
      parseList(parseBatchInterval),
    )
    .option(
      '--partitions <counts>',
      "partition counts to try, 1 to 256 each (default the job's and the cores')",
      parseList(parsePartitions),
    )
    .option(
      '--target-rate <n>',
      'records a second the recommendation must sustain',
      parsePositiveCount('every configuration sustains 0, even one in which no rate held'),
    )
    .option(
      '--sample <file>',
      'records to replay for a source that is not a generator ([source=]file.jsonl)',
      collect,
      [],
    )
    .option(
      '--budget <time>',
      'time for the whole search, 1ms or more (default 5m)',
      parsePositiveDuration("the whole search's time, shared by its configurations"),
    )
    .option(
      '--trial <time>',
      'stream time of one real-clock trial, 1ms or more (default 4s; 10s with --aws)',
      parsePositiveDuration('the stream time of one real-clock trial, at least 3 batches'),
    )
    .option('--workers <n>', 'worker threads, 0 to 256 (default: one per core)', parseWorkers)
    .option('--out <file>', 'write the whole search as JSON')
    .option(
      '--start-rate <n>',
      'records a second of the first real-clock trial (default: a logical-clock estimate; 100 with --aws)',
      parsePositiveCount('a trial at 0 records a second measures nothing'),
    )
    .option(
      '--max-trials <n>',
      'real-clock trials per configuration at most (default 8)',
      parsePositiveCount('with no real-clock trial, no configuration gets a rate'),
    )
    .option(
      '--aws',
      'run the trials on the deployed stack through its control function (AWS_ENDPOINT_URL for an emulator)',
    )
    .option('--control <function>', "with --aws: the stack's ControlFunctionName output")
    .option('--stream <name>', "with --aws: the stack's StreamName output, for a kinesis source naming none")
    .option('--allow-functions-outside', ALLOW_FUNCTIONS_OUTSIDE_HELP)
    .action(async (jobArg: string, opts: TuneCommandOptions) => {
      exit(await tune(jobArg, opts));
    });
}

/** Reads the job and maps the flags onto the search's settings. */
async function tune(jobArg: string, opts: TuneCommandOptions): Promise<number> {
  const { runTune } = await import('../tune/tuneCommand');
  try {
    const source = await jobSourceFromArgument(jobArg, opts);
    // On AWS the first trial's rate is a guess: there is no logical clock to estimate it with.
    const elsewhere = opts.aws ? await (await import('../../aws/awsTrialRunner')).awsTrials(opts) : undefined;
    const startRate = opts.startRate ?? (opts.aws ? 100 : undefined);
    // and its first batches pay for the functions' cold starts: longer trials judge the batches after them.
    const trialMs = opts.trial ?? (opts.aws ? 10_000 : undefined);
    const report = await runTune(
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
    // A search in which the job ran in no configuration found nothing: a script must not take it for an answer.
    return report.results.every((r) => r.error !== undefined) ? EXIT.failed : EXIT.ok;
  } catch (error) {
    if (error instanceof SluiceError || error instanceof RangeError || error instanceof JobValidationError)
      return reportInvalid(error);
    const { withAwsSetupHint } = await import('../../aws/awsSetupHint');
    process.stderr.write(`sluice tune: ${withAwsSetupHint(error)}\n`);
    return EXIT.invalid;
  }
}
