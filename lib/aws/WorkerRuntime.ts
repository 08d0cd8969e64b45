import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type NamedValue, namedAsNull, UnsendableValueError, valuesJsonLosesIn } from '../dataset/jsonNumber';
import { PartitionCache } from '../dataset/PartitionCache';
import { unsendableResultMessage } from '../errors';
import { TaskExecutor } from '../executor/TaskExecutor';
import { buildDeployedJob } from '../job/buildDeployedJob';
import { type DeployedModules, deployedModules } from '../job/DeployedModules';
import { contextFromSource } from '../job/JobSource';
import { type Logger, silentLogger } from '../log/Logger';
import type { TaskPlan, TaskResult } from '../plan/Plan';
import type { BlockStore } from '../storage/BlockStore';
import { LocalFolderStore } from '../storage/LocalFolderStore';
import { registerAwsDirectReaders } from './awsDirectReaders';
import { STATIC_PREFIX } from './bucketLayout';
import { ENV } from './deploymentContract';
import { jobVersion } from './jobVersion';
import { PromiseCache } from './PromiseCache';
import { collectReports, withCollectedReports } from './TaskReports';
import { logTaskRetries, withTaskLog } from './taskLog';
import { parseWorkerEvent, type WorkerJobRef } from './workerEvents';

export type { WorkerEvent, WorkerJobRef } from './workerEvents';
export { parseWorkerEvent } from './workerEvents';

/** What the worker answers instead of a result too large for a Lambda response: where the result is. */
export interface SpilledResult {
  /** The store key of the result's JSON. */
  readonly spilled: string;
}

/** Settings of a worker runtime. */
export interface WorkerRuntimeOptions {
  /** The block store, as `s3://bucket/prefix` or `file:///absolute/folder`. */
  readonly storeUrl: string;
  /** Where `saveAsTextFiles` writes, as a store URL. Default: the block store. */
  readonly outputsUrl?: string;
  /**
   * Where relative static files are: a local folder, or an `s3://bucket/static/` URL. Without
   * `deployedModules`, a JSON job's `functions` module is a file of this folder too.
   */
  readonly baseDir: string;
  /**
   * The user modules deployed with the function: a job document names one (`module`, `functions`), and no file
   * is imported from a path the job carries. Default: none, for a development worker whose jobs' `functions`
   * modules are files of `baseDir`.
   */
  readonly deployedModules?: DeployedModules;
  /** Results whose JSON is larger go to the store instead of the response. Default 5.5 MiB (Lambda allows 6 MB). */
  readonly spillBytes?: number;
}

const DEFAULT_SPILL_BYTES = 5.5 * 1024 * 1024;
/**
 * Job documents whose graphs a container keeps, each version of a job apart (a start with a changed document adds
 * one while the old one's tasks finish); the oldest built goes first. A worker usually serves one job, a few at most.
 */
const MAX_CACHED_JOBS = 8;

/**
 * The body of the worker Lambda: runs one task per invocation with the same `TaskExecutor` as every other
 * runner. A container builds each job's graph once (from the document, or from the store under `jobKey`) and
 * keeps it, with its memory tier of persisted partitions, for the invocations that follow.
 *
 * @example
 * // functions/worker.ts
 * const runtime = WorkerRuntime.fromEnv(process.env);
 * export const handler = (event: unknown) => runtime.handle(event);
 */
export class WorkerRuntime {
  private readonly stores = new PromiseCache<BlockStore>();
  private readonly executors = new PromiseCache<TaskExecutor>(MAX_CACHED_JOBS);
  private readonly spillBytes: number;

  constructor(private readonly options: WorkerRuntimeOptions) {
    parseStoreUrl(options.storeUrl);
    if (options.outputsUrl !== undefined) parseStoreUrl(options.outputsUrl);
    if (
      options.spillBytes !== undefined &&
      !(Number.isInteger(options.spillBytes) && options.spillBytes >= 0)
    ) {
      throw new RangeError(`spillBytes must be a whole number of bytes, got ${options.spillBytes}`);
    }
    this.spillBytes = options.spillBytes ?? DEFAULT_SPILL_BYTES;
    // Opened now, at module scope in the handler, so the S3 client is built once per container; a failure is
    // reported by the first task that needs the store.
    void this.store(this.outputsUrl, '');
    // Tasks of Kinesis and S3 sources read their batch's planned ranges and objects themselves.
    registerAwsDirectReaders((url) => this.store(url, '').then(collectReports));
  }

