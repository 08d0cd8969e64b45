import { randomUUID } from 'node:crypto';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import { PartitionCache } from '../dataset/PartitionCache';
import { JobValidationError } from '../errors';
import { batchIntervalOf, buildDeployedJob } from '../job/buildDeployedJob';
import { buildJob } from '../job/buildJob';
import { deployedModules } from '../job/DeployedModules';
import { JOB_NAME } from '../job/jobName';
import { batchFields } from '../log/batchFields';
import { type Logger, silentLogger } from '../log/Logger';
import type { StreamingContext } from '../StreamingContext';
import { type CheckpointData, METADATA_KEY, readCheckpoint } from '../scheduler/CheckpointData';
import { SystemClock } from '../scheduler/Clock';
import { DelayTrend } from '../scheduler/DelayTrend';
import { InProcessRunner } from '../scheduler/InProcessRunner';
import { JobScheduler } from '../scheduler/JobScheduler';
import type { BatchInfo } from '../scheduler/StreamingListener';
import { ActiveBatches } from '../ui/ActiveBatches';
import { type AwsPrices, pricesFrom, US_EAST_1_PRICES } from './AwsPrices';
import { batchCost, costOf } from './batchCost';
import {
  JOBS_PREFIX,
  jobStorePrefix,
  OUTPUTS_PREFIX,
  STATIC_PREFIX,
  TEMPORARY_PREFIXES,
  TEMPORARY_TAG,
} from './bucketLayout';
import { type CoordinatorEvent, parseCoordinatorEvent } from './coordinatorEvents';
import { ENV } from './deploymentContract';
import { emfLine } from './emfMetrics';
import { FencedError, FencedStore } from './FencedStore';
import { HybridRunner } from './HybridRunner';
import {
  DEFAULT_IDLE_AFTER_BATCHES,
  emptyThrough,
  IdleTracker,
  isPeekable,
  type SleepMark,
  wakePlan,
} from './JobSleep';
import { KinesisSource } from './KinesisSource';
import { LambdaTaskRunner } from './LambdaTaskRunner';
import { logRetries } from './logRetries';
import { S3BlockStore } from './S3BlockStore';
import { S3Lease } from './S3Lease';
import { S3PrefixSource } from './S3PrefixSource';
import { TaskReportInbox } from './TaskReports';
import { openBlockStore, readStaticFile } from './WorkerRuntime';

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

/** What the coordinator keeps per job in the bucket, under `jobs/<name>/`. */
interface JobControl {
  readonly state: 'running' | 'stopped';
  /** Stop after this batch of stream time, when set. */
  readonly maxBatches?: number;
  /** Set while the job sleeps for want of input: no coordinator runs, and the tick checks for records. */
  readonly asleep?: SleepMark;
  /** Batches at or before this batch time were slept through: they read no input, even when run again. */
  readonly emptyThrough?: number;
  readonly updatedAt: string;
}

/** Batches kept in `metrics.json` for status events and the Streaming UI: Spark's UI keeps 1,000 too. */
const METRICS_KEPT = 1000;
/**
 * Of those, the newest batches that keep their output operations (stages, tasks) for the UI's batch page: the
 * file is rewritten every few seconds, and a thousand batches' task lists would make each write megabytes.
 */
const DETAILS_KEPT = 100;
/** How often a running coordinator refreshes the metrics that status events read. */
const METRICS_EVERY_MS = 5000;

/**
 * The coordinator Lambda's logic. A job document starts (or updates) a job; each invocation then drives the
 * job's batches on the real clock for as long as it may run, holding the job's lease, and hands over to a
 * fresh invocation of itself; the scheduled tick restarts a job whose coordinator died. The batch loop is
 * the engine's own JobScheduler, with the S3 block store and the worker function as runner, so the same
 * plans, checkpoints and recovery as in local mode apply.
 */
export class CoordinatorRuntime {
  private readonly root: S3BlockStore;

