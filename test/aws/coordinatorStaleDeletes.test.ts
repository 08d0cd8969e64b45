import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lib/aws/awsClients';
import { jobStorePrefix } from '../../lib/aws/bucketLayout';
import { untilFrozen, untilLeaseExpired } from '../helpers/frozenCoordinators';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';
import { until } from '../helpers/until';
import { uniqueName } from './localstack';

/**
 * The deletes of a coordinator that wakes after its successor took the job over (see `FencedStore`): S3 cannot make
 * a delete conditional, so a stale coordinator that does not know yet that it lost the job must not delete what its
 * successor relies on. A run starts by deleting the shuffle data earlier drivers left; the coordinator here freezes
 * (SIGSTOP, test/aws/fixtures/pausingCoordinator.ts) just before that sweep, and wakes while its successor's first
 * batch waits between its map stage (whose shuffle output is in the store) and its reduce tasks, which the gated
 * worker holds back (test/aws/fixtures/gatedWorker.ts). A sweep without the ownership check deletes the successor's
 * shuffle output, and the successor's batch fails.
 */

const suffix = Math.random().toString(36).slice(2, 8);
const bucket = uniqueName('stale-deletes');
const name = `stale-sweep-${suffix}`;
const store = jobStorePrefix(name);
/** Short leases: the frozen coordinator's job is taken over 2 s later. */
const LEASE_TTL_MS = 2000;
const gates = mkdtempSync(join(tmpdir(), 'sluice-gates-'));

/** Word counts of one object per batch, every map output in the store (none inline), written as text folders. */
const job = {
  name,
  batchIntervalMs: 1000,
  shuffle: { inlineMaxBytes: 0 },
  sources: {
    lines: { type: 's3Prefix', bucket, prefix: 'input/', maxObjectsPerBatch: 1, partitions: 2 },
  },
  streams: {
    counts: {
      from: 'lines',
      ops: [
        { op: 'flatMap', fn: 'splitWords' },
        { op: 'map', expr: '[$, 1]' },
        { op: 'reduceByKey', fn: 'sum', partitions: 2 },
      ],
    },
  },
  outputs: [{ stream: 'counts', type: 'saveAsTextFiles', prefix: `${name}/counts`, suffix: 'txt' }],
};

let serverless: ServerlessHost;

beforeAll(async () => {
  serverless = await startServerlessHost({
    bucket,
    workerModule: 'test/aws/fixtures/gatedWorker.ts',
    coordinatorEnv: { SLUICE_COORDINATOR_FUNCTION: 'coordinator', SLUICE_LEASE_TTL_MS: String(LEASE_TTL_MS) },
    moreCoordinators: {
      'frozen-at-sweep': {
        module: 'test/aws/fixtures/pausingCoordinator.ts',
        env: { SLUICE_TEST_PAUSE_AT: 'sweep' },
      },
    },
    workerEnv: {
      SLUICE_TEST_GATE_DIR: gates,
      SLUICE_TEST_GATE_BATCH: '1000',
      SLUICE_TEST_GATE_OUTPUT: '/counts-',
    },
  });
  for (const [k, body] of ['a b\nb c\n', 'c d\n'].entries()) {
    await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: `input/b${k}.txt`, Body: body }));
  }
}, 120_000);

afterAll(async () => {
  // Whatever happened, the held tasks may go on, so the host stops cleanly.
  writeFileSync(join(gates, `${name}.open`), '');
  await serverless?.stop();
  rmSync(gates, { recursive: true, force: true });
});

/** The lines of batch `batchTime`'s text folder, sorted. */
async function folderLines(batchTime: number): Promise<string[]> {
  const keys = await serverless.keys(`outputs/${name}/counts-${batchTime}.txt/part-`);
  const parts = await Promise.all(keys.map((key) => serverless.text(key)));
  return parts.flatMap((part) => part.split('\n').filter((line) => line !== '')).sort();
}

describe('a coordinator that wakes, before its first checkpoint, after its successor took the job over', () => {
  it('deletes none of the shuffle output its successor’s running batch reads', async () => {
    // given a coordinator frozen as its run was about to delete the shuffle data earlier drivers left
    writeFileSync(join(gates, `${name}.closed`), '');
    const stale = serverless.invoke('frozen-at-sweep', { action: 'start', job, batches: 2 });
    await untilFrozen(serverless, 'frozen-at-sweep');
    // and a successor that took the job over once the lease expired, its first batch's map output in the store
    // and its reduce tasks held back
    await untilLeaseExpired(serverless, name);
    const successor = serverless.invoke('coordinator', { action: 'tick', job: name });
    // (awaited below; should an assertion fail first, the host's stop ends the call)
    successor.catch(() => {});
    await until(
      'the successor’s map output',
      async () => (await serverless.keys(`${store}shuffle/1000/`)).length === 2,
      30_000,
      100,
    );
    const shuffleOutput = await serverless.keys(`${store}shuffle/`);
    // when the frozen coordinator wakes and runs on
    process.kill(serverless.host.pidOf('frozen-at-sweep')!, 'SIGCONT');
    const answer = await stale;
    // then it found it had lost the job, and the successor's shuffle output is still there
    expect(answer.note).toMatch(/lost the job to another coordinator/);
    expect(await serverless.keys(`${store}shuffle/`)).toEqual(shuffleOutput);
    // and once its reduce tasks go on, the successor runs the job to its end with every word counted
    writeFileSync(join(gates, `${name}.open`), '');
    expect((await successor).driven).toEqual([expect.objectContaining({ ok: true, lastBatch: 2000 })]);
    expect(await folderLines(1000)).toEqual(['(a,1)', '(b,2)', '(c,1)']);
    expect(await folderLines(2000)).toEqual(['(c,1)', '(d,1)']);
  }, 90_000);
});
