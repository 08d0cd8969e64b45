import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_MEMORY_MB } from '../../lib/aws/deploymentContract';
import { LambdaHost } from '../../lib/devhost/LambdaHost';
import { functionModule } from '../../lib/devhost/localFunctions';
import { findJobModules } from '../../lib/job/jobModuleFiles';
import { runBatches } from '../../lib/local/LocalRuntime';
import { BATCHES, scoreOf, tweetLines } from '../fixtures/jobs/moodJob';
import { freePort } from '../helpers/freePort';
import { putShardBatches } from '../helpers/kinesisFeed';
import { until } from '../helpers/until';

/** How often the tests here poll what they wait for. */
const POLL_MS = 500;

import { hostLambdaClient } from '../helpers/hostLambdaClient';
import { testKinesisClient, testS3Client, testStreams, uniqueName } from './localstack';

/**
 * A TypeScript job module with closures, deployed as `sluice:jobModules` deploys it, end to end with no mock in the
 * path: LocalStack serves S3 and Kinesis, our Lambda host runs the real control, coordinator and worker handlers
 * behind the same generated entry the CDK stack bundles (the fixture's modules imported statically and
 * registered by name), and the coordinator reaches the worker through @aws-sdk/client-lambda. The job's
 * `transform` joins the static spam list, its `updateStateByKey` function is the user's, and its `foreachRDD`
 * saves the batch with `saveAsTextFile` (its tasks on the worker) and writes through the AWS SDK; every batch must
 * equal local mode's on the same input.
 */

const fixtures = new URL('../fixtures/jobs/', import.meta.url).pathname;
const moodModule = join(fixtures, 'moodJob.ts');
const bucket = uniqueName('modules');
const job = `moods-${bucket.slice(-6)}`;
const s3 = testS3Client();
const kinesis = testKinesisClient();
const streams = testStreams(kinesis, 'moods');

let host: LambdaHost;
let lambda: LambdaClient;

async function invoke(name: string, payload: unknown): Promise<Record<string, any>> {
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)) }),
  );
  const body = JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8') || 'null');
  if (out.FunctionError) throw new Error(`${name} failed: ${JSON.stringify(body)}`);
  return body as Record<string, any>;
}

async function s3Text(key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return out.Body!.transformToString();
}

async function s3Keys(prefix: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

const sortRecords = (records: readonly unknown[]) => records.map((r) => JSON.stringify(r)).sort();

beforeAll(async () => {
  // given a bucket with the spam list under static/, and a 2-shard stream holding every batch's tweets in order
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'static/spam.txt',
      Body: await readFile(join(fixtures, 'spam.txt')),
    }),
  );
  // and batch 1000's text folder as an earlier run that wrote it with five partitions left it, complete
  for (const name of ['part-00000', 'part-00001', 'part-00002', 'part-00003', 'part-00004', '_SUCCESS']) {
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: `outputs/moods/text/1000/${name}`, Body: `old ${name}\n` }),
    );
  }
  const streamName = await streams.create(2);
  await putShardBatches(kinesis, streamName, tweetLines());
  // and the three functions with the fixture's modules deployed, each with the environment and memory the stack gives it
  const jobModules = findJobModules(fixtures, '/');
  const port = await freePort();
  const aws = {
    AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL!,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${port}`,
  };
  const shared = { ...aws, SLUICE_BUCKET: bucket, SLUICE_STREAM: streamName };
  host = await LambdaHost.start({
    port,
    output: () => {},
    functions: {
      control: {
        module: functionModule('control', jobModules),
        timeoutMs: 30_000,
        memoryMb: FUNCTION_MEMORY_MB.control,
        env: { ...shared, SLUICE_COORDINATOR_FUNCTION: 'coordinator' },
      },
      coordinator: {
        module: functionModule('coordinator', jobModules),
        timeoutMs: 120_000,
        memoryMb: FUNCTION_MEMORY_MB.coordinator,
        env: {
          ...shared,
          SLUICE_WORKER_FUNCTION: 'worker',
          SLUICE_COORDINATOR_FUNCTION: 'coordinator',
          SLUICE_TASK_CONCURRENCY: '4',
        },
      },
      worker: {
        module: functionModule('worker', jobModules),
        timeoutMs: 60_000,
        memoryMb: FUNCTION_MEMORY_MB.worker,
        env: { ...aws, SLUICE_STORE: `s3://${bucket}`, SLUICE_OUTPUTS: `s3://${bucket}/outputs/` },
      },
    },
  });
  lambda = hostLambdaClient(host.url);
}, 180_000);

afterAll(async () => {
  lambda?.destroy();
  await host?.stop();
  await streams.deleteAll();
});

