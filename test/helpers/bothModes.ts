import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../../lib/aws/awsClients';
import { functionModule } from '../../lib/devhost/localFunctions';
import { findJobModules } from '../../lib/job/jobModuleFiles';
import { type BatchesResult, runBatches } from '../../lib/local/LocalRuntime';
import { type ServerlessHost, startServerlessHost } from './serverlessHost';
import { until } from './until';

/**
 * One job run in both modes on the same per-batch lines: locally over a queue, and on the serverless runtime (the
 * coordinator and the worker in our Lambda host, LocalStack's S3) over an `s3Prefix` source taking one object per
 * batch, both in two partitions, so the tasks run on the worker function. The job is a document whose `functions`
 * module is `file`, or the TypeScript job module `file` itself (its default export), deployed as
 * `sluice:jobModules` bundles it. A job module reads `SLUICE_TEST_BUCKET`'s `input/` when that is set (on the
 * functions), else its queue. Its functions may write what they saw to files of `SLUICE_TEST_SEEN`, a folder per
 * mode (the coordinator runs in a process of this machine).
 */
export interface BothModes {
  readonly serverless: ServerlessHost;
  /** The job's name on the serverless runtime. */
  readonly job: string;
  /** Runs the job locally; `printed` is what its `print` outputs printed. */
  runLocally(): Promise<{ result: BatchesResult; seen: string; outputDir: string; printed: string }>;
  /**
   * The batches `print` printed locally (`Time: …` header, records) that the coordinator did not print, line for
   * line: none when the modes agree.
   */
  printedOnlyLocally(localPrinted: string): string[];
  /** Runs the job on the serverless runtime to its last batch. */
  runServerless(): Promise<{ seen: string }>;
  stop(): Promise<void>;
}

/**
 * `document(name, source)` is the job, its `functions` module `file`; without `document`, `file` is the job module.
 * `input[k]` is the lines of batch k.
 */
export async function startBothModes(options: {
  readonly file: string;
  readonly input: readonly (readonly string[])[];
  readonly document?: (name: string, source: Record<string, unknown>) => Record<string, unknown>;
}): Promise<BothModes> {
  const { file, input, document } = options;
  const suffix = Math.random().toString(36).slice(2, 8);
  const bucket = `sluice-both-${suffix}`;
  const job = `both-${suffix}`;
  const root = await mkdtemp(join(tmpdir(), 'sluice-both-'));
  const seenOnLambda = join(root, 'lambda');
  const jobModules = findJobModules(file, '/');
  const printed: string[] = [];
  const serverless = await startServerlessHost({
    bucket,
    coordinatorModule: functionModule('coordinator', jobModules),
    workerModule: functionModule('worker', jobModules),
    coordinatorEnv: { SLUICE_TEST_SEEN: seenOnLambda, SLUICE_TEST_BUCKET: bucket },
    workerEnv: { SLUICE_TEST_BUCKET: bucket },
    output: (fn, line) => {
      if (fn === 'coordinator') printed.push(line);
    },
  });
  for (const [k, lines] of input.entries()) {
    await s3Client().send(
      new PutObjectCommand({ Bucket: bucket, Key: `input/b${k}.txt`, Body: `${lines.join('\n')}\n` }),
    );
  }
  const batches = input.length;
  return {
    serverless,
    job,
    printedOnlyLocally(localPrinted) {
      const lambdaText = printed.join('\n');
      return localPrinted.split('\n\n').filter((block) => block !== '' && !lambdaText.includes(block));
    },
    async runLocally() {
      let printedLocally = '';
      const seen = join(root, 'local');
      const outputDir = join(root, 'out');
      await mkdir(seen, { recursive: true });
      process.env.SLUICE_TEST_SEEN = seen;
      try {
        const source = { type: 'queue', partitions: 2, batches: input.map((lines) => [...lines]) };
        const result = await runBatches(
          document
            ? { kind: 'document', document: document('local', source), baseDir: dirname(file) }
            : { kind: 'module', path: file, exportName: 'default' },
          batches,
          {
            workers: 0,
            outputDir,
            write: (text) => {
              printedLocally += text;
            },
          },
        );
        return { result, seen, outputDir, printed: printedLocally };
      } finally {
        delete process.env.SLUICE_TEST_SEEN;
      }
    },
    async runServerless() {
      await mkdir(seenOnLambda, { recursive: true });
      const source = { type: 's3Prefix', bucket, prefix: 'input/', maxObjectsPerBatch: 1, partitions: 2 };
      const module = basename(file).replace(/\.[^.]+$/, '');
      await serverless.invokeEvent('coordinator', {
        action: 'start',
        job: document ? document(job, source) : { name: job, module },
        batches,
      });
      await until(
        'the last batch',
        async () => {
          const s = await serverless.invoke('coordinator', { action: 'status', job });
          if (s.state === 'stopped' && s.lastCompletedBatch !== batches * 1000) {
            throw new Error(`the job stopped early: ${JSON.stringify(s)}`);
          }
          return s.state === 'stopped' && s.lastCompletedBatch === batches * 1000;
        },
        120_000,
        300,
      );
      return { seen: seenOnLambda };
    },
    async stop() {
      await serverless.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
