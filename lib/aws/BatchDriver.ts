import { randomUUID } from 'node:crypto';
import { PartitionCache } from '../dataset/PartitionCache';
import { batchIntervalOf } from '../job/buildDeployedJob';
import { deployedModules } from '../job/DeployedModules';
import { batchFields } from '../log/batchFields';
import type { Logger } from '../log/Logger';
import { batchLogLabel } from '../scheduler/batchDateLabel';
import type { CheckpointData } from '../scheduler/CheckpointData';
import { SystemClock } from '../scheduler/Clock';
import { DelayTrend } from '../scheduler/DelayTrend';
import { InProcessRunner } from '../scheduler/InProcessRunner';
import { driveJob } from '../scheduler/JobDriver';
import { JobScheduler } from '../scheduler/JobScheduler';
import type { BatchInfo } from '../scheduler/StreamingListener';
import type { TaskRunner } from '../scheduler/TaskRunner';
import type { BlockStore } from '../storage/BlockStore';
import { ActiveBatches } from '../ui/ActiveBatches';
import { liveInputStreams } from '../ui/StreamingUiState';
import { US_EAST_1_PRICES } from './AwsPrices';
import { registerAwsDirectReaders } from './awsDirectReaders';
import {
  deadLetterKey,
  jobDocumentKey,
  jobStorePrefix,
  OUTPUTS_PREFIX,
  TEMPORARY_PREFIXES,
  TEMPORARY_TAG,
} from './bucketLayout';
import { CoordinatorCostMeter } from './CoordinatorCostMeter';
import type { CoordinatorClients, CoordinatorConfig } from './CoordinatorRuntime';
import { DeadLetterHorizon } from './DeadLetterHorizon';
import { DeployedContexts } from './DeployedContexts';
import { FUNCTION_MEMORY_MB } from './deploymentContract';
import { emfLine } from './emfMetrics';
import { FencedError, FencedStore } from './FencedStore';
import { HybridRunner } from './HybridRunner';
import { JobMetricsWriter } from './JobMetricsWriter';
import { type JobRecords, stoppedControl } from './JobRecords';
import { DEFAULT_IDLE_AFTER_BATCHES, IdleTracker, isPeekable, type SleepMark, wakePlan } from './JobSleep';
import { jobVersion } from './jobVersion';
import type { KinesisSource } from './KinesisSource';
import { LambdaTaskRunner } from './LambdaTaskRunner';
import { logRetries } from './logRetries';
import { PromiseCache } from './PromiseCache';
import { resumeMismatch } from './resumeMismatch';
import { S3BlockStore } from './S3BlockStore';
import { S3Lease } from './S3Lease';
import { collectReports, TaskReportInbox, withCollectedReports } from './TaskReports';
import { openBlockStore, readStaticFile } from './WorkerRuntime';

/**
 * The coordinator's batch driver: each invocation drives a job's batches on the real clock for as long as it may
 * run, holding the job's lease, reports each batch's cost and metrics, lets an idle job sleep, and hands over to a
 * fresh invocation of itself. The batch loop is the engine's own JobScheduler, with the S3 block store and the
 * worker function as runner, so the same plans, checkpoints and recovery as in local mode apply. What a job
 * should do (run, stop) is the control plane's record; see `ControlPlane`.
 */
export class BatchDriver {
  private readonly root: S3BlockStore;
  private readonly contexts: DeployedContexts;

  constructor(
    private readonly clients: CoordinatorClients,
    private readonly config: CoordinatorConfig,
    private readonly records: JobRecords,
    /** Starts the next invocation (asynchronously) to go on driving the job. */
    private readonly handOver: (name: string) => Promise<void>,
  ) {
    this.root = records.root;
    this.contexts = new DeployedContexts(clients, config, records);
    // A stage whose functions only the driver has (made in a foreachRDD body) runs here, and reads the batch's
    // input here when it computes it, as local mode's driver does: without the readers it failed on AWS (`no reader
    // for input read directly from "s3"`) where it ran locally. Its reports reach the inbox as a worker's answer's
    // do (see `inCoordinator` in `drive`).
    const reportStores = new PromiseCache<BlockStore>();
    registerAwsDirectReaders((url) => reportStores.get(url, () => openBlockStore(url).then(collectReports)));
  }

  /** The scheduled tick: drives the job named, or every running job, sharing the budget. */
  async tick(job: string | undefined, budgetMs: number, log: Logger): Promise<Record<string, unknown>> {
    const names = job ? [job] : await this.records.runningJobs();
    const results = [];
    for (const name of names) {
      // One job's failure (a damaged record, say) is that job's answer: the others are still driven.
      try {
        results.push(await this.drive(name, budgetMs / names.length, true, log));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log.error(`Job ${name}: ${message}`, { job: name, error: message });
        results.push({ ok: false, job: name, error: message });
      }
    }
    return { ok: true, driven: results };
  }

