import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lib/aws/awsClients';
import { functionModule } from '../../lib/devhost/localFunctions';
import { findJobModules } from '../../lib/job/jobModuleFiles';
import { runBatches } from '../../lib/local/LocalRuntime';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';
import { until } from '../helpers/until';

/**
 * Records holding Infinity, -Infinity and NaN (as a division or an overflow in a function of the user's makes
 * them) give the driver the same on Lambda as locally, though a Lambda worker's task result travels as JSON, which
 * writes them as null: `print` shows `(a,Infinity)` in both modes, the actions of a `foreachRDD` (`take`, `first`,
 * `collect`, `top`) see the same records, and `jsonl`, which JSON writes, has null in both.
 *
 * The input is an `s3Prefix` source taking one object per batch in two partitions, so the tasks run on the worker
 * function, not in the coordinator; local mode reads the same lines from a queue. Every action takes the whole
 * batch, whose order both splits keep.
 */

const fixtures = new URL('fixtures/nonFiniteJob/', import.meta.url).pathname;
const suffix = Math.random().toString(36).slice(2, 8);
const bucket = `sluice-nonfinite-${suffix}`;
const job = `nonfinite-${suffix}`;
const input = [
  ['a,Infinity', 'b,-Infinity', 'c,NaN', 'd,1'],
  ['Infinity', 'e,2', 'NaN', 'f,Infinity'],
];
const BATCHES = input.length;

function jobDocument(name: string, source: Record<string, unknown>, jsonlPath: string) {
  return {
    name,
    batchIntervalMs: 1000,
    functions: 'nonFiniteFunctions.ts',
    sources: { lines: source },
    streams: { records: { from: 'lines', ops: [{ op: 'map', fn: 'toRecord' }] } },
    outputs: [
      { stream: 'records', type: 'print' },
      { stream: 'records', type: 'foreachRDD', fn: 'reportActions' },
      { stream: 'records', type: 'jsonl', path: jsonlPath },
    ],
  };
}

let serverless: ServerlessHost;
let seenOnLambda: string;
/** Every line the coordinator printed. */
const printed: string[] = [];

beforeAll(async () => {
  seenOnLambda = await mkdtemp(join(tmpdir(), 'sluice-nonfinite-lambda-'));
  const jobModules = findJobModules(join(fixtures, 'nonFiniteFunctions.ts'), '/');
  serverless = await startServerlessHost({
    bucket,
    coordinatorModule: functionModule('coordinator', jobModules),
    workerModule: functionModule('worker', jobModules),
    coordinatorEnv: { SLUICE_TEST_SEEN: seenOnLambda },
    output: (fn, line) => {
      if (fn === 'coordinator') printed.push(line);
    },
  });
  for (const [k, lines] of input.entries()) {
    await s3Client().send(
      new PutObjectCommand({ Bucket: bucket, Key: `input/b${k}.txt`, Body: `${lines.join('\n')}\n` }),
    );
  }
}, 180_000);

afterAll(async () => {
  await serverless?.stop();
  await rm(seenOnLambda, { recursive: true, force: true });
});

describe('records with numbers JSON cannot write', () => {
  it('reach the driver as they do locally: print, take, first, collect and top agree, and jsonl writes null in both', async () => {
    // given local mode's run of the job over a queue of the same per-batch lines
    const seenLocally = await mkdtemp(join(tmpdir(), 'sluice-nonfinite-local-'));
    const outputDir = join(seenLocally, 'out');
    let localText = '';
    try {
      process.env.SLUICE_TEST_SEEN = seenLocally;
      const local = await runBatches(
        {
          kind: 'document',
          document: jobDocument('local', { type: 'queue', partitions: 2, batches: input }, 'records.jsonl'),
          baseDir: fixtures,
        },
        BATCHES,
        { workers: 0, outputDir, write: (text) => (localText += text) },
      );
      expect(local.error).toBeUndefined();

      // when the coordinator runs the job's batches on the worker function
      await serverless.invokeEvent('coordinator', {
        action: 'start',
        job: jobDocument(
          job,
          { type: 's3Prefix', bucket, prefix: 'input/', maxObjectsPerBatch: 1, partitions: 2 },
          'records',
        ),
        batches: BATCHES,
      });
      await until(
        'the last batch',
        async () => {
          const s = await serverless.invoke('coordinator', { action: 'status', job });
          if (s.state === 'stopped' && s.lastCompletedBatch !== BATCHES * 1000) {
            throw new Error(`the job stopped early: ${JSON.stringify(s)}`);
          }
          return s.state === 'stopped' && s.lastCompletedBatch === BATCHES * 1000;
        },
        120_000,
        300,
      );

      // then print showed the same batches, Infinity and NaN by name
      expect(localText).toContain('(a,Infinity)\n(b,-Infinity)\n(c,NaN)\n(d,1)');
      const lambdaText = printed.join('\n');
      for (const block of localText.split('\n\n').filter(Boolean)) expect(lambdaText).toContain(block);
      // and the foreachRDD's actions saw the same records in both modes
      for (let k = 1; k <= BATCHES; k++) {
        const local = await readFile(join(seenLocally, `${k * 1000}.txt`), 'utf8');
        expect(local).toContain('Infinity');
        expect(await readFile(join(seenOnLambda, `${k * 1000}.txt`), 'utf8')).toBe(local);
      }
      // and jsonl wrote null for each, as JSON does, in both modes
      const localLines = (await readFile(join(outputDir, 'records.jsonl'), 'utf8'))
        .split('\n')
        .filter(Boolean);
      expect(localLines).toHaveLength(BATCHES);
      for (const line of localLines) {
        const { batchTime, records } = JSON.parse(line);
        expect(JSON.parse(await serverless.text(`outputs/records/${batchTime}.json`)).records).toEqual(
          records,
        );
      }
      expect(JSON.parse(localLines[0]!).records).toEqual([
        ['a', null],
        ['b', null],
        ['c', null],
        ['d', 1],
      ]);
    } finally {
      delete process.env.SLUICE_TEST_SEEN;
      await rm(seenLocally, { recursive: true, force: true });
    }
  }, 240_000);
});
