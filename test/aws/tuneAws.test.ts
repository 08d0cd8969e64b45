import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BlockStore } from '../../lib/aws/S3BlockStore';
import { type LocalFunctions, startLocalFunctions } from '../../lib/devhost/localFunctions';
import { recommend } from '../../lib/local/tune/recommend';
import type { TuneReport } from '../../lib/local/tune/tuneCommand';
import { judgeStability } from '../../lib/scheduler/judgeStability';
import { freePort } from '../helpers/freePort';
import { awsTestConfig, testKinesisClient, testS3Client, testStreams, uniqueName } from './localstack';

/**
 * `sluice tune --aws` against the stack on the emulators, with no mock in the path: LocalStack's S3 and Kinesis,
 * and the stack's control, coordinator and worker handlers in our Lambda host (as `sluice lambda-host` serves
 * them). A search of one configuration, with at most one short trial at a given rate (and one at the bottom of
 * the range if it does not hold), must reach a verdict by the local rule, on batches that read what the command
 * put into the stream.
 */

const root = new URL('../..', import.meta.url).pathname;
const bucket = uniqueName('tune');
const streams = testStreams(testKinesisClient(), 'tune');
let stream: string;
let functions: LocalFunctions;
let dir: string;

beforeAll(async () => {
  await testS3Client().send(new CreateBucketCommand({ Bucket: bucket }));
  stream = await streams.create(1);
  functions = await startLocalFunctions({
    bucket,
    stream,
    port: await freePort(),
    tickMs: 0,
    output: () => {},
  });
  dir = await mkdtemp(join(tmpdir(), 'sluice-tune-aws-'));
  // A job reading the deployment's stream and counting the words of each line, and a sample of its lines.
  await writeFile(
    join(dir, 'words.json'),
    JSON.stringify({
      name: 'stream-words',
      batchIntervalMs: 1000,
      sources: { lines: { type: 'kinesis' } },
      streams: {
        words: { from: 'lines', ops: [{ op: 'flatMap', fn: 'splitWords' }, { op: 'countByValue' }] },
      },
      outputs: [{ stream: 'words', type: 'print' }],
    }),
  );
  await writeFile(join(dir, 'lines.txt'), 'to be or not to be\nthat is the question\n');
}, 120_000);

afterAll(async () => {
  await functions?.stop();
  await streams.deleteAll();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('sluice tune --aws', () => {
  it('runs its trials through the control function, feeds the stream at the rate tried, and judges them', async () => {
    // when the job is tuned on the stack: one interval, one partition count, a first trial at 20 lines/s
    const { endpoint, region, credentials } = awsTestConfig();
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            join(root, 'lib/local/sluice.mjs'),
            'tune',
            'words.json',
            '--aws',
            '--control',
            'control',
            '--stream',
            stream,
            '--sample',
            'lines.txt',
            '--intervals',
            '1s',
            '--partitions',
            '2',
            '--start-rate',
            '20',
            '--max-trials',
            '1',
            '--trial',
            '3s',
            '--budget',
            '30s',
            '--out',
            'tune.json',
          ],
          {
            cwd: dir,
            env: {
              ...process.env,
              AWS_ENDPOINT_URL: endpoint,
              AWS_ENDPOINT_URL_LAMBDA: functions.url,
              AWS_REGION: region,
              AWS_ACCESS_KEY_ID: credentials.accessKeyId,
              AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
            },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      },
    );
    // then it ends with its table and recommendation, and its report says where the trials ran
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^interval\s+partitions\s+estimate\/s\s+sustained\/s/);
    const report = JSON.parse(await readFile(join(dir, 'tune.json'), 'utf8')) as TuneReport;
    expect(report.settings.ranOn).toEqual({
      on: 'aws',
      control: 'control',
      jobs: 'stream-words-tune-1, stream-words-tune-2, …',
      stream,
    });
    expect(report.results).toHaveLength(1);
    const config = report.results[0]!;
    expect(config.error).toBeUndefined();
    expect(config.estimatePerSec).toBe(0);
    // and the first trial ran at the rate given, on the real clock; a second only at the bottom of the range
    const trials = config.trials;
    expect(trials[0]).toMatchObject({ ratePerSec: 20, clock: 'system' });
    expect(trials.length).toBeLessThanOrEqual(2);
    if (trials.length === 2) expect(trials[0]!.stable).toBe(false);
    for (const trial of trials) {
      // each ran its batches on the stack and read the lines put into the stream
      expect(trial.batches.reduce((n, b) => n + b.records, 0)).toBeGreaterThan(0);
      if (trial.reason.startsWith('stopped early')) {
        // a trial whose backlog grew past 3 intervals after its first batch (cold starts) is stopped there
        expect(trial.stable).toBe(false);
        expect(trial.batches.slice(1).some((b) => b.totalDelayMs > 3000)).toBe(true);
      } else {
        // and the others got the local rule's verdict on their 3 batches
        expect(trial.batches.map((b) => b.batchTime)).toEqual([1000, 2000, 3000]);
        expect({ stable: trial.stable, reason: trial.reason }).toEqual(
          judgeStability(trial.batches, 3, 1000, { lastBatches: 2 }),
        );
      }
    }
    expect(report.recommendation).toEqual(recommend(report.results));
    // and each trial's job was reset once read: no metrics, no store left in the bucket
    const left = await new S3BlockStore({ client: testS3Client(), bucket }).list('jobs/stream-words-tune-1/');
    expect(left).toContain('jobs/stream-words-tune-1/control.json');
    expect(left.filter((key) => key.endsWith('/metrics.json') || key.includes('/store/'))).toEqual([]);
    expect(result.stdout).toContain(report.recommendation.text);
  }, 240_000);
});
