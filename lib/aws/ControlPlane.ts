import { isAbsolute } from 'node:path';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import type { DStreamGraph } from '../dstream/DStreamGraph';
import type { InputDStream } from '../dstream/InputDStream';
import { JobValidationError, StreamGraphError } from '../errors';
import { buildDeployedJob, isModuleJobDocument } from '../job/buildDeployedJob';
import { deployedModules } from '../job/DeployedModules';
import { jsonPath, type KinesisSourceSpec, type S3PrefixSourceSpec } from '../job/JobDocument';
import { JOB_NAME, JOB_NAME_RULE } from '../job/jobName';
import { UnavailableSource } from '../job/UnavailableSource';
import { METADATA_KEY, readCheckpoint } from '../scheduler/CheckpointData';
import type { Source } from '../source/Source';
import { costOf } from './batchCost';
import { jobStorePrefix } from './bucketLayout';
import type { CoordinatorClients } from './CoordinatorRuntime';
import type { CoordinatorEvent } from './coordinatorEvents';
import { ENV } from './deploymentContract';
import { type JobControl, type JobRecords, stoppedControl } from './JobRecords';
import { jobVersion } from './jobVersion';
import { resumeMismatch } from './resumeMismatch';
import { S3Lease } from './S3Lease';
import { type SourceTarget, unreachableSources } from './sourceChecks';
import { type StaticFileTarget, unreadableStaticFiles } from './staticFileChecks';

/** What the control plane needs to know of the deployment. */
export interface ControlPlaneConfig {
  /** The coordinator function, which hand-overs and forwarded ticks invoke. Default: none. */
  readonly selfFunction?: string;
  /** The deployment's own Kinesis stream, for `kinesis` sources that name none. Default: none. */
  readonly stream?: string;
  /** Whether the coordinator function is mandatory: a control front end has nothing to start jobs on without it. */
  readonly requiresCoordinator: boolean;
}

/**
 * The coordinator's control plane: the events that record what should happen to a job and answer at once
 * (`start`'s validation and records, `stop`, `status`, `reset`) and the asynchronous invocation of the coordinator
 * that then drives its batches (a hand-over, a forwarded tick). It drives no batch itself; see `BatchDriver`.
 */
export class ControlPlane {
  constructor(
    private readonly records: JobRecords,
    /** Lambda starts the coordinator; S3 and Kinesis check that a job's sources can be read. */
    private readonly clients: CoordinatorClients,
    private readonly config: ControlPlaneConfig,
  ) {}