describe('a TypeScript job module on the serverless runtime', () => {
  it('is refused at the edge (control and coordinator) when the module or export is not deployed, with the JSON path', async () => {
    // when a document names a module that is not deployed
    const answer = await invoke('control', { action: 'start', job: { name: job, module: 'moodJobs' } });
    // then the control function refuses it at "module", lists what was deployed, and writes nothing
    expect(answer).toMatchObject({ ok: false, issues: [{ path: 'module', value: 'moodJobs' }] });
    expect(answer.issues[0].message).toMatch(/deployed modules: moodFunctions, moodJob/);
    // and so does the coordinator, which accepts the same events
    const direct = await invoke('coordinator', { name: job, module: 'moodJob', export: 'nothing' });
    expect(direct).toMatchObject({ ok: false, issues: [{ path: 'export', value: 'nothing' }] });
    expect(direct.issues[0].message).toMatch(/its jobs: default, local/);
    expect(await s3Keys('jobs/')).toEqual([]);
  });

  it("runs with its closures (a transform joining static spam, the user's updateStateByKey, a foreachRDD) and matches local mode batch for batch", async () => {
    // when the control function starts it for every batch the stream holds
    const started = await invoke('control', {
      action: 'start',
      job: { name: job, module: 'moodJob' },
      batches: BATCHES,
    });
    expect(started).toMatchObject({ ok: true, state: 'running' });
    await until(
      'the last batch',
      async () => {
        const s = await invoke('control', { action: 'status', job });
        if (s.ok && s.state === 'stopped' && s.lastCompletedBatch !== BATCHES * 1000) {
          throw new Error(`the job stopped early: ${JSON.stringify(s)}`);
        }
        return s.state === 'stopped' && s.lastCompletedBatch === BATCHES * 1000;
      },
      240_000,
      POLL_MS,
    );

    // then local mode on the same records gives the same moods and the same foreachRDD reports
    const reports = await mkdtemp(join(tmpdir(), 'sluice-moods-'));
    const outputDir = join(reports, 'out');
    try {
      process.env.MOODS_REPORTS = reports;
      const local = await runBatches({ kind: 'module', path: moodModule, exportName: 'local' }, BATCHES, {
        workers: 0,
        outputDir,
      });
      expect(local.error).toBeUndefined();
      const expectedMoods = local.recordsOf('moods');
      expect(expectedMoods).toHaveLength(BATCHES);
      expect(await s3Keys('outputs/moods/state/')).toHaveLength(BATCHES);
      expect(await s3Keys('outputs/moods/report/')).toHaveLength(BATCHES);
      for (let k = 0; k < BATCHES; k++) {
        const batchTime = (k + 1) * 1000;
        const line = JSON.parse(await s3Text(`outputs/moods/state/${batchTime}.json`));
        expect(line.batchTime).toBe(batchTime);
        expect(sortRecords(line.records)).toEqual(sortRecords(expectedMoods[k]!));
        const report = JSON.parse(await s3Text(`outputs/moods/report/${batchTime}.json`));
        expect(report).toEqual(JSON.parse(await readFile(join(reports, `${batchTime}.json`), 'utf8')));
        // and rdd.saveAsTextFile wrote the folder local mode writes, part for part under outputs/ (batch 1000's
        // earlier parts and marker replaced: the rewrite leaves the folder a first run writes)
        const folder = `moods/text/${batchTime}`;
        const localFiles = (await readdir(join(outputDir, folder))).sort();
        expect(localFiles).toEqual(['_SUCCESS', 'part-00000', 'part-00001', 'part-00002']);
        expect(await s3Keys(`outputs/${folder}/`)).toEqual(localFiles.map((f) => `outputs/${folder}/${f}`));
        for (const file of localFiles) {
          const lines = async (text: Promise<string>) => (await text).split('\n').sort();
          expect(await lines(s3Text(`outputs/${folder}/${file}`))).toEqual(
            await lines(readFile(join(outputDir, folder, file), 'utf8')),
          );
        }
      }
      // and the spam filter dropped exactly the spammers' tweets, counted straight from the records
      const spammers = new Set(
        (await readFile(join(fixtures, 'spam.txt'), 'utf8')).split('\n').filter(Boolean),
      );
      const all = tweetLines()
        .flat(2)
        .map((line) => JSON.parse(line) as { user: string; text: string });
      const cleanTweets = all.filter((t) => !spammers.has(t.user));
      const clean = cleanTweets.length;
      expect(clean).toBeLessThan(all.length);
      let reported = 0;
      let scored = 0;
      let scoreSum = 0;
      for (let k = 0; k < BATCHES; k++) {
        const report = JSON.parse(await s3Text(`outputs/moods/report/${(k + 1) * 1000}.json`));
        reported += report.cleanTweets;
        // the join in the transform took the static spam list's partitioner on Lambda too
        expect(report.partitions).toBe(3);
        // the workers' partition counters merged in the coordinator agree with the batch's own sum
        expect(report.scores.count).toBe(report.cleanTweets);
        expect(report.scores.mean * report.scores.count).toBeCloseTo(report.scores.sum, 9);
        scored += report.scores.count;
        scoreSum += report.scores.sum;
      }
      expect(reported).toBe(clean);
      expect(scored).toBe(clean);
      expect(scoreSum).toBe(cleanTweets.reduce((sum, t) => sum + scoreOf(t.text), 0));
    } finally {
      delete process.env.MOODS_REPORTS;
      await rm(reports, { recursive: true, force: true });
    }
  }, 300_000);
});