  constructor(
    private readonly clients: CoordinatorClients,
    private readonly config: CoordinatorConfig,
  ) {
    this.root = new S3BlockStore({ client: clients.s3, bucket: config.bucket });
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
    switch (parsed.action) {
      case 'start':
        return this.start(parsed.job, parsed.batches, budgetMs, parsed.fresh === true, log);
      case 'reset':
        await this.reset(parsed.job);
        return {
          ok: true,
          job: parsed.job,
          state: 'stopped',
          note: 'reset: the next start begins from scratch',
        };
      case 'stop':
        await this.putControl(parsed.job, { state: 'stopped', updatedAt: new Date().toISOString() });
        return { ok: true, job: parsed.job, state: 'stopped' };
      case 'status':
        return this.status(parsed.job, parsed.last);
      case 'tick':
        if (this.config.drive === false) {
          await this.invokeCoordinator(parsed.job === undefined ? { action: 'tick' } : parsed);
          return { ok: true, forwarded: 'tick' };
        }
        return this.tick(parsed.job, budgetMs, log);
    }
  }

  private async start(
    doc: Record<string, unknown>,
    batches: number | undefined,
    budgetMs: number,
    fresh: boolean,
    log: Logger,
  ) {
    try {
      // Validates the whole document before anything is written.
      await buildDeployedJob(doc, { baseDir: '/', staticBase: this.staticBase, deployedModules });
      this.checkStreams(doc);
    } catch (error) {
      if (error instanceof JobValidationError)
        return { ok: false, error: error.message, issues: error.issues };
      throw error;
    }
    const name = String(doc.name);
    if (!JOB_NAME.test(name)) {
      return { ok: false, error: 'name: a job name may hold letters, digits, _ . - (it names S3 keys)' };
    }
    if (fresh) await this.reset(name);
    await this.root.put(`jobs/${name}/job.json`, JSON.stringify(doc));
    // Workers read the document next to the job's blocks, once per container.
    await this.root.put(`${jobStorePrefix(name)}job.json`, JSON.stringify(doc));
    // A job that sleeps keeps its mark, so that the batches it slept through still run (as empty batches).
    const before = fresh ? undefined : await this.control(name);
    await this.putControl(name, {
      state: 'running',
      ...(batches ? { maxBatches: batches } : {}),
      ...(before?.asleep ? { asleep: before.asleep } : {}),
      ...(before?.emptyThrough ? { emptyThrough: before.emptyThrough } : {}),
      updatedAt: new Date().toISOString(),
    });
    if (this.config.drive === false) {
      await this.handOver(name);
      return { ok: true, job: name, state: 'running', note: 'started: the coordinator drives its batches' };
    }
    return this.drive(name, budgetMs, false, log);
  }

  /** A `kinesis` source without a stream name needs the deployment's stream. */
  private checkStreams(doc: Record<string, unknown>): void {
    if (this.config.stream !== undefined) return;
    const sources = (doc.sources ?? {}) as Record<string, { type?: string; streamName?: string }>;
    const issues = Object.entries(sources)
      .filter(([, spec]) => spec.type === 'kinesis' && spec.streamName === undefined)
      .map(([name]) => ({
        path: `sources.${name}.streamName`,
        message: `this coordinator has no stream of its own (${ENV.stream} is not set): name the Kinesis stream`,
      }));
    if (issues.length > 0) throw new JobValidationError(issues);
  }

  /** `s3://bucket/static/`: where relative static dataset paths point. */
  private get staticBase(): string {
    return `s3://${this.config.bucket}/${STATIC_PREFIX}`;
  }

  private async tick(job: string | undefined, budgetMs: number, log: Logger) {
    const names = job ? [job] : await this.runningJobs();
    const results = [];
    for (const name of names) results.push(await this.drive(name, budgetMs / names.length, true, log));
    return { ok: true, driven: results };
  }