  /**
   * A runtime configured by the environment: `SLUICE_STORE` (required, `s3://bucket/prefix` or
   * `file:///folder`), `SLUICE_OUTPUTS` (default: the store), `SLUICE_BASE_DIR` (a development worker: jobs'
   * `functions` modules and relative static files are files of this folder; default: the deployed modules, and
   * relative static files under the bucket's `static/` for an S3 store, else the function's
   * folder, `LAMBDA_TASK_ROOT`), `SLUICE_SPILL_BYTES` (default 5.5 MiB).
   */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): WorkerRuntime {
    const storeUrl = env[ENV.store];
    if (!storeUrl) {
      throw new Error(`${ENV.store} is not set: set it to s3://bucket/prefix or file:///absolute/folder`);
    }
    const spill = env[ENV.spillBytes];
    const baseDir = env[ENV.baseDir];
    if (spill !== undefined && !/^\d+$/.test(spill)) {
      throw new RangeError(`${ENV.spillBytes} must be a whole number of bytes, got ${JSON.stringify(spill)}`);
    }
    return new WorkerRuntime({
      storeUrl,
      ...(env[ENV.outputs] ? { outputsUrl: env[ENV.outputs] } : {}),
      ...(baseDir
        ? { baseDir: resolve(baseDir) }
        : {
            baseDir: staticBaseOf(storeUrl) ?? resolve(env.LAMBDA_TASK_ROOT ?? process.cwd()),
            deployedModules,
          }),
      ...(spill !== undefined ? { spillBytes: Number(spill) } : {}),
    });
  }

  /**
   * Runs the event's task; a task failure is a result, a malformed event or unreadable job throws. `log` gets one
   * line for the task: a failure only at `debug`, since the coordinator logs it once, with what it does about it.
   */
  async handle(event: unknown, log: Logger = silentLogger): Promise<TaskResult | SpilledResult> {
    const { task, ...ref } = parseWorkerEvent(event);
    const { batchTime, stage, partition, attempt } = task;
    const taskLog = log.with({
      ...(ref.jobName !== undefined ? { job: ref.jobName } : {}),
      batchTime,
      stageId: stage.stageId,
      partition,
      attempt: attempt + 1,
      ...(task.speculative ? { speculative: true } : {}),
    });
    const store = await this.store(this.options.storeUrl, ref.storePrefix ?? '', true);
    const executor = await this.executor(ref, store);
    // The input reports of direct reads ride in the answer (see TaskReports): no PUT per task.
    const { result: ran, reports } = await withCollectedReports(() =>
      withTaskLog(taskLog, () => executor.run(task)),
    );
    // A failure's stack frames stay in this function's log: the answer carries the error and the op it came from,
    // which the coordinator puts in the batch's error and the status event.
    const result = ran.ok
      ? Object.keys(reports).length > 0
        ? { ...ran, reports }
        : ran
      : { ...ran, error: withoutStackFrames(ran.error) };
    // Worded as the coordinator's lines about the task (`… of batch 500 ms (2026/11/29 03:01:03.000 UTC) failed on
    // attempt 1 of 4`): the batch with its date on the real clock, so that the lines of a batch are found together.
    const named = `Task ${partition} of stage ${stage.stageId} of batch ${task.batchLabel ?? `${batchTime} ms`}`;
    const onAttempt = `on attempt ${attempt + 1}${task.speculative ? ' (a speculative copy)' : ''}`;
    if (result.ok) {
      const { durationMs, recordsOut, storageRequests } = result.metrics;
      taskLog.info(`${named} done ${onAttempt} in ${Math.round(durationMs)} ms: ${recordsOut} records out`, {
        durationMs: Math.round(durationMs),
        recordsOut,
        storageRequests,
      });
    } else {
      // (the error as the task ran into it, stack frames and all)
      taskLog.debug(`${named} failed ${onAttempt}: ${result.error.split('\n')[0]}`, {
        error: ran.ok ? undefined : ran.error,
      });
    }
    let answer: TaskResult & { namedValues?: NamedValue[] } = result;
    let namedValues: NamedValue[] = [];
    try {
      namedValues = namedValuesOfResult(result, task);
    } catch (error) {
      if (!(error instanceof UnsendableValueError)) throw error;
      // As a worker thread fails it locally: the same sentence, where JSON would have dropped the value unsaid.
      answer = {
        ok: false,
        stageId: result.stageId,
        partition: result.partition,
        error: unsendableResultMessage('Lambda worker', error.message),
      };
    }
    if (namedValues.length > 0) {
      // The rare path: the records as JSON can carry them (a BigInt or undefined as null, named), so that the
      // Lambda runtime's own JSON.stringify of the answer cannot fail; the rest of the answer as it was.
      // (A Map's entries travel in `namedValues`, with their own such values.)
      const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value, namedAsNull));
      const records = asJson(result.ok ? result.result : undefined);
      answer = { ...result, result: records, namedValues: asJson(namedValues) } as typeof answer;
    }
    const json = JSON.stringify(answer);
    if (Buffer.byteLength(json) <= this.spillBytes) return answer;
    const key = spillKey(task);
    await store.put(key, json);
    return { spilled: key };
  }

  private get outputsUrl(): string {
    return this.options.outputsUrl ?? this.options.storeUrl;
  }

  /** @param jobStore a job's store, whose temporary keys get the tag; outputs and inputs never do */
  private store(url: string, prefix: string, jobStore = false): Promise<BlockStore> {
    return this.stores.get(`${url}|${prefix}|${jobStore}`, () => openBlockStore(url, prefix, { jobStore }));
  }

  /** The executor of a job, its graph built once per container. */
  private executor(ref: WorkerJobRef, store: BlockStore): Promise<TaskExecutor> {
    const prefix = ref.storePrefix ?? '';
    const id =
      'jobKey' in ref
        ? `key|${prefix}|${ref.jobKey}|${ref.jobVersion ?? ''}`
        : `doc|${prefix}|${JSON.stringify(ref.job)}`;
    // A job that failed to build (a store hiccup, say) is built again by the next invocation.
    return this.executors.get(id, () => this.buildExecutor(ref, store));
  }

  private async buildExecutor(ref: WorkerJobRef, store: BlockStore): Promise<TaskExecutor> {
    const document = 'jobKey' in ref ? await readJobDocument(store, ref.jobKey) : ref.job;
    const found = 'jobKey' in ref && ref.jobVersion !== undefined ? jobVersion(document) : undefined;
    if (found !== undefined && 'jobKey' in ref && found !== ref.jobVersion) {
      // The coordinator names each version's own key (see `jobDocumentKey`), so this document is not the one the
      // task was planned from: something else wrote it (or the key is one `job.json` that a start with another
      // document replaced). Its graph may differ, and running the task on it would write another job's output: the
      // task fails instead.
      throw new Error(
        `the job document under ${ref.jobKey} is version ${found}, not ${ref.jobVersion} that this task was planned from: it was replaced after the task was planned`,
      );
    }
    const { baseDir, deployedModules } = this.options;
    const ssc = deployedModules
      ? await buildDeployedJob(document, { baseDir: '/', deployedModules })
      : await contextFromSource({ kind: 'document', document, baseDir });
    return new TaskExecutor({
      store,
      outputs: await this.store(this.outputsUrl, ''),
      functions: ssc.functions,
      cache: new PartitionCache(),
      readText: (path) => readStaticFile(path, baseDir, (url) => this.store(url, '')),
    });
  }
}

