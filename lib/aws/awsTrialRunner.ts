import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { JobDocument, SourceSpec } from '../job/JobDocument';
import type { BatchInfo } from '../scheduler/StreamingListener';
import type { TrialConfig, TrialOutcome, TrialRunner } from '../scheduler/TrialRunner';
import { sourceKindWords } from '../source/sourceKindWords';
import { KinesisProducer } from './KinesisProducer';

/** The deployed stack that `sluice tune --aws` runs its trials on. */
export interface AwsTuneTarget {
  readonly lambda: LambdaClient;
  readonly kinesis: KinesisClient;
  /** The control function (the stack's `ControlFunctionName` output). */
  readonly controlFunction: string;
  /** The deployment's stream (the stack's `StreamName` output), fed for a kinesis source that names none. */
  readonly stream?: string;
  /** How often a trial's status is read, in ms. Default 1,000. */
  readonly pollMs?: number;
  /** How long a trial may take beyond its stream time (cold starts, hand-overs) before it is stopped, in ms. Default 120,000. */
  readonly slackMs?: number;
}

/** A source the trial feeds: the stream it reads, and the sample replayed into it. */
interface Feed {
  readonly streamName: string;
  readonly lines: readonly string[];
}

/**
 * The job a trial runs as: the user's name with `-tune-<trial>`, so the user's own job and its metrics stay as
 * they are, and a coordinator still finishing a trial that was stopped early never writes into the next one.
 */
export function tuneJobName(job: JobDocument, trial: number): string {
  return `${job.name.slice(0, 90)}-tune-${trial}`;
}

/**
 * The job document of a trial on the stack: the user's operations untouched; the batch interval and partitions
 * the trial's; generators at the trial's rate; Kinesis sources read from the moment the trial starts (`LATEST`),
 * so that what earlier trials put in the stream is not read again. Any other source cannot be fed at a rate.
 */
export function awsTrialDocument(job: JobDocument, config: TrialConfig, trial = 1): JobDocument {
  const sources: Record<string, SourceSpec> = {};
  for (const [name, spec] of Object.entries(job.sources)) {
    if (spec.type === 'generator')
      sources[name] = { ...spec, ratePerSec: config.ratePerSec, partitions: config.partitions };
    else if (spec.type === 'kinesis')
      sources[name] = { ...spec, startAt: 'LATEST', partitions: config.partitions };
    else {
      throw new Error(
        `sources.${name} is ${sourceKindWords(spec.type)}: sluice tune --aws feeds generator sources (at the rate tried) and ` +
          'kinesis sources (with your --sample put into the stream), so tune this job locally',
      );
    }
  }
  return {
    ...job,
    name: tuneJobName(job, trial),
    batchIntervalMs: config.intervalMs,
    defaultPartitions: config.partitions,
    sources,
  };
}

/**
 * Trials of `sluice tune --aws`, on the deployed stack through its control function, as a user would run the job:
 * each starts the job afresh (`"fresh": true`, under a name of its own) with the trial's interval, partitions and
 * `batches`, puts the sample of each Kinesis source into its stream at the trial's rate while it runs, reads the
 * batches' metrics that the coordinator keeps (the `status` event) until the job stops, stops it early once a
 * batch's total delay passes the trial's limit, and resets it once read. The search judges the batches with the
 * same rule as locally.
 *
 * @example
 * const runTrial = awsTrialRunner(job, samples, { lambda: lambdaClient(), kinesis: kinesisClient(), controlFunction: 'control', stream: 'tweets' });
 */