  /**
   * The tick's check of a sleeping job: whether any of its sources has a record after the position in its
   * checkpoint (see `KinesisSource.hasNewRecords`, `S3PrefixSource.hasNewRecords`). It builds the job's sources
   * and reads the checkpoint, and neither writes nor takes the lease. A source that cannot tell counts as new.
   */
  private async hasNewInput(name: string, doc: Record<string, unknown>): Promise<boolean> {
    const ssc = await this.buildContext(
      doc,
      () => undefined,
      () => 0,
    );
    const store = new S3BlockStore({
      client: this.clients.s3,
      bucket: this.config.bucket,
      prefix: jobStorePrefix(name),
    });
    const checkpoint = await readCheckpoint(store);
    for (const input of ssc.graph.inputs) {
      const source = input.source;
      if (!isPeekable(source)) return true;
      await source.start?.({ intervalMs: ssc.batchIntervalMs, logicalClock: false });
      try {
        const position = checkpoint?.sources[input.id];
        if (position !== undefined) source.restorePosition?.(position);
        if (await source.hasNewRecords((key) => store.get(key))) return true;
      } finally {
        await source.stop?.();
      }
    }
    return false;
  }

  /** The job's context, its sources reading until `readDeadlineMs` and nothing for batches through `emptyUntil`. */
  private buildContext(
    doc: Record<string, unknown>,
    readDeadlineMs: () => number | undefined,
    emptyUntil: () => number,
    log: Logger = silentLogger,
  ): Promise<StreamingContext> {
    return buildDeployedJob(doc, {
      deployedModules,
      baseDir: '/',
      staticBase: this.staticBase,
      kinesisSource: (spec) =>
        emptyThrough(
          new KinesisSource({
            client: this.clients.kinesis,
            streamName: spec.streamName ?? this.config.stream ?? '',
            ...(spec.maxRecordsPerShard ? { maxRecordsPerShard: spec.maxRecordsPerShard } : {}),
            ...(spec.startAt ? { startAt: spec.startAt } : {}),
            readDeadlineMs,
            retry: { onRetry: logRetries(log, 'Kinesis') },
            // Workers read the shard ranges and report into the job's store; the coordinator only plans.
            direct: { storeUrl: `s3://${this.config.bucket}/${jobStorePrefix(String(doc.name))}` },
          }),
          emptyUntil,
        ),
      s3PrefixSource: (spec) =>
        emptyThrough(
          new S3PrefixSource({
            client: this.clients.s3,
            bucket: spec.bucket,
            prefix: spec.prefix,
            ...(spec.maxObjectsPerBatch ? { maxObjectsPerBatch: spec.maxObjectsPerBatch } : {}),
            readDeadlineMs,
            direct: { storeUrl: `s3://${this.config.bucket}/${jobStorePrefix(String(doc.name))}` },
          }),
          emptyUntil,
        ),
    });
  }