/**
 * The values of a `take` or `collect` result that JSON writes as something else (Infinity and NaN as null, a Date as
 * a string, a Map as `{}`, undefined as null or nothing) or refuses (a BigInt), to name beside its records
 * (`namedValues`) for the coordinator to put back (see `LambdaTaskRunner`): locally the records cross a worker
 * thread by structured clone, which keeps all of them, so a record `[k, Infinity]` printed `(k,null)` on AWS where
 * it printed `(k,Infinity)` locally. Never for `jsonl`, which writes JSON in every mode.
 */
function namedValuesOfResult(result: TaskResult, task: TaskPlan): NamedValue[] {
  const action = task.action;
  if (!result.ok || result.result === undefined || action === undefined) return [];
  if (action.type === 'take' || (action.type === 'collect' && action.asJson !== true)) {
    return valuesJsonLosesIn(result.result);
  }
  return [];
}

/** The store key of a spilled result: one per task attempt, under the batch it belongs to. */
export function spillKey(task: TaskPlan): string {
  // A speculative copy runs beside its original: its own key, so neither overwrites what the other's answer names.
  const copy = task.speculative === true ? '.copy' : '';
  return `spill/${task.batchTime}/${task.stage.stageId}-${task.partition}-${task.attempt}${copy}.json`;
}

/**
 * An error as a task result carries it, without the stack frames V8 appends (`    at f (file:1:2)`): the message,
 * all its lines, is what the user acts on; the frames are the engine's, and the worker's log keeps them.
 */
