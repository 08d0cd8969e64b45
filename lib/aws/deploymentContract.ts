/**
 * What the CDK stack (`infra/`), the serverless runtime (`lib/aws/`) and the development Lambda host
 * (`lib/devhost/`) must agree on, named once: the functions' environment variables, the metrics the coordinator
 * writes and the stack charts and alarms on, the functions' timeouts and the watchdog's tick. A name typed in two
 * places drifts; a name imported from here cannot. The bucket's prefixes are part of the same contract and live in
 * `bucketLayout.ts`. This file imports nothing, so that `infra/` may load it without loading the runtime.
 */

/** The environment variables the stack gives the functions, which `CoordinatorRuntime.fromEnv` and `WorkerRuntime.fromEnv` read. */
export const ENV = {
  /** Coordinator and control: the deployment's bucket. */
  bucket: 'SLUICE_BUCKET',
  /** Coordinator and control: the default Kinesis stream of `kinesis` sources. */
  stream: 'SLUICE_STREAM',
  /** Coordinator: the function that runs tasks. */
  workerFunction: 'SLUICE_WORKER_FUNCTION',
  /** Coordinator (to hand over to itself) and control (to start jobs on): the coordinator function. */
  coordinatorFunction: 'SLUICE_COORDINATOR_FUNCTION',
  /** Coordinator: worker invocations in flight at once. */
  taskConcurrency: 'SLUICE_TASK_CONCURRENCY',
  /** Coordinator: how long a job lease lasts without renewal, in ms. */
  leaseTtlMs: 'SLUICE_LEASE_TTL_MS',
  /** Coordinator: the worker function's memory, for the cost report. */
  workerMemoryMb: 'SLUICE_WORKER_MEMORY_MB',
  /** Coordinator: prices of the cost report that differ from us-east-1's (`AwsPrices.ts`). */
  prices: 'SLUICE_PRICES',
  /** Worker: the block store's URL, `s3://bucket/prefix` or `file:///folder`. */
  store: 'SLUICE_STORE',
  /** Worker: where outputs go (default: the store). */
  outputs: 'SLUICE_OUTPUTS',
  /** Worker: a development worker's folder of job modules and static files. */
  baseDir: 'SLUICE_BASE_DIR',
  /** Worker: the size above which a task's result is spilled to the store, in bytes. */
  spillBytes: 'SLUICE_SPILL_BYTES',
  /** Every function of a stack with job modules: their names, comma-separated, for the logs. */
  jobModules: 'SLUICE_JOB_MODULES',
} as const;

/** The CloudWatch namespace of the coordinator's embedded-metric lines (`emfMetrics.ts`). */
export const METRICS_NAMESPACE = 'Sluice';

/** The metrics the stack's dashboard and alarm read; `emfMetrics.ts` writes them under these names. */
export const METRIC = {
  schedulingDelay: 'SchedulingDelay',
  processingTime: 'ProcessingTime',
  totalDelay: 'TotalDelay',
  /** Batches in a row whose total delay grew: the stability signal the stack's alarm watches. */
  delayGrowingFor: 'TotalDelayGrowingFor',
} as const;

/** The functions' timeouts in the stack, in ms, which the development host serves them with too. */
export const FUNCTION_TIMEOUT_MS = {
  control: 30_000,
  /** The default; `sluice:coordinatorTimeoutSeconds` changes it. The coordinator hands over before it runs out. */
  coordinator: 300_000,
  worker: 120_000,
} as const;

/** The coordinator's timeouts `sluice:coordinatorTimeoutSeconds` takes, in seconds (Lambda allows up to 900). */
export const COORDINATOR_TIMEOUT_SECONDS = { min: 30, max: 900 } as const;

/** The memory sizes Lambda offers: whole megabytes from 128 MB to 10,240 MB. */
export const LAMBDA_MEMORY_MB = { min: 128, max: 10_240 } as const;

/**
 * The functions' memory in the stack, in MB, which the development host serves them with too: Lambda gives it to
 * a function's context (`memoryLimitInMB`, which Powertools logs as `function_memory_size`) and environment
 * (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, which the cost report bills the coordinator's time at).
 */
export const FUNCTION_MEMORY_MB = {
  control: 512,
  /** The default; `sluice:coordinatorMemoryMb` changes it. The coordinator runs one-partition stages itself. */
  coordinator: 1024,
  /** The default, one full vCPU; `sluice:workerMemoryMb` changes it. */
  worker: 1769,
} as const;

/** How often the watchdog ticks the coordinator, in ms: every minute, EventBridge's finest rate. */
export const TICK_MS = 60_000;
