import { isAbsolute } from 'node:path';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { s3Client } from '../../lib/aws/awsClients';
import { FUNCTION_MEMORY_MB } from '../../lib/aws/deploymentContract';
import { LambdaHost } from '../../lib/devhost/LambdaHost';
import { freePort } from './freePort';
import { hostLambdaClient } from './hostLambdaClient';

const root = new URL('../..', import.meta.url).pathname;

/** Settings of {@link startServerlessHost}; every one but the bucket has the default most tests want. */
export interface ServerlessHostOptions {
  /** The job's bucket, created here (in LocalStack). */
  readonly bucket: string;
  /**
   * The worker's handler module, relative to the repository, or an absolute path (such as the entry
   * `functionModule` writes for job modules). Default: `functions/worker.ts`.
   */
  readonly workerModule?: string;
  /** The coordinator's handler module, as `workerModule`. Default: `functions/coordinator.ts`. */
  readonly coordinatorModule?: string;
  /** Default 60 s. */
  readonly coordinatorTimeoutMs?: number;
  /** Default 30 s. */
  readonly workerTimeoutMs?: number;
  /** Variables the coordinator gets on top of the LocalStack ones and the bucket's. */
  readonly coordinatorEnv?: Readonly<Record<string, string>>;
  /** Variables the worker gets on top of the LocalStack ones, the store's and the outputs'. */
  readonly workerEnv?: Readonly<Record<string, string>>;
  /**
   * More coordinator functions, by name, each with the coordinator's environment and timeout plus its own
   * variables (a chaos test's coordinators that freeze themselves at a named place). Default: none.
   */
  readonly moreCoordinators?: Readonly<
    Record<string, { readonly module: string; readonly env?: Readonly<Record<string, string>> }>
  >;
  /** Each line the functions print, by function name. Default: dropped. */
  readonly output?: (fn: string, line: string) => void;
}

/** A coordinator and a worker in our Lambda host, as the stack deploys them, with the calls the tests make. */
export interface ServerlessHost {
  readonly host: LambdaHost;
  readonly lambda: LambdaClient;
  /** A RequestResponse call; a function error throws with the body it returned. */
  invoke(functionName: string, payload: unknown): Promise<Record<string, any>>;
  /** An Event call, as a schedule or a tick sends it: the host queues it and answers at once. */
  invokeEvent(functionName: string, payload: unknown): Promise<void>;
  /** The bucket's keys under `prefix`, sorted. */
  keys(prefix: string): Promise<string[]>;
  /** An object of the bucket, as text. */
  text(key: string): Promise<string>;
  stop(): Promise<void>;
}

/** A handler module's path: absolute as given, else relative to the repository. */
const modulePath = (path: string) => (isAbsolute(path) ? path : `${root}${path}`);

/** The environment a function gets to reach LocalStack (started by the suite's globalSetup). */
export function localStackEnv(): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL!,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  };
}

/**
 * Creates the bucket and starts the coordinator and worker handlers in a Lambda host on a free port, with the
 * environment and memory the stack gives them (the coordinator invokes the worker through the host). The many serverless
 * tests that drive a job through the coordinator start the same pair; they differ in the worker, its
 * environment and the timeouts.
 */
export async function startServerlessHost(options: ServerlessHostOptions): Promise<ServerlessHost> {
  const { bucket } = options;
  await s3Client().send(new CreateBucketCommand({ Bucket: bucket }));
  const env = localStackEnv();
  const port = await freePort();
  const coordinatorEnv = {
    ...env,
    SLUICE_BUCKET: bucket,
    SLUICE_WORKER_FUNCTION: 'worker',
    AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${port}`,
    ...options.coordinatorEnv,
  };
  const coordinatorTimeoutMs = options.coordinatorTimeoutMs ?? 60_000;
  const host = await LambdaHost.start({
    port,
    functions: {
      coordinator: {
        module: modulePath(options.coordinatorModule ?? 'functions/coordinator.ts'),
        timeoutMs: coordinatorTimeoutMs,
        memoryMb: FUNCTION_MEMORY_MB.coordinator,
        env: coordinatorEnv,
      },
      ...Object.fromEntries(
        Object.entries(options.moreCoordinators ?? {}).map(([name, fn]) => [
          name,
          {
            module: modulePath(fn.module),
            timeoutMs: coordinatorTimeoutMs,
            memoryMb: FUNCTION_MEMORY_MB.coordinator,
            env: { ...coordinatorEnv, ...fn.env },
          },
        ]),
      ),
      worker: {
        module: modulePath(options.workerModule ?? 'functions/worker.ts'),
        timeoutMs: options.workerTimeoutMs ?? 30_000,
        memoryMb: FUNCTION_MEMORY_MB.worker,
        env: {
          ...env,
          SLUICE_STORE: `s3://${bucket}`,
          SLUICE_OUTPUTS: `s3://${bucket}/outputs/`,
          ...options.workerEnv,
        },
      },
    },
    output: options.output ?? (() => {}),
  });
  const lambda = hostLambdaClient(host.url);
  return {
    host,
    lambda,
    async invoke(functionName, payload) {
      const out = await lambda.send(
        new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }),
      );
      const body = JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8') || 'null');
      if (out.FunctionError) throw new Error(`${functionName} failed: ${JSON.stringify(body)}`);
      return body;
    },
    async invokeEvent(functionName, payload) {
      await lambda.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'Event',
          Payload: Buffer.from(JSON.stringify(payload)),
        }),
      );
    },
    async keys(prefix) {
      const out = await s3Client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      return (out.Contents ?? []).map((o) => o.Key!).sort();
    },
    async text(key) {
      const out = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return out.Body!.transformToString();
    },
    async stop() {
      lambda.destroy();
      await host.stop();
    },
  };
}