  /**
   * Drives a job's batches while this invocation may, then hands over; a held lease means someone else is. A
   * sleeping job is woken only when `checkSleep` is false (a start) or its sources have new records (the tick).
   */
  async drive(
    name: string,
    budgetMs: number,
    checkSleep: boolean,
    runtimeLog: Logger,
  ): Promise<Record<string, unknown>> {
    const log = runtimeLog.with({ job: name });
    const driveStartedAt = Date.now();
    const read = await this.records.taggedControl(name);
    let control = read.control;
    if (control?.state !== 'running')
      return { ok: true, job: name, ...this.records.notRunning(name, control) };
    const doc = await this.records.document(name);
    if (control.asleep && checkSleep && !(await this.contexts.hasNewInput(name, doc))) {
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
    const ssc = await this.contexts.build(
      doc,
      () => readDeadlineMs,
      () => emptyUntil,
      log,
    );
    const store = this.records.jobStore(name, {
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
    // Where the restore looks for the letters of the batches it runs again (see `DeadLetterHorizon`).
    const horizon = new DeadLetterHorizon(store, ssc.batchIntervalMs);
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
    // A start refuses such a document; a job module redeployed with another graph meets its checkpoint here.
    const mismatch = resumeMismatch(this.config.bucket, name, checkpoint, ssc.graph);
    if (mismatch) {
      log.error(`Job ${name}: ${mismatch.message}`, { error: mismatch.message });
      await lease.release();
      if (!(await this.records.putControlIf(name, stoppedControl(control), read.etag))) {
        return { ok: false, job: name, error: mismatch.message, note: await this.yieldToEvent(name, log) };
      }
      return { ok: false, job: name, state: 'stopped', error: mismatch.message };
    }
    log.info(
      `Job ${name}: took its lease (epoch ${lease.epoch}); resuming after batch ${checkpoint?.lastCompletedBatch ?? 0} ms`,
      { epoch: lease.epoch, resumedAfter: checkpoint?.lastCompletedBatch ?? 0 },
    );
    // The workers build the graph from the document by the version its tasks name, which a later start with another
    // document does not replace: until this coordinator sees that start (at its next lease renewal), its tasks are
    // still this document's, and a worker container that started meanwhile read the new one and refused them. One
    // PUT per invocation, before any task names it: the same bytes for every coordinator of the version, so
    // writing it again is harmless and mends one something else changed.
    const version = jobVersion(doc);
    await store.put(jobDocumentKey(version), JSON.stringify(doc));
    const lambdaRunner = new LambdaTaskRunner({
      client: this.clients.lambda,
      functionName: this.config.workerFunction,
      parallelism: this.config.taskConcurrency ?? 16,
      // The worker's store is the bucket; this job's blocks, its document and spilled results are under the prefix.
      job: {
        jobKey: jobDocumentKey(version),
        jobVersion: version,
        storePrefix: jobStorePrefix(name),
        jobName: name,
      },
      spillStore: store,
      onReports: (reports) => jobStore.deliver(reports),
    });
    const inCoordinator = reportingToInbox(
      new InProcessRunner({
        store: fenced,
        outputs: fenced.outputStore,
        functions: ssc.functions,
        cache: new PartitionCache(),
        readText: (path) => readStaticFile(path, this.records.staticBase, async (url) => openBlockStore(url)),
      }),
      jobStore,
    );
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
      // again; when fenced, it is refused like the checkpoint. Unlike an output, whose bytes any coordinator
      // computes alike, a batch's letters depend on timing (of two batches reading one dataset, the first to
      // compute it writes its letters), so a coordinator woken after its successor took over checks first that it
      // still owns the job: one GET, for batches with letters only, which leaves a window of one request. The
      // horizon is raised before the check (a PUT once in HORIZON_AHEAD_BATCHES batches), so that window stays one
      // request, and a restore finds these letters whichever coordinator wrote them.
      writeDeadLetters: async (letters, batchTime) => {
        await horizon.raiseTo(batchTime);
        await fenced.checkOwner();
        await fenced.put(deadLetterKey(batchTime), letters.map((l) => `${JSON.stringify(l)}\n`).join(''));
      },
      // The objects of batches the restore runs again: what the coordinator that died wrote for them is the
      // rerun's to write, or to leave unwritten (see `discardDeadLettersAfter`). Listed, since the checkpoint
      // need not know every batch that wrote letters, but only up to the horizon, so that the listing does not
      // grow with the job's age; deleted after one ownership check, as a successor that took the job over
      // meanwhile writes them again for its own rerun.
      discardDeadLettersAfter: async (lastCompletedBatch) => {
        await fenced.deleteLeftovers(await horizon.lettersAfter(lastCompletedBatch));
      },
    });
    // Waking from sleep: the clock goes back to where the sleeping job's had it, so the batches slept through are
    // due at once and run back to back as empty batches (see `wakePlan` for why they run).
    const resumedAfter = checkpoint?.lastCompletedBatch ?? 0;
    let clock = new SystemClock();
    // Conditional on the record read: a start sent since (which keeps the mark) is read again and woken, a stop
    // (which ends the sleep) wins, where writing `running` over it went on driving a job the user had stopped.
    for (let record = read; control.asleep; ) {
      const plan = wakePlan(control.asleep, resumedAfter, ssc.batchIntervalMs, Date.now());
      const { asleep: _, ...awake } = control;
      const emptyThrough = Math.max(emptyUntil, plan.emptyThrough);
      const woken = { ...awake, emptyThrough, updatedAt: new Date().toISOString() };
      if (await this.records.putControlIf(name, woken, record.etag)) {
        clock = new SystemClock(plan.clockStartMs);
        emptyUntil = emptyThrough;
        control = woken;
        break;
      }
      record = await this.records.taggedControl(name);
      if (record.control?.state !== 'running') {
        await lease.release();
        log.info(`Job ${name}: stopped as it woke`);
        return { ok: true, job: name, ...this.records.notRunning(name, record.control) };
      }
      control = record.control;
    }
    const scheduler = new JobScheduler(ssc, clock, { name, document: doc });
    const completed: BatchInfo[] = [];
    // The last batches' metrics, read once: this invocation adds its batches and rewrites them for status events.
    const { batches: kept, damaged } = await this.records.keptMetrics(name);
    if (damaged) log.warn(`Job ${name}: ${damaged}`, { error: damaged });
    // The batches generated and not completed, written beside the kept metrics for the Streaming UI.
    const active = new ActiveBatches();
    const metrics = new JobMetricsWriter(
      this.root,
      name,
      kept,
      active,
      () => Boolean(fenced.fenced),
      () => liveInputStreams(ssc.graph.inputs),
    );
    // The stability signal carries over from the invocations before this one.
    const trend = new DelayTrend(ssc.batchIntervalMs);
    for (const batch of kept) trend.observe(batch);
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
    const meter = new CoordinatorCostMeter(
      () => ({
        s3Read: store.readRequests + outputs.readRequests + this.root.readRequests,
        s3: coordinatorS3(),
        getRecords: ssc.graph.inputs.reduce(
          (sum, i) => sum + ((i.source as Partial<KinesisSource>).getRecordsCalls ?? 0),
          0,
        ),
        atMs: Date.now(),
      }),
      driveStartedAt,
      {
        workerMemoryMb: this.config.workerMemoryMb ?? FUNCTION_MEMORY_MB.worker,
        coordinatorMemoryMb: this.config.coordinatorMemoryMb ?? FUNCTION_MEMORY_MB.coordinator,
        prices: this.config.prices ?? US_EAST_1_PRICES,
      },
    );
    // First, so that a completed batch has left the active ones when the listener below writes the metrics; a
    // batch's start refreshes them too, so that a batch running long is seen running.
    ssc.addListener(active);
    ssc.addListener({ onBatchStarted: () => metrics.refresh() });
    ssc.addListener({
      onBatchCompleted: (info) => {
        const workers = lambdaRunner.takeBatchUsage(info.batchTime);
        const invokes = workers.invokes;
        const s3 = coordinatorS3();
        const cost = meter.batchCompleted(info.records, workers);
        // Kept with the batch for the status event: what the coordinator itself cost, beside the tasks.
        const entry = { ...info, invokes, coordinatorS3Requests: s3 - s3Before, cost } as BatchInfo;
        completed.push(entry);
        metrics.add(entry);
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
            delayGrowingFor: trend.observe(info),
          })}\n`,
        );
        // The batch's one line; a failed batch's is its failure, logged once with the cause.
        const batch = batchLogLabel(info.batchTime, info.dueAtMs, ssc.batchIntervalMs);
        if (info.error) log.error(`Batch ${batch} failed: ${info.error}`, batchFields(entry));
        else
          log.info(
            `Batch ${batch} done: ${info.records} records in, total delay ${info.totalDelayMs} ms, ` +
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
    const isOtherVersion = (recorded: string | undefined) => recorded !== undefined && recorded !== version;
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
            // A stop, or a start with another document: the hand-over below builds the new one. Driven on, the old
            // graph ignored the change until this invocation's end.
            const current = await this.records.control(name);
            if (current?.state !== 'running' || isOtherVersion(current.documentVersion)) scheduler.stop();
          })
          // A failed renewal request is retried at the next batch; the lease outlives a few batches.
          .catch((failure: unknown) =>
            log.warn(
              `Job ${name}: renewing its lease failed, tried again after the next batch: ${String(failure)}`,
            ),
          );
      },
    });
    const timer = setTimeout(() => scheduler.stop(), Math.max(0, deadlineMs - Date.now()));
    let error: string | undefined;
    try {
      const summary = await driveJob(ssc, scheduler, {
        logicalClock: false,
        checkpoint,
        limits: control.maxBatches ? { batches: control.maxBatches } : {},
        runners: [runner],
      });
      if (!(summary.error instanceof FencedError)) error = summary.error?.message;
    } catch (thrown) {
      // Taken over: the scheduler stopped at the refused write, and the successor carries on.
      if (!(thrown instanceof FencedError)) throw thrown;
    } finally {
      clearTimeout(timer);
    }
    await metrics.settled();
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
    metrics.write();
    await metrics.settled();
    await renewals;
    // Read while the lease is held, and each write below conditional on it: a start or a stop sent from here on
    // wins. A start that finds the lease still held is recorded and left to this coordinator (see `yieldToEvent`);
    // one sent after the release drives the job itself.
    const latest = lostLease ? undefined : await this.records.taggedControl(name);
    const current = latest?.control;
    if (!lostLease) await lease.release();
    const last = completed.at(-1)?.batchTime ?? checkpoint?.lastCompletedBatch ?? 0;
    // The limit of the record read here: a start sent while the job ran set its own (or none), which this
    // invocation, driving to the limit it read as it began, did not see; that start's is the one that counts.
    const limit = (current ?? control).maxBatches;
    const finished = limit !== undefined && last >= limit * ssc.batchIntervalMs;
    const done = { job: name, batches: completed.length, lastBatch: last };
    if (latest && fellAsleep && !finished && !error && current?.state === 'running') {
      // Asleep: no hand-over. The mark says when the last batch was due, so that waking runs the batches since.
      const asleep: SleepMark = { lastBatch: last, dueAtMs: clock.dueAt(last - resumedAfter) };
      const marked = { ...current, asleep, updatedAt: new Date().toISOString() };
      if (!(await this.records.putControlIf(name, marked, latest.etag))) {
        return { ok: true, ...done, note: await this.yieldToEvent(name, log) };
      }
      log.info(`Job ${name}: no new input after batch ${last} ms; asleep until the tick finds records`);
      return { ok: true, ...done, state: 'asleep' };
    }
    let note: string | undefined;
    // A start recorded while the batch failed (the record read here is not the one this invocation drove): the
    // user's answer to the failure, another document perhaps, which a stop written over it would cancel unsaid.
    const startedSince = current?.state === 'running' && current.updatedAt !== control.updatedAt;
    if (latest && (finished || error)) {
      if (!finished && startedSince) note = await this.yieldToEvent(name, log);
      else if (await this.records.putControlIf(name, stoppedControl(current ?? control), latest.etag)) {
        if (finished) log.info(`Job ${name}: done, batch ${last} ms was its last`);
      } else note = await this.yieldToEvent(name, log);
    } else if (!lostLease && current?.state === 'running') {
      log.info(`Job ${name}: handing over to a fresh invocation after batch ${last} ms`);
      await this.handOver(name);
    }
    return {
      ok: !error,
      ...done,
      ...(error ? { error } : {}),
      ...(lostLease
        ? { note: `lost the job to another coordinator: ${fenced.fenced ?? 'lease taken'}` }
        : {}),
      ...(note ? { note } : {}),
    };
  }

  /**
   * After a write of this coordinator's (its stop, its sleep mark) was refused because the control record changed
   * since it read it: the user's event that changed it wins. A start (running) is handed over to a fresh
   * invocation, which drives it (when the start's own invocation found the lease still held, nobody else does);
   * a stop stays. The note for the answer.
   */
  private async yieldToEvent(name: string, log: Logger): Promise<string> {
    const now = await this.records.control(name);
    if (now?.state !== 'running') return 'the job was stopped meanwhile';
    log.info(`Job ${name}: started again meanwhile; handing over to a fresh invocation to drive it`);
    await this.handOver(name);
    return 'the job was started again meanwhile: a fresh invocation drives it';
  }
}

/**
 * `runner`, with the input reports of the tasks it runs (a driver stage that read the batch's input) handed to
 * `inbox`, as `LambdaTaskRunner` hands over those a worker's answer brings: the next plan reads them there.
 */
function reportingToInbox(runner: TaskRunner, inbox: TaskReportInbox): TaskRunner {
  return {
    name: runner.name,
    parallelism: runner.parallelism,
    async run(task, control) {
      const { result, reports } = await withCollectedReports(() => runner.run(task, control));
      if (result.ok && Object.keys(reports).length > 0) inbox.deliver(reports);
      return result;
    },
    close: () => runner.close(),
  };
}
