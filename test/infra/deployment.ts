import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { runLogged } from '../helpers/runLogged';

/**
 * The CDK stack on an emulator, driven the way a user drives it: `cdklocal bootstrap`, `cdklocal deploy` of the
 * real app in `cdk.json`, then the SDK against what was deployed, and `cdklocal destroy`.
 */

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const cdklocal = join(repoRoot, 'node_modules', '.bin', 'cdklocal');
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const region = 'us-east-1';

/** One stack on one emulator, with clients for it and the CLI's work folder. */
export class Deployment {
  readonly s3: S3Client;
  readonly kinesis: KinesisClient;
  readonly lambda: LambdaClient;
  /** The stack's outputs, once deployed. */
  outputs: Record<string, string> = {};
  private readonly log: string;
  private readonly cdkOut: string;

  constructor(
    readonly endpoint: string,
    readonly stackName: string,
    readonly workDir: string,
    /** Extra `-c key=value` context. */
    private readonly context: Readonly<Record<string, string>> = {},
    /** The project `cdk` runs in and its app: default this repository and the app of its `cdk.json`. */
    private readonly project?: { readonly cwd: string; readonly app: string },
  ) {
    mkdirSync(workDir, { recursive: true });
    this.log = join(workDir, 'cdk.log');
    this.cdkOut = join(workDir, 'cdk.out');
    this.s3 = new S3Client({ endpoint, region, credentials, forcePathStyle: true });
    this.kinesis = new KinesisClient({
      endpoint,
      region,
      credentials,
      requestHandler: new NodeHttpHandler(),
    });
    this.lambda = new LambdaClient({ endpoint, region, credentials, requestHandler: new NodeHttpHandler() });
  }

  /** Bootstraps the emulator's account and deploys the stack; the outputs are read from the CLI's outputs file. */
  async deploy(): Promise<Record<string, string>> {
    await this.cdk(['bootstrap', `aws://000000000000/${region}`]);
    const outputsFile = join(this.workDir, 'outputs.json');
    await this.cdk(['deploy', this.stackName, '--require-approval', 'never', '--outputs-file', outputsFile]);
    this.outputs = (JSON.parse(readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, string>>)[
      this.stackName
    ]!;
    return this.outputs;
  }

  /** Empties the bucket (CloudFormation deletes only an empty one), then destroys the stack. */
  async destroy(): Promise<void> {
    const bucket = this.outputs.BucketName;
    if (bucket) {
      for (;;) {
        const page = await this.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
        const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
        if (keys.length === 0) break;
        await this.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
      }
    }
    await this.cdk(['destroy', this.stackName, '--force']);
  }

  /** A stack output that must exist. */
  output(name: string): string {
    const value = this.outputs[name];
    if (value === undefined)
      throw new Error(`the stack has no output ${name}: ${JSON.stringify(this.outputs)}`);
    return value;
  }

  /** Invokes a function synchronously and returns its JSON answer; a function error throws. */
  async invoke(functionName: string, event: unknown): Promise<Record<string, any>> {
    const out = await this.lambda.send(
      new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(event)) }),
    );
    const body = Buffer.from(out.Payload ?? []).toString('utf8');
    if (out.FunctionError) throw new Error(`${functionName} failed: ${body}`);
    return JSON.parse(body) as Record<string, any>;
  }

  /** Every batch a `jsonl` output wrote under `outputs/<path>/`, in batch order. */
  async jsonlBatches(path: string): Promise<{ batchTime: number; records: unknown[] }[]> {
    const keys = await this.keys(`outputs/${path}/`);
    const batches = await Promise.all(
      keys.map(async (Key) => {
        const out = await this.s3.send(new GetObjectCommand({ Bucket: this.output('BucketName'), Key }));
        return JSON.parse(await out.Body!.transformToString()) as { batchTime: number; records: unknown[] };
      }),
    );
    return batches.sort((a, b) => a.batchTime - b.batchTime);
  }

  /** The keys under a prefix of the deployment's bucket. */
  async keys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.output('BucketName'),
          Prefix: prefix,
          ContinuationToken: token,
        }),
      );
      for (const o of page.Contents ?? []) keys.push(o.Key!);
      token = page.NextContinuationToken;
    } while (token);
    return keys;
  }

  /** Reads an object of the deployment's bucket as text. */
  async text(key: string): Promise<string> {
    const out = await this.s3.send(new GetObjectCommand({ Bucket: this.output('BucketName'), Key: key }));
    return out.Body!.transformToString();
  }

  private cdk(args: string[]): Promise<void> {
    const context = Object.entries({ 'sluice:stackName': this.stackName, ...this.context }).flatMap(
      ([key, value]) => ['-c', `${key}=${value}`],
    );
    const app = this.project ? ['--app', this.project.app] : [];
    return runLogged(
      cdklocal,
      [...args, ...app, ...context, '--output', this.cdkOut, '--no-notices', '--ci'],
      this.log,
      600_000,
      {
        cwd: this.project?.cwd ?? repoRoot,
        env: {
          ...process.env,
          AWS_ENDPOINT_URL: this.endpoint,
          AWS_ENDPOINT_URL_S3: this.endpoint,
          AWS_S3_FORCE_PATH_STYLE: '1',
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          AWS_REGION: region,
          AWS_DEFAULT_REGION: region,
          CDK_DISABLE_CLI_TELEMETRY: 'true',
        },
      },
    );
  }
}

/** Polls `check` every 500 ms until it returns a value other than undefined, or fails after `limitMs`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  limitMs: number,
): Promise<T> {
  const end = Date.now() + limitMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}