export function withoutStackFrames(error: string): string {
  // Only lines shaped as V8 frames (`    at f (file:3:9)`, `    at file:3:9`, `    at f (<anonymous>)`): a message's own indented line, such
  // as `  at row 3: bad date`, stays.
  const lines = error
    .split('\n')
    .filter(
      (line) =>
        !/^\s+(at\s.*(:\d+:\d+\)?|\((native|<anonymous>|index \d+)\))$|\.\.\. \d+ lines? matching)/.test(
          line,
        ),
    );
  return lines.join('\n').trimEnd() || error;
}

/**
 * Opens a block store by URL: `file:///absolute/folder` is a `LocalFolderStore`, `s3://bucket/prefix` an
 * `S3BlockStore` on the shared S3 client. The S3 modules load only for S3 stores, so local runs never pay for
 * the SDK. `prefix` is a folder inside the URL's. Only a job's store (`jobStore`) tags its temporary keys
 * (`shuffle/`, `spill/`) for the lifecycle rule to expire: in the outputs store those are a user's folder names,
 * and an output under `shuffle/` was deleted a day after it was written.
 */
export async function openBlockStore(
  url: string,
  prefix = '',
  options: { readonly jobStore?: boolean } = {},
): Promise<BlockStore> {
  const parsed = parseStoreUrl(url);
  if (parsed.kind === 'file') return new LocalFolderStore(join(parsed.folder, prefix));
  const [{ S3BlockStore }, { s3Client }, { TEMPORARY_PREFIXES, TEMPORARY_TAG }] = await Promise.all([
    import('./S3BlockStore'),
    import('./awsClients'),
    import('./bucketLayout'),
  ]);
  return new S3BlockStore({
    client: s3Client(),
    bucket: parsed.bucket,
    prefix: folder(parsed.prefix + prefix),
    ...(options.jobStore ? { temporary: { prefixes: TEMPORARY_PREFIXES, tag: TEMPORARY_TAG } } : {}),
    // Throttling of a worker's reads and writes is logged in the line of the task it slowed down.
    retry: { onRetry: logTaskRetries('S3') },
  });
}

type StoreUrl = { kind: 'file'; folder: string } | { kind: 's3'; bucket: string; prefix: string };

function parseStoreUrl(url: string): StoreUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError(
      `store URL ${JSON.stringify(url)} is not a URL: expected s3://bucket/prefix or file:///folder`,
    );
  }
  if (parsed.protocol === 'file:') return { kind: 'file', folder: fileURLToPath(parsed) };
  if (parsed.protocol === 's3:' && parsed.hostname) {
    return {
      kind: 's3',
      bucket: parsed.hostname,
      prefix: folder(decodeURIComponent(parsed.pathname.slice(1))),
    };
  }
  throw new RangeError(
    `store URL ${JSON.stringify(url)} is not supported: expected s3://bucket/prefix or file:///folder`,
  );
}

/** `s3://bucket/static/` for a store in S3: where the deployment's static files are. */
function staticBaseOf(storeUrl: string): string | undefined {
  const parsed = parseStoreUrl(storeUrl);
  return parsed.kind === 's3' ? `s3://${parsed.bucket}/${STATIC_PREFIX}` : undefined;
}

/** A key prefix that is empty or ends with `/`. */
function folder(prefix: string): string {
  return prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
}

async function readJobDocument(store: BlockStore, jobKey: string): Promise<unknown> {
  const bytes = await store.get(jobKey);
  if (!bytes) throw new Error(`there is no job document under jobKey ${jobKey} in the worker's store`);
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new Error(`the job document under jobKey ${jobKey} is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * A static file a job names: an `s3://` object, or a path relative to the base, which is a local folder or an
 * `s3://bucket/static/` URL (a TypeScript job's `ssc.textFile('spam.txt')` on the serverless runtime, as a JSON
 * job's relative paths).
 */
export async function readStaticFile(
  path: string,
  baseDir: string,
  storeOf: (url: string) => Promise<BlockStore>,
): Promise<string> {
  if (baseDir.startsWith('s3://') && !path.startsWith('s3://') && !isAbsolute(path)) {
    if (path.split('/').includes('..')) {
      throw new Error(`the static file ${path} climbs out of ${baseDir}: name a file under it`);
    }
    return readStaticFile(`${baseDir}${path}`, baseDir, storeOf);
  }
  if (!path.startsWith('s3://')) return readFile(isAbsolute(path) ? path : resolve(baseDir, path), 'utf8');
  const { pathname, hostname } = new URL(path);
  const bytes = await (await storeOf(`s3://${hostname}`)).get(decodeURIComponent(pathname.slice(1)));
  if (!bytes) throw new Error(`the static file ${path} does not exist`);
  return new TextDecoder().decode(bytes);
}