  /**
   * Drives a job's batches while this invocation may, then hands over; a held lease means someone else is. A
   * sleeping job is woken only when `checkSleep` is false (a start) or its sources have new records (the tick).
   */
  private async drive(
    name: string,
    budgetMs: number,
    checkSleep: boolean,
    runtimeLog: Logger,
  ): Promise<Record<string, unknown>> {
    const log = runtimeLog.with({ job: name });
    const driveStartedAt = Date.now();
    const control = await this.control(name);
    if (control?.state !== 'running') return { ok: true, job: name, state: control?.state ?? 'unknown' };
    const doc = JSON.parse(await this.text(`jobs/${name}/job.json`)) as Record<string, unknown>;
    if (control.asleep && checkSleep && !(await this.hasNewInput(name, doc))) {
      return { ok: true, job: name, state: 'asleep', note: 'no new input: the job sleeps on' };
    }
    // Stop starting batches at the budget: what runs then has the rest of the invocation to finish. A read that
    // began before is cut only later, half way into the margin (a fifth of the time left: budget / 8), so that a
    // batch is cut short only when a read is really slow, never by a read that merely overlaps the stop.
    const deadlineMs = Date.now() + Math.max(0, budgetMs);
    const readDeadlineMs = deadlineMs + Math.min(15_000, Math.max(0, budgetMs) / 8);
    const lease = await S3Lease.acquire(
      this.root,
      `jobs/${name}/lease.json`,
      randomUUID(),
      this.config.leaseTtlMs ?? Math.max(5000, 3 * (batchIntervalOf(doc, deployedModules) ?? 0)),
    );
    if (!lease) {
      log.info(`Job ${name}: another coordinator holds its lease and drives it`);
      return { ok: true, job: name, state: 'running', note: 'another coordinator holds the lease' };
    }
    // Batches through this time were slept through (set once the checkpoint says where the job resumes).
    let emptyUntil = control.emptyThrough ?? 0;
    const ssc = await this.buildContext(
      doc,
      () => readDeadlineMs,
      () => emptyUntil,
      log,
    );
    const store = new S3BlockStore({
      client: this.clients.s3,
      bucket: this.config.bucket,
      prefix: jobStorePrefix(name),
      temporary: { prefixes: TEMPORARY_PREFIXES, tag: TEMPORARY_TAG },
      retry: { onRetry: logRetries(log, 'S3') },
    });
    const outputs = new S3BlockStore({
      client: this.clients.s3,
      bucket: this.config.bucket,
      prefix: OUTPUTS_PREFIX,
      retry: { onRetry: logRetries(log, 'S3') },
    });
    // Everything this coordinator writes goes through the fence: once a successor took over, nothing more lands.
    const fenced = new FencedStore(store, outputs, lease.epoch);
    // The sources read their tasks' input reports from the answers the tasks sent back (see TaskReports).
    const jobStore = new TaskReportInbox(fenced);
    let checkpoint: CheckpointData | undefined;
    try {
      checkpoint = await fenced.claim();
    } catch (error) {
      if (!(error instanceof FencedError)) throw error;
      log.warn(`Job ${name}: ${error.message}`, { error: error.message });
      return { ok: true, job: name, state: 'running', note: error.message };
    }
    log.info(
      `Job ${name}: took its lease (epoch ${lease.epoch}); resuming after batch ${checkpoint?.lastCompletedBatch ?? 0} ms`,
      { epoch: lease.epoch, resumedAfter: checkpoint?.lastCompletedBatch ?? 0 },
    );
    const lambdaRunner = new LambdaTaskRunner({
      client: this.clients.lambda,
      functionName: this.config.workerFunction,
      parallelism: this.config.taskConcurrency ?? 16,
      // The worker's store is the bucket; this job's blocks, its document and spilled results are under the prefix.
      job: { jobKey: 'job.json', storePrefix: jobStorePrefix(name), jobName: name },
      spillStore: store,
      onReports: (reports) => jobStore.deliver(reports),
    });
    const inCoordinator = new InProcessRunner({
      store: fenced,
      outputs: fenced.outputStore,
      functions: ssc.functions,
      cache: new PartitionCache(),
      readText: (path) => readStaticFile(path, this.staticBase, async (url) => openBlockStore(url)),
    });
    const runner = new HybridRunner(
      lambdaRunner,
      inCoordinator,
      this.config.smallStagesInCoordinator ?? true,
    );
    ssc.connect({
      store: jobStore,
      outputs: fenced.outputStore,
      runner,
      driverRunner: inCoordinator,
      // Tasks land on whichever container Lambda picks, so memory copies are backed by the bucket.
      memoryBackedByStore: true,
      // A Lambda worker can straggle (a cold start, a slow host); a copy costs one invocation. A job may say no.
      speculationByDefault: true,
      log,
      print: (text) => process.stdout.write(text),
      // Object stores cannot append: one object per batch, with a deterministic key, is exactly once.
      appendJsonl: async (path, line, batchTime) => {
        if (path === undefined) process.stdout.write(`${line}\n`);
        else await fenced.outputStore.put(`${path}/${batchTime}.json`, `${line}\n`);
      },
      outputPositions: async () => ({}),
      restoreOutputPositions: async () => {},
      // One object per batch, awaited before the batch's checkpoint: a failed write fails the batch, which runs
      // again; when fenced, it is refused like the checkpoint, and the successor writes the same letters.
      writeDeadLetters: async (letters, batchTime) => {
        await fenced.put(
          `dead-letter/${batchTime}.jsonl`,
          letters.map((l) => `${JSON.stringify(l)}\n`).join(''),
        );
      },
    });
    // Waking from sleep: the clock goes back to where the sleeping job's had it, so the batches slept through are
    // due at once and run back to back as empty batches (see `wakePlan` for why they run).
    const resumedAfter = checkpoint?.lastCompletedBatch ?? 0;
    let clock = new SystemClock();
    if (control.asleep) {
      const plan = wakePlan(control.asleep, resumedAfter, ssc.batchIntervalMs, Date.now());
      clock = new SystemClock(plan.clockStartMs);
      emptyUntil = Math.max(emptyUntil, plan.emptyThrough);
      const { asleep: _, ...awake } = control;
      await this.putControl(name, {
        ...awake,
        emptyThrough: emptyUntil,
        updatedAt: new Date().toISOString(),
      });
    }
    const scheduler = new JobScheduler(ssc, clock, { name, document: doc });
    const completed: BatchInfo[] = [];
    // The last batches' metrics, read once: this invocation adds its batches and rewrites them for status events.
    let kept = await this.keptMetrics(name);
    let keptChanged = false;
    let metricsWrittenAt = Date.now();
    let metricsWrite = Promise.resolve();
    // The batches generated and not completed, written beside the kept metrics for the Streaming UI.
    const active = new ActiveBatches();
    const writeMetrics = () => {
      // A fenced coordinator's metrics would overwrite its successor's.
      if (fenced.fenced) return;
      const text = keptChanged ? JSON.stringify(kept) : undefined;
      const activeText = JSON.stringify({ writtenAtMs: Date.now(), active: active.snapshot() });
      keptChanged = false;
      metricsWrite = metricsWrite.then(async () => {
        if (text !== undefined) await this.root.put(`jobs/${name}/metrics.json`, text);
        await this.root.put(`jobs/${name}/active.json`, activeText);
      });
    };
    // Status events read the kept metrics: refresh them every few seconds, not once per batch.
    const refreshMetrics = () => {
      if (Date.now() - metricsWrittenAt < METRICS_EVERY_MS) return;
      metricsWrittenAt = Date.now();
      writeMetrics();
      // A failed refresh is not the batch's failure; the final write below reports its own.
      metricsWrite = metricsWrite.catch(() => {});
    };
    // The stability signal carries over from the invocations before this one.
    const trend = new DelayTrend();
    for (const batch of kept) trend.observe(batch.totalDelayMs);
    // Idleness carries over too: the empty batches in a row before this invocation count (not those slept through).
    const idle = new IdleTracker(Number(doc.idleAfterBatches ?? DEFAULT_IDLE_AFTER_BATCHES));
    for (const batch of kept) if (batch.batchTime > emptyUntil) idle.observe(batch);
    // Only sources that can tell whether records wait let a job sleep: the tick must be able to wake it.
    const canSleep = ssc.graph.inputs.length > 0 && ssc.graph.inputs.every((i) => isPeekable(i.source));
    let fellAsleep = false;
    let sleepCheck = Promise.resolve();
    let lostLease = false;
    let s3Before = 0;
    const coordinatorS3 = () => store.requests + outputs.requests + this.root.requests;
    // The coordinator's counters, read at each batch's end: the batch pays what changed since the previous one. The
    // workers' invocations are counted per batch by the runner, which knows each task's batch.
    const counters = () => ({
      s3Read: store.readRequests + outputs.readRequests + this.root.readRequests,
      s3: coordinatorS3(),
      getRecords: ssc.graph.inputs.reduce(
        (sum, i) => sum + ((i.source as Partial<KinesisSource>).getRecordsCalls ?? 0),
        0,
      ),
      atMs: Date.now(),
    });
    let costBefore = { ...counters(), atMs: driveStartedAt };
    let coordinatorInvocations = 1;
    const prices = this.config.prices ?? US_EAST_1_PRICES;
    const gb = (mb: number) => mb / 1024;
    // First, so that a completed batch has left the active ones when the listener below writes the metrics; a
    // batch's start refreshes them too, so that a batch running long is seen running.
    ssc.addListener(active);
    ssc.addListener({ onBatchStarted: refreshMetrics });
    ssc.addListener({
      onBatchCompleted: (info) => {
        const workers = lambdaRunner.takeBatchUsage(info.batchTime);
        const invokes = workers.invokes;
        const s3 = coordinatorS3();
        const now = counters();
        // The coordinator runs the whole time it drives, so each batch pays for the time since the previous one;
        // the workers are billed for their invocations. Workers' storage requests come as one count per task,
        // billed at the PUT rate: an upper bound (their GETs cost less).
        const cost = batchCost(
          {
            records: info.records,
            workerGbSeconds: (workers.invokeMs / 1000) * gb(this.config.workerMemoryMb ?? 1769),
            coordinatorGbSeconds:
              ((now.atMs - costBefore.atMs) / 1000) * gb(this.config.coordinatorMemoryMb ?? 1024),
            workerInvocations: invokes,
            coordinatorInvocations,
            s3WriteRequests:
              now.s3 - now.s3Read - (costBefore.s3 - costBefore.s3Read) + workers.workerStorageRequests,
            s3ReadRequests: now.s3Read - costBefore.s3Read,
            kinesisGetRecords: now.getRecords - costBefore.getRecords,
          },
          prices,
        );
        costBefore = now;
        coordinatorInvocations = 0;
        // Kept with the batch for the status event: what the coordinator itself cost, beside the tasks.
        const entry = { ...info, invokes, coordinatorS3Requests: s3 - s3Before, cost } as BatchInfo;
        completed.push(entry);
        kept = withBatch(kept, entry);
        keptChanged = true;
        refreshMetrics();
        s3Before = s3;
        if (info.batchTime > emptyUntil && idle.observe(info) && canSleep && !fellAsleep) {
          // Idle for idleAfterBatches batches, unless the sources say records wait (tasks that read directly leave
          // the batch's count at 0): then stop driving; the tick wakes the job when records arrive.
          sleepCheck = sleepCheck
            .then(async () => {
              if (fellAsleep || lostLease) return;
              for (const { source } of ssc.graph.inputs) {
                if (isPeekable(source) && (await source.hasNewRecords())) return idle.reset();
              }
              fellAsleep = true;
              scheduler.stop();
            })
            // A failed check is as good as records: the job stays awake and checks again later.
            .catch((failure: unknown) => {
              log.warn(`Job ${name}: checking its sources for new records failed: ${String(failure)}`);
              idle.reset();
            });
        }
        process.stdout.write(
          `${emfLine(name, entry, {
            invokes,
            coordinatorTasks: runner.coordinatorTasks,
            delayGrowingFor: trend.observe(info.totalDelayMs),
          })}\n`,
        );
        // The batch's one line; a failed batch's is its failure, logged once with the cause.
        if (info.error) log.error(`Batch ${info.batchTime} ms failed: ${info.error}`, batchFields(entry));
        else
          log.info(
            `Batch ${info.batchTime} ms done: ${info.records} records in, total delay ${info.totalDelayMs} ms, ` +
              `${invokes} worker invocations, $${cost.dollars.toFixed(6)}`,
            batchFields(entry),
          );
      },
    });
    // After a batch, once a third of the lease's TTL passed (every other batch at 1 s with the default 5 s TTL):
    // renew the lease (stop at once if it was lost) and obey a stop event. A PUT per batch would be the job's
    // largest fixed cost after the checkpoint. Renewals are chained and awaited before the release: a renewal
    // landing after it would hold the lease against the hand-over.
    let renewals = Promise.resolve();
    ssc.addListener({
      onBatchCompleted: () => {
        renewals = renewals
          .then(async () => {
            if (lostLease || !lease.renewalDue()) return;
            if (!(await lease.renew())) {
              lostLease = true;
              fenced.fence('its lease was taken over');
              scheduler.stop();
            }
            if ((await this.control(name))?.state !== 'running') scheduler.stop();
          })
          // A failed renewal request is retried at the next batch; the lease outlives a few batches.
          .catch((failure: unknown) =>
            log.warn(
              `Job ${name}: renewing its lease failed, tried again after the next batch: ${String(failure)}`,
            ),
          );
      },
    });
    const sources = ssc.graph.inputs.map((i) => i.source);
    const timer = setTimeout(() => scheduler.stop(), Math.max(0, deadlineMs - Date.now()));
    let error: string | undefined;
    try {
      for (const source of sources)
        await source.start?.({ intervalMs: ssc.batchIntervalMs, logicalClock: false });
      if (checkpoint) await scheduler.restore(checkpoint);
      const summary = await scheduler.run(control.maxBatches ? { batches: control.maxBatches } : {});
      if (!(summary.error instanceof FencedError)) error = summary.error?.message;
    } catch (thrown) {
      // Taken over: the scheduler stopped at the refused write, and the successor carries on.
      if (!(thrown instanceof FencedError)) throw thrown;
    } finally {
      clearTimeout(timer);
      await Promise.all(sources.map((s) => s.stop?.()));
      await runner.close();
    }
    await metricsWrite;
    await sleepCheck;
    // A coordinator that found itself fenced leaves lease, control state and hand-over to its successor.
    if (fenced.fenced) {
      lostLease = true;
      // Once, here, whichever way it was found out (a renewal refused, a checkpoint write refused).
      log.warn(
        `Job ${name}: lost to another coordinator (${fenced.fenced}); it goes on from the checkpoint`,
        {
          error: fenced.fenced,
        },
      );
    }
    // The active batches too: those this invocation leaves are queued for the next one.
    writeMetrics();
    await metricsWrite;
    await renewals;
    if (!lostLease) await lease.release();
    const last = completed.at(-1)?.batchTime ?? checkpoint?.lastCompletedBatch ?? 0;
    const finished = control.maxBatches !== undefined && last >= control.maxBatches * ssc.batchIntervalMs;
    const current = lostLease ? undefined : await this.control(name);
    if (!lostLease && fellAsleep && !finished && !error && current?.state === 'running') {
      // Asleep: no hand-over. The mark says when the last batch was due, so that waking runs the batches since.
      const asleep: SleepMark = { lastBatch: last, dueAtMs: clock.dueAt(last - resumedAfter) };
      await this.putControl(name, { ...current, asleep, updatedAt: new Date().toISOString() });
      log.info(`Job ${name}: no new input after batch ${last} ms; asleep until the tick finds records`);
      return { ok: true, job: name, state: 'asleep', batches: completed.length, lastBatch: last };
    }
    if (!lostLease && (finished || error)) {
      await this.putControl(name, {
        state: 'stopped',
        ...(control.maxBatches ? { maxBatches: control.maxBatches } : {}),
        updatedAt: new Date().toISOString(),
      });
      if (finished) log.info(`Job ${name}: done, batch ${last} ms was its last`);
    } else if (!lostLease && current?.state === 'running') {
      log.info(`Job ${name}: handing over to a fresh invocation after batch ${last} ms`);
      await this.handOver(name);
    }
    return {
      ok: !error,
      job: name,
      batches: completed.length,
      lastBatch: last,
      ...(error ? { error } : {}),
      ...(lostLease
        ? { note: `lost the job to another coordinator: ${fenced.fenced ?? 'lease taken'}` }
        : {}),
    };
  }

