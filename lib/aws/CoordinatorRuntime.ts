import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import { CorruptCheckpointError, JobValidationError } from '../errors';
import { buildJob } from '../job/buildJob';
import { type Logger, silentLogger } from '../log/Logger';
import type { StreamingContext } from '../StreamingContext';
import { type AwsPrices, pricesFrom } from './AwsPrices';
import { BatchDriver } from './BatchDriver';
import { ControlPlane } from './ControlPlane';
import { type CoordinatorEvent, parseCoordinatorEvent } from './coordinatorEvents';
import { ENV } from './deploymentContract';
import { DamagedJobRecordError, JobRecords } from './JobRecords';

// Kept here for the modules that import it from the coordinator.
export { withBatch } from './JobRecords';

/** How the coordinator function is set up (from its environment). */
export interface CoordinatorConfig {
  /** The bucket holding jobs, blocks, checkpoints and outputs. */
  readonly bucket: string;
  /** The worker function's name or ARN. */
  readonly workerFunction: string;
  /**
   * The coordinator function's name: the next invocation a running coordinator hands over to, and the function a
   * control front end starts jobs on. Default: none (a coordinator then stops at its budget, and the tick resumes).
   */
  readonly selfFunction?: string;
  /**
   * Drive batches in this invocation. Default true: the coordinator. False makes a control front end: it
   * validates and records `start`, `stop` and `status` at once, and leaves the batches to the coordinator, which
   * it starts asynchronously; with the coordinator's concurrency reserved at 1, a synchronous call to the
   * coordinator itself would be throttled for as long as a job runs.
   */
  readonly drive?: boolean;
  /** Worker invocations in flight at once. Default 16. */
  readonly taskConcurrency?: number;
  /** Run one-partition stages inside the coordinator. Default true. */
  readonly smallStagesInCoordinator?: boolean;
  /** The Kinesis stream of a `kinesis` source that names none: the deployment's own. Default: none. */
  readonly stream?: string;
  /**
   * How long a job's lease lasts unless renewed (at a batch's end, once a third of it passed): how long a dead
   * coordinator's job waits for the next one. Default: 3 batch intervals, at least 5 s.
   */
  readonly leaseTtlMs?: number;
  /** The worker function's memory, for the cost report's GB-seconds. Default 1769 MB (the stack's default). */
  readonly workerMemoryMb?: number;
  /** This function's memory, for the cost report. Default: Lambda's AWS_LAMBDA_FUNCTION_MEMORY_SIZE, else 1024. */
  readonly coordinatorMemoryMb?: number;
  /** The prices the cost report uses. Default: us-east-1 list prices of November 2026 (see `AwsPrices`). */
  readonly prices?: AwsPrices;
}

/** The AWS clients the coordinator uses, created once per container. */
export interface CoordinatorClients {
  readonly s3: S3Client;
  readonly lambda: LambdaClient;
  readonly kinesis: KinesisClient;
}

/**
 * The coordinator Lambda's logic, and the control function's. Events go to the control plane (`ControlPlane`:
 * start, stop, status, reset), which records what should happen to a job; the coordinator then drives the job's
 * batches (`BatchDriver`) on the real clock for as long as it may run, holding the job's lease, and hands over to
 * a fresh invocation of itself; the scheduled tick restarts a job whose coordinator died. A control front end
 * (`drive: false`) has no batch driver: it starts the coordinator asynchronously instead.
 */
export class CoordinatorRuntime {
  private readonly controlPlane: ControlPlane;
  private readonly driver: BatchDriver | undefined;

  constructor(clients: CoordinatorClients, config: CoordinatorConfig) {
    const records = new JobRecords(clients.s3, config.bucket);
    this.controlPlane = new ControlPlane(records, clients, {
      ...(config.selfFunction ? { selfFunction: config.selfFunction } : {}),
      ...(config.stream !== undefined ? { stream: config.stream } : {}),
      requiresCoordinator: config.drive === false,
    });
    this.driver =
      config.drive === false
        ? undefined
        : new BatchDriver(clients, config, records, (name) => this.controlPlane.handOver(name));
  }