export function awsTrialRunner(
  job: JobDocument,
  samples: ReadonlyMap<string, readonly unknown[]>,
  target: AwsTuneTarget,
): TrialRunner {
  const feeds: Feed[] = [];
  for (const [name, spec] of Object.entries(job.sources)) {
    if (spec.type !== 'kinesis') continue;
    const streamName = spec.streamName ?? target.stream;
    if (streamName === undefined) {
      throw new Error(
        `sources.${name} reads the deployment's stream: give it with --stream (the stack's StreamName output)`,
      );
    }
    // Records in Kinesis are text: JSON values of a .jsonl sample go in as their JSON.
    const lines = (samples.get(name) ?? []).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
    feeds.push({ streamName, lines });
  }
  let trials = 0;
  const control = async (event: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const out = await target.lambda.send(
      new InvokeCommand({
        FunctionName: target.controlFunction,
        Payload: Buffer.from(JSON.stringify(event)),
      }),
    );
    const body = JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8') || 'null') as Record<
      string,
      unknown
    > | null;
    if (out.FunctionError || body === null) {
      throw new Error(`the control function ${target.controlFunction} failed: ${JSON.stringify(body)}`);
    }
    return body;
  };
  return async (config, run): Promise<TrialOutcome> => {
    if (run.clock !== 'system') {
      throw new Error('a trial on AWS runs on the real clock: sluice tune --aws starts at --start-rate');
    }
    const trial = ++trials;
    const name = tuneJobName(job, trial);
    const started = await control({
      action: 'start',
      job: awsTrialDocument(job, config, trial),
      batches: run.batches,
      fresh: true,
    });
    if (started.ok !== true) {
      throw new Error(
        `the stack refused the trial's job: ${JSON.stringify(started.issues ?? started.error)}`,
      );
    }
    let running = true;
    const feeding = Promise.all(
      feeds.map((feed) => putAtRate(target.kinesis, feed, config.ratePerSec, () => running)),
    );
    let batches: readonly BatchInfo[] = [];
    let stoppedEarly = false;
    let error: string | undefined;
    const deadline = Date.now() + run.batches * config.intervalMs + (target.slackMs ?? 120_000);
    try {
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, target.pollMs ?? 1000));
        const status = await control({ action: 'status', job: name, last: 1000 });
        batches = (status.batches as BatchInfo[] | undefined) ?? [];
        if (status.state === 'stopped') break;
        const limit = run.stopAboveTotalDelayMs;
        // The first batch pays for the functions' cold starts: a later one past the limit has a backlog that only
        // grows from there, so the trial is stopped rather than waited for.
        if (limit !== undefined && batches.slice(1).some((b) => b.totalDelayMs > limit)) {
          stoppedEarly = true;
          await control({ action: 'stop', job: name });
          break;
        }
        if (Date.now() > deadline) {
          error = `the trial's ${run.batches} batches did not finish in time (${batches.length} did): is the coordinator running?`;
          await control({ action: 'stop', job: name });
          break;
        }
      }
    } finally {
      running = false;
      await feeding;
    }
    // Its batches are read: the trial's store and metrics go (its control and job documents stay, stopped).
    await control({ action: 'reset', job: name });
    error ??= batches.find((b) => b.error !== undefined)?.error;
    return { batches, stoppedEarly, ...(error !== undefined ? { error } : {}) };
  };
}

/** Puts `feed`'s sample (cycled) into its stream at `ratePerSec`, a tenth of a second's records at a time. */
async function putAtRate(
  client: KinesisClient,
  feed: Feed,
  ratePerSec: number,
  running: () => boolean,
): Promise<void> {
  const producer = new KinesisProducer({ client, streamName: feed.streamName });
  const startedAt = Date.now();
  let sent = 0;
  while (running()) {
    const due = Math.floor((ratePerSec * (Date.now() - startedAt)) / 1000);
    const lines: string[] = [];
    for (; sent < due; sent++) lines.push(feed.lines[sent % feed.lines.length]!);
    if (lines.length > 0) await producer.put(lines);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * `sluice tune --aws --control <function> [--stream <name>]`: trials on the stack that the process's AWS settings
 * reach (`AWS_ENDPOINT_URL` for an emulator, `AWS_ENDPOINT_URL_LAMBDA` for `sluice lambda-host`), and what the
 * report says about where they ran.
 */
export async function awsTrials(opts: {
  readonly control?: string;
  readonly stream?: string;
}): Promise<
  (
    job: JobDocument,
    samples: ReadonlyMap<string, readonly unknown[]>,
  ) => { runTrial: TrialRunner; where: Record<string, string>; moreCapacity: string }
> {
  const controlFunction = opts.control;
  if (controlFunction === undefined) {
    throw new Error("sluice tune --aws needs --control <function>: the stack's ControlFunctionName output");
  }
  const { kinesisClient, lambdaClient } = await import('./awsClients');
  const target: AwsTuneTarget = {
    lambda: lambdaClient(),
    kinesis: kinesisClient(),
    controlFunction,
    ...(opts.stream !== undefined ? { stream: opts.stream } : {}),
  };
  return (job, samples) => ({
    runTrial: awsTrialRunner(job, samples, target),
    where: {
      on: 'aws',
      control: controlFunction,
      jobs: `${tuneJobName(job, 1)}, ${tuneJobName(job, 2)}, …`,
      ...(opts.stream !== undefined ? { stream: opts.stream } : {}),
    },
    // A worker's CPU grows with its memory; this machine's cores have nothing to do with the trials.
    moreCapacity: 'more worker memory (sluice:workerMemoryMb, which brings more CPU)',
  });
}