  /**
   * Clears a job so that its next start begins from scratch: stops it, breaks its lease (a running holder's next
   * renewal fails, and the next holder gets a higher epoch), deletes its metadata checkpoint first (a running
   * coordinator's next conditional write then fails, so it stops without writing), then the rest of its store
   * (input blocks, state, shuffle data, dead letters) and its metrics. Outputs are the user's and stay.
   */
  private async reset(name: string): Promise<void> {
    await this.putControl(name, { state: 'stopped', updatedAt: new Date().toISOString() });
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await S3Lease.breakLease(this.root, `jobs/${name}/lease.json`)) break;
    }
    const store = new S3BlockStore({
      client: this.clients.s3,
      bucket: this.config.bucket,
      prefix: jobStorePrefix(name),
    });
    await store.deleteKeys([METADATA_KEY]);
    await store.deletePrefix('');
    await this.root.deleteKeys([`jobs/${name}/metrics.json`, `jobs/${name}/active.json`]);
  }

  /** Starts the next invocation (asynchronously) to go on driving the job. */
  private async handOver(name: string): Promise<void> {
    await this.invokeCoordinator({ action: 'tick', job: name });
  }

  private async invokeCoordinator(event: CoordinatorEvent): Promise<void> {
    if (!this.config.selfFunction) {
      if (this.config.drive === false)
        throw new Error(`the control function needs ${ENV.coordinatorFunction} to start jobs on`);
      return;
    }
    await this.clients.lambda.send(
      new InvokeCommand({
        FunctionName: this.config.selfFunction,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify(event)),
      }),
    );
  }

  private async status(name: string, last: number) {
    const control = await this.control(name);
    if (!control) return { ok: false, error: `job: no job named ${JSON.stringify(name)}` };
    const metrics = await this.keptMetrics(name);
    const store = new S3BlockStore({
      client: this.clients.s3,
      bucket: this.config.bucket,
      prefix: jobStorePrefix(name),
    });
    const checkpoint = await readCheckpoint(store);
    return {
      ok: true,
      job: name,
      state: control.state,
      // A running job with no new input sleeps: no Lambda runs until the tick finds records.
      ...(control.asleep ? { asleep: true, asleepAfterBatch: control.asleep.lastBatch } : {}),
      lastCompletedBatch: checkpoint?.lastCompletedBatch ?? 0,
      pendingBatches: checkpoint?.pendingBatches ?? [],
      batches: metrics.slice(-last),
      // What the batches reported cost, together (each batch's own is in its `cost`).
      cost: costOf(metrics.slice(-last)),
    };
  }

  /** The last {@link METRICS_KEPT} batches' metrics, oldest first. */
  private async keptMetrics(name: string): Promise<BatchInfo[]> {
    return JSON.parse((await this.maybeText(`jobs/${name}/metrics.json`)) ?? '[]') as BatchInfo[];
  }

  private async runningJobs(): Promise<string[]> {
    const keys = await this.root.list(JOBS_PREFIX);
    const names = keys.filter((k) => k.endsWith('/control.json')).map((k) => k.split('/')[1]!);
    const running: string[] = [];
    for (const name of names) if ((await this.control(name))?.state === 'running') running.push(name);
    return running;
  }

  private async control(name: string): Promise<JobControl | undefined> {
    const text = await this.maybeText(`jobs/${name}/control.json`);
    return text ? (JSON.parse(text) as JobControl) : undefined;
  }

  private async putControl(name: string, control: JobControl): Promise<void> {
    await this.root.put(`jobs/${name}/control.json`, JSON.stringify(control));
  }

  private async text(key: string): Promise<string> {
    const text = await this.maybeText(key);
    if (text === undefined) throw new Error(`s3://${this.config.bucket}/${key} is missing`);
    return text;
  }

  private async maybeText(key: string): Promise<string | undefined> {
    const bytes = await this.root.get(key);
    return bytes ? Buffer.from(bytes).toString('utf8') : undefined;
  }

  /** For tests: the context a job document builds to (same as the coordinator's). */
  static async contextFor(doc: unknown): Promise<StreamingContext> {
    return buildJob(doc, { baseDir: '/' });
  }
}

/**
 * The kept metrics with one more batch: a batch computed again after a restart replaces its earlier entry, only
 * the last {@link METRICS_KEPT} batches stay, and only the last {@link DETAILS_KEPT} keep their output operations.
 */
export function withBatch(kept: readonly BatchInfo[], batch: BatchInfo): BatchInfo[] {
  const all = [...kept.filter((b) => b.batchTime !== batch.batchTime), batch]
    .sort((a, b) => a.batchTime - b.batchTime)
    .slice(-METRICS_KEPT);
  return all.map((b, i) => {
    if (i >= all.length - DETAILS_KEPT || b.outputOps === undefined) return b;
    const { outputOps: _, ...summary } = b;
    return summary;
  });
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