  /**
   * Validates a job document, checks that each Kinesis stream and S3 prefix it reads can be read (one call each),
   * and records it as running (after a reset when `fresh`): the answer of a failed validation, or the job's name
   * for the batch driver (or a hand-over) to go on with.
   */
  async start(
    doc: Record<string, unknown>,
    batches: number | undefined,
    fresh: boolean,
  ): Promise<{ ok: true; job: string } | { ok: false; error: string; issues?: unknown }> {
    let graph: DStreamGraph;
    try {
      // Validates the whole document before anything is written. The sources a job module makes are noted as it
      // builds (a JSON job's are in its document); none is started here.
      const read: { kinesis: KinesisSourceSpec[]; s3: S3PrefixSourceSpec[] } = { kinesis: [], s3: [] };
      const unnamedStreams = new Set<Source<string>>();
      const ssc = await buildDeployedJob(doc, {
        baseDir: '/',
        staticBase: this.records.staticBase,
        deployedModules,
        kinesisSource: (spec) => {
          read.kinesis.push(spec);
          const source = new UnavailableSource('kinesis', 'kinesisStream()');
          if (spec.streamName === undefined) unnamedStreams.add(source);
          return source;
        },
        s3PrefixSource: (spec) => {
          read.s3.push(spec);
          return new UnavailableSource('s3Prefix', 's3PrefixStream()');
        },
      });
      // What the coordinator's start of the graph would refuse (no output, an input no output reads): a job
      // document is refused so by its validation, a job module only here.
      ssc.graph.validate();
      graph = ssc.graph;
      this.checkStreams(doc);
      this.checkModuleStreams(ssc.graph.inputs.filter((input) => unnamedStreams.has(input.source)));
      // A stream or bucket that is not there would fail the first batch; the start says so instead.
      // And so would a static file that is not there, which `sluice run` refuses locally at the same path.
      const [unreachable, unreadable] = await Promise.all([
        unreachableSources(this.sourceTargets(doc, read), this.clients),
        unreadableStaticFiles(this.staticFileTargets(doc), this.clients.s3),
      ]);
      if (unreachable.length + unreadable.length > 0) {
        throw new JobValidationError([...unreachable, ...unreadable]);
      }
    } catch (error) {
      const invalid = error instanceof StreamGraphError ? graphProblemOf(doc, error) : error;
      if (invalid instanceof JobValidationError)
        return { ok: false, error: invalid.message, issues: invalid.issues };
      throw error;
    }
    const name = String(doc.name);
    if (!JOB_NAME.test(name)) {
      return { ok: false, error: `name: must be ${JOB_NAME_RULE}` };
    }
    if (fresh) await this.reset(name);
    else {
      // A changed document that its checkpoint cannot carry over is refused before it replaces the one running.
      const checkpoint = await readCheckpoint(this.records.jobStore(name), {
        file: `s3://${this.records.bucket}/${jobStorePrefix(name)}${METADATA_KEY}`,
      });
      const mismatch = resumeMismatch(this.records.bucket, name, checkpoint, graph);
      if (mismatch) return { ok: false, error: mismatch.message };
    }
    // The coordinator reads it here; it publishes the version its tasks name for the workers (see BatchDriver).
    await this.records.root.put(`jobs/${name}/job.json`, JSON.stringify(doc));
    // A job that sleeps keeps its mark, so that the batches it slept through still run (as empty batches). Written
    // on the condition that the record is the one read: a coordinator that fell asleep or woke in between wrote
    // the mark or the batches slept through, which the start keeps (read again) rather than undoes.
    await this.records.updateControl(name, (before) => ({
      state: 'running',
      ...(batches ? { maxBatches: batches } : {}),
      documentVersion: jobVersion(doc),
      ...(!fresh && before?.asleep ? { asleep: before.asleep } : {}),
      ...(!fresh && before?.emptyThrough ? { emptyThrough: before.emptyThrough } : {}),
      updatedAt: new Date().toISOString(),
    }));
    return { ok: true, job: name };
  }

  /** A control front end's answer to a start: the coordinator, started asynchronously, drives the batches. */
  async startedElsewhere(name: string): Promise<Record<string, unknown>> {
    await this.handOver(name);
    return { ok: true, job: name, state: 'running', note: 'started: the coordinator drives its batches' };
  }

  /** Whether a job of that name was ever started. */
  exists(name: string): Promise<boolean> {
    return this.records.exists(name);
  }

  /** Records the job as stopped, keeping the fields of its record that a stop does not own (see `stoppedControl`). */
  async stop(name: string): Promise<Record<string, unknown>> {
    // A damaged record still stops: it is written anew, with nothing to keep. Conditional on the record read, so
    // that a coordinator waking in between (its `emptyThrough`) is kept, and cannot write `running` over the stop.
    await this.records.updateControl(name, stoppedControl, 'none');
    return { ok: true, job: name, ...(await this.stoppedState(name)) };
  }

  /**
   * A stopped job's state: `stopping` while a coordinator still holds its lease. A stop is recorded at once, but
   * the coordinator reads it only when it renews its lease, and finishes the batch it runs: answered `stopped`
   * then, a reset sent at once raced that batch, which went on writing outputs and metrics after it.
   */
  private async stoppedState(name: string): Promise<Record<string, unknown>> {
    if (!(await S3Lease.isHeld(this.records.root, `jobs/${name}/lease.json`))) return { state: 'stopped' };
    return {
      state: 'stopping',
      note: 'a coordinator is finishing the batch it runs: send status until it says "stopped" before a reset',
    };
  }

