import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OUTPUTS_PREFIX } from '../aws/bucketLayout';
import { ENV, FUNCTION_MEMORY_MB, FUNCTION_TIMEOUT_MS, TICK_MS } from '../aws/deploymentContract';
import { type JobModuleFile, writeHandlerEntry } from '../job/jobModuleFiles';
import { type HostedFunctionSpec, LambdaHost } from './LambdaHost';

/** Settings of {@link startLocalFunctions}. */
export interface LocalFunctionsOptions {
  /** The deployment's bucket (the stack's `BucketName` output). */
  readonly bucket: string;
  /** The deployment's Kinesis stream (the stack's `StreamName` output). */
  readonly stream: string;
  /** The loopback port of the Lambda Invoke API. Default 9001. */
  readonly port?: number;
  /** Worker invocations in flight at once. Default 8. */
  readonly workerConcurrency?: number;
  /**
   * The coordinator's timeout, in ms, as the stack was deployed with (`sluice:coordinatorTimeoutSeconds`): an
   * invocation drives batches until a margin before it, then hands over. Default 300,000, the stack's.
   */
  readonly coordinatorTimeoutMs?: number;
  /** The coordinator's memory in MB, as the stack was deployed with (`sluice:coordinatorMemoryMb`). Default 1024. */
  readonly coordinatorMemoryMb?: number;
  /** The worker's memory in MB, as the stack was deployed with (`sluice:workerMemoryMb`). Default 1769. */
  readonly workerMemoryMb?: number;
  /** How often the watchdog ticks the coordinator, in ms; 0 for never. Default 60,000, as the stack's rule. */
  readonly tickMs?: number;
  /** Where the functions' log lines go. Default: stderr, prefixed by the function's name. */
  readonly output?: (functionName: string, line: string) => void;
  /** The user modules deployed with the functions, as `sluice:jobModules` bundles them. Default: none. */
  readonly jobModules?: readonly JobModuleFile[];
}

/** The deployment's three functions, served on this machine. */
export interface LocalFunctions {
  /** The endpoint to give `aws lambda invoke --endpoint-url` or an SDK client. */
  readonly url: string;
  readonly host: LambdaHost;
  /** Stops the tick and the functions. */
  stop(): Promise<void>;
}

const functionsDir = fileURLToPath(new URL('../../functions/', import.meta.url));
/** The handlers' extension: TypeScript beside a checkout's sources, JavaScript in the built package (`dist/`). */
const handlerExtension = import.meta.url.endsWith('.js') ? '.js' : '.ts';

/**
 * The module a function's process loads: its handler, or, with job modules, the same generated entry the CDK
 * stack bundles (each module imported statically and registered by name, then the handler).
 */
export function functionModule(handler: string, jobModules: readonly JobModuleFile[] = []): string {
  const file = `${functionsDir}${handler}${handlerExtension}`;
  return jobModules.length === 0
    ? file
    : writeHandlerEntry(join(tmpdir(), 'sluice-entries'), file, jobModules);
}

/**
 * Serves the stack's `control`, `coordinator` and `worker` handlers through the Lambda Invoke API on a loopback
 * port, with the environment, memory and timeouts the CDK stack gives them, and ticks the coordinator as the stack's EventBridge rule
 * would. This is the stack on an emulator that cannot run Lambda (LocalStack without Docker): deploy it with
 * `-c sluice:functions=false`, and run the functions here. The functions reach each other through this host;
 * S3 and Kinesis through the process's `AWS_ENDPOINT_URL`.
 *
 * @example
 * const functions = await startLocalFunctions({ bucket: 'sluice-data', stream: 'tweets' });
 * // aws lambda invoke --endpoint-url http://127.0.0.1:9001 --function-name control ...
 */
export async function startLocalFunctions(options: LocalFunctionsOptions): Promise<LocalFunctions> {
  const host = await LambdaHost.start({
    port: options.port ?? 9001,
    ...(options.output ? { output: options.output } : {}),
    functions: localFunctionSpecs(options),
  });
  const tickMs = options.tickMs ?? TICK_MS;
  const tick =
    tickMs > 0
      ? setInterval(() => {
          // An asynchronous invocation through the Invoke API, as EventBridge makes it.
          fetch(`${host.url}/2015-03-31/functions/coordinator/invocations`, {
            method: 'POST',
            headers: { 'X-Amz-Invocation-Type': 'Event' },
            body: JSON.stringify({ action: 'tick' }),
          }).catch(() => {});
        }, tickMs)
      : undefined;
  return {
    url: host.url,
    host,
    stop: async () => {
      if (tick) clearInterval(tick);
      await host.stop();
    },
  };
}

/**
 * The three functions as the host serves them: each handler with the environment, memory and timeout the CDK
 * stack gives it, plus the way back to this host (`AWS_ENDPOINT_URL_LAMBDA`) for the functions that invoke others.
 */
export function localFunctionSpecs(options: LocalFunctionsOptions): Record<string, HostedFunctionSpec> {
  const url = `http://127.0.0.1:${options.port ?? 9001}`;
  const workerMemoryMb = options.workerMemoryMb ?? FUNCTION_MEMORY_MB.worker;
  const shared = {
    [ENV.bucket]: options.bucket,
    [ENV.stream]: options.stream,
    AWS_ENDPOINT_URL_LAMBDA: url,
  };
  return {
    control: {
      module: functionModule('control', options.jobModules),
      timeoutMs: FUNCTION_TIMEOUT_MS.control,
      memoryMb: FUNCTION_MEMORY_MB.control,
      env: { ...shared, [ENV.coordinatorFunction]: 'coordinator' },
    },
    coordinator: {
      module: functionModule('coordinator', options.jobModules),
      timeoutMs: options.coordinatorTimeoutMs ?? FUNCTION_TIMEOUT_MS.coordinator,
      memoryMb: options.coordinatorMemoryMb ?? FUNCTION_MEMORY_MB.coordinator,
      env: {
        ...shared,
        [ENV.workerFunction]: 'worker',
        [ENV.coordinatorFunction]: 'coordinator',
        [ENV.taskConcurrency]: String(options.workerConcurrency ?? 8),
        [ENV.workerMemoryMb]: String(workerMemoryMb),
      },
    },
    worker: {
      module: functionModule('worker', options.jobModules),
      timeoutMs: FUNCTION_TIMEOUT_MS.worker,
      memoryMb: workerMemoryMb,
      env: {
        [ENV.store]: `s3://${options.bucket}`,
        [ENV.outputs]: `s3://${options.bucket}/${OUTPUTS_PREFIX}`,
      },
    },
  };
}