  /**
   * Reads the configuration from the function's environment: `SLUICE_BUCKET`, `SLUICE_WORKER_FUNCTION`
   * (required to drive), `SLUICE_COORDINATOR_FUNCTION` (default: this function; required for control), `SLUICE_TASK_CONCURRENCY` (default 16),
   * `SLUICE_STREAM` (the default Kinesis stream; default none).
   */
  static fromEnv(
    env: NodeJS.ProcessEnv,
    clients: CoordinatorClients,
    options: Pick<CoordinatorConfig, 'drive'> = {},
  ): CoordinatorRuntime {
    const drives = options.drive !== false;
    const required = [ENV.bucket, drives ? ENV.workerFunction : ENV.coordinatorFunction];
    const missing = required.filter((name) => !env[name]);
    if (missing.length > 0) {
      const role = drives ? 'coordinator' : 'control function';
      throw new Error(`the ${role} needs the environment variables ${missing.join(', ')}`);
    }
    const leaseTtl = env[ENV.leaseTtlMs];
    const workerMemory = env[ENV.workerMemoryMb];
    return new CoordinatorRuntime(clients, {
      bucket: env[ENV.bucket]!,
      workerFunction: env[ENV.workerFunction] ?? '',
      ...(env[ENV.coordinatorFunction] || env.AWS_LAMBDA_FUNCTION_NAME
        ? { selfFunction: env[ENV.coordinatorFunction] || env.AWS_LAMBDA_FUNCTION_NAME }
        : {}),
      taskConcurrency: Number(env[ENV.taskConcurrency] ?? 16),
      ...(env[ENV.stream] ? { stream: env[ENV.stream] } : {}),
      ...(leaseTtl ? { leaseTtlMs: positiveMs(ENV.leaseTtlMs, leaseTtl) } : {}),
      ...(workerMemory ? { workerMemoryMb: positiveMs(ENV.workerMemoryMb, workerMemory) } : {}),
      ...(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE
        ? { coordinatorMemoryMb: Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE) }
        : {}),
      prices: pricesFrom(env),
      ...options,
    });
  }

  /**
   * Handles one event; `budgetMs` is how long this invocation may keep driving batches. `log` gets the lines of
   * the jobs it drives (each with the job's name, a batch's with its time). Default: nowhere.
   */
  async handle(
    event: unknown,
    budgetMs: number,
    log: Logger = silentLogger,
  ): Promise<Record<string, unknown>> {
    let parsed: CoordinatorEvent;
    try {
      parsed = parseCoordinatorEvent(event);
    } catch (error) {
      if (error instanceof JobValidationError)
        return { ok: false, error: error.message, issues: error.issues };
      throw error;
    }
    try {
      return await this.act(parsed, budgetMs, log);
    } catch (error) {
      // A job's damaged records are the answer, with what to do, not an unhandled error with a stack trace.
      if (error instanceof DamagedJobRecordError || error instanceof CorruptCheckpointError) {
        const job = typeof parsed.job === 'string' ? parsed.job : parsed.job?.name;
        return { ok: false, ...(typeof job === 'string' ? { job } : {}), error: error.message };
      }
      throw error;
    }
  }

  private async act(
    parsed: CoordinatorEvent,
    budgetMs: number,
    log: Logger,
  ): Promise<Record<string, unknown>> {
    switch (parsed.action) {
      case 'start': {
        const started = await this.controlPlane.start(parsed.job, parsed.batches, parsed.fresh === true);
        if (!started.ok) return started;
        if (!this.driver) return this.controlPlane.startedElsewhere(started.job);
        return this.driver.drive(started.job, budgetMs, false, log);
      }
      case 'reset':
        if (!(await this.controlPlane.exists(parsed.job))) return noSuchJob(parsed.job);
        await this.controlPlane.reset(parsed.job);
        return {
          ok: true,
          job: parsed.job,
          state: 'stopped',
          note: 'reset: the next start begins from scratch',
        };
      case 'stop':
        if (!(await this.controlPlane.exists(parsed.job))) return noSuchJob(parsed.job);
        return this.controlPlane.stop(parsed.job);
      case 'status':
        return this.controlPlane.status(parsed.job, parsed.last);
      case 'tick':
        // A tick naming a job with no records is a typo, or a job deleted from the bucket: said so, where it answered
        // ok (the coordinator's state "unknown", the control function's "forwarded") and nothing ran.
        if (parsed.job !== undefined && !(await this.controlPlane.exists(parsed.job)))
          return noSuchJob(parsed.job);
        if (!this.driver) return this.controlPlane.forwardTick(parsed.job);
        return this.driver.tick(parsed.job, budgetMs, log);
    }
  }

  /** For tests: the context a job document builds to (same as the coordinator's). */
  static async contextFor(doc: unknown): Promise<StreamingContext> {
    return buildJob(doc, { baseDir: '/' });
  }
}

/** The answer to an action on a job that was never started: the name is likely a typo. */
function noSuchJob(job: string): Record<string, unknown> {
  return { ok: false, error: `job: no job named ${JSON.stringify(job)}` };
}

/** A positive whole number of ms from the environment, or an error naming the variable. */
function positiveMs(variable: string, value: string): number {
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 1) {
    throw new Error(
      `${variable} must be a positive whole number of milliseconds, got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

/**
 * How long an invocation with `remainingMs` left may go on reading its sources and starting batches: the rest is
 * the margin in which the batch then running finishes and the coordinator hands over, before Lambda's timeout.
 * The margin is a fifth of the time left, between 1 s and 30 s (300 s: 270 s of driving; 10 s: 8 s).
 */
export function drivingBudgetMs(remainingMs: number): number {
  const marginMs = Math.min(30_000, Math.max(1000, remainingMs / 5));
  return Math.max(0, Math.floor(remainingMs - marginMs));
}