  /**
   * The state a status answers: `running`; `stopping` or `stopped` (see `stoppedState`); and for a state Sluice
   * never writes, `unknown` with the value recorded (see `JobRecords.notRunning`), as a tick answers it.
   */
  private async stateOf(name: string, control: JobControl): Promise<Record<string, unknown>> {
    if (control.state === 'stopped') return this.stoppedState(name);
    if (control.state === 'running') return { state: 'running' };
    return this.records.notRunning(name, control);
  }

  /** A control front end's tick: the coordinator runs it, with its concurrency of 1. */
  async forwardTick(job: string | undefined): Promise<Record<string, unknown>> {
    await this.invokeCoordinator(job === undefined ? { action: 'tick' } : { action: 'tick', job });
    return { ok: true, forwarded: 'tick' };
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

  /**
   * A job module's `kinesisStream()` without a `streamName` needs the deployment's stream too: refused at `module`,
   * led by the line that made the stream, since the module is code and has no JSON path to name.
   */
  private checkModuleStreams(unnamed: readonly InputDStream<string>[]): void {
    if (this.config.stream !== undefined || unnamed.length === 0) return;
    throw new JobValidationError(
      unnamed.map((input) => ({
        path: 'module',
        message: `${input.origin === undefined ? '' : `${input.origin}: `}kinesisStream() names no streamName and this deployment has no stream of its own (${ENV.stream} is not set): name the stream in the module (kinesisStream(ssc, { streamName: "…" })), or deploy with a stream`,
      })),
    );
  }

  /**
   * The Kinesis streams and S3 prefixes a job reads, each at the JSON path that names it: a JSON job's
   * `sources.<name>.streamName` (`sources.<name>` for the deployment's stream) and `sources.<name>.bucket`, a job
   * module's `module`.
   */
  private sourceTargets(
    doc: Record<string, unknown>,
    read: { kinesis: readonly KinesisSourceSpec[]; s3: readonly S3PrefixSourceSpec[] },
  ): SourceTarget[] {
    const { stream } = this.config;
    if (isModuleJobDocument(doc)) {
      return [
        ...read.kinesis.flatMap((spec): SourceTarget[] => {
          const name = spec.streamName ?? stream;
          // (refused by checkModuleStreams already)
          if (name === undefined) return [];
          return [{ kind: 'kinesis', path: 'module', stream: name, implicit: spec.streamName === undefined }];
        }),
        ...read.s3.map(
          (spec): SourceTarget => ({ kind: 's3', path: 'module', bucket: spec.bucket, prefix: spec.prefix }),
        ),
      ];
    }
    const sources = (doc.sources ?? {}) as Record<string, Partial<KinesisSourceSpec | S3PrefixSourceSpec>>;
    return Object.entries(sources).flatMap(([name, spec]): SourceTarget[] => {
      if (spec.type === 'kinesis') {
        const own = spec.streamName;
        if (own === undefined) {
          return stream === undefined
            ? []
            : [{ kind: 'kinesis', path: `sources.${name}`, stream, implicit: true }];
        }
        return [{ kind: 'kinesis', path: `sources.${name}.streamName`, stream: own }];
      }
      if (spec.type === 's3Prefix') {
        return [{ kind: 's3', path: `sources.${name}.bucket`, bucket: spec.bucket!, prefix: spec.prefix! }];
      }
      return [];
    });
  }

  /**
   * The objects a JSON job's `textFile` datasets read, each at `datasets.<name>.path`: a relative path under the
   * bucket's `static/`, as the tasks read it (see `readStaticFile`; one with `..` is refused by the build already).
   */
  private staticFileTargets(doc: Record<string, unknown>): StaticFileTarget[] {
    if (isModuleJobDocument(doc)) return [];
    const datasets = (doc.datasets ?? {}) as Record<string, { type?: unknown; path?: unknown }>;
    return Object.entries(datasets).flatMap(([name, spec]): StaticFileTarget[] => {
      if (spec.type !== 'textFile' || typeof spec.path !== 'string') return [];
      const { path } = spec;
      if (!path.startsWith('s3://') && (isAbsolute(path) || path.split('/').includes('..'))) return [];
      const url = path.startsWith('s3://') ? path : `${this.records.staticBase}${path}`;
      return [{ path: jsonPath('datasets', name, 'path'), value: path, url }];
    });
  }

  /**
   * Clears a job so that its next start begins from scratch: stops it, breaks its lease (a running holder's next
   * renewal fails, and the next holder gets a higher epoch), deletes its metadata checkpoint first (a running
   * coordinator's next conditional write then fails, so it stops without writing), then the rest of its store
   * (input blocks, state, shuffle data, dead letters) and its metrics. Outputs are the user's and stay.
   */
  async reset(name: string): Promise<void> {
    await this.records.putControl(name, { state: 'stopped', updatedAt: new Date().toISOString() });
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await S3Lease.breakLease(this.records.root, `jobs/${name}/lease.json`)) break;
    }
    const store = this.records.jobStore(name);
    await store.deleteKeys([METADATA_KEY]);
    await store.deletePrefix('');
    await this.records.root.deleteKeys([`jobs/${name}/metrics.json`, `jobs/${name}/active.json`]);
  }

  /** Starts the next invocation (asynchronously) to go on driving the job. */
  async handOver(name: string): Promise<void> {
    await this.invokeCoordinator({ action: 'tick', job: name });
  }

  private async invokeCoordinator(event: CoordinatorEvent): Promise<void> {
    if (!this.config.selfFunction) {
      if (this.config.requiresCoordinator)
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

  async status(name: string, last: number): Promise<Record<string, unknown>> {
    const control = await this.records.control(name);
    if (!control) return { ok: false, error: `job: no job named ${JSON.stringify(name)}` };
    const { batches: metrics, damaged } = await this.records.keptMetrics(name);
    const checkpoint = await readCheckpoint(this.records.jobStore(name), {
      file: `s3://${this.records.bucket}/${jobStorePrefix(name)}${METADATA_KEY}`,
    });
    const pending = checkpoint?.pendingBatches ?? [];
    return {
      ok: true,
      job: name,
      ...(await this.stateOf(name, control)),
      // A running job with no new input sleeps: no Lambda runs until the tick finds records.
      ...(control.asleep ? { asleep: true, asleepAfterBatch: control.asleep.lastBatch } : {}),
      lastCompletedBatch: checkpoint?.lastCompletedBatch ?? 0,
      // A stopped job's pending batches run only when it is started again (from its checkpoint, as Spark reruns a
      // checkpoint's pending times on restart), or never (a reset, a fresh start): listed as pending, they read as
      // batches about to run.
      ...(control.state === 'running'
        ? { pendingBatches: pending }
        : { pendingBatches: [], pendingUntilStart: pending }),
      batches: metrics.slice(-last),
      // What the batches reported cost, together (each batch's own is in its `cost`).
      cost: costOf(metrics.slice(-last)),
      ...(damaged ? { metricsError: damaged } : {}),
    };
  }
}

/**
 * A graph problem of a job module (a window that is no multiple of the interval, an input no output reads) as a
 * validation error at `module`, led by the line that made the stream: a job document's graph problems are issues
 * at their JSON paths already.
 */
function graphProblemOf(
  doc: Record<string, unknown>,
  error: StreamGraphError,
): JobValidationError | StreamGraphError {
  return isModuleJobDocument(doc)
    ? new JobValidationError([{ path: 'module', message: error.located }])
    : error;
}
