import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lib/aws/awsClients';
import { functionModule } from '../../lib/devhost/localFunctions';
import { findJobModules, writeHandlerEntry } from '../../lib/job/jobModuleFiles';
import { runBatches } from '../../lib/local/LocalRuntime';
import { untilFrozen, untilLeaseExpired } from '../helpers/frozenCoordinators';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';
import { INPUT } from './fixtures/sliceJob/sliceJob';
import { uniqueName } from './localstack';

/**
 * `slice` across a coordinator hand-over: a job whose every batch slices its stream over the last four batches
 * (kept with `ssc.remember`) is taken over by a successor after its coordinator died, or froze until its lease
 * expired, and the successor's batches slice over batches the first coordinator ran. The successor knows those
 * only from the metadata checkpoint (their input blocks), so every slice must still read exactly what local
 * mode's uninterrupted run reads: the same batches, each with its own records, once.
 */

const sliceJob = new URL('fixtures/sliceJob/sliceJob.ts', import.meta.url).pathname;
const pausingCoordinator = new URL('fixtures/pausingCoordinator.ts', import.meta.url).pathname;
const bucket = uniqueName('slice-handover');
const BATCHES = INPUT.length;
/** What each run's `foreachRDD` wrote, by run. */
let root: string;
let serverless: ServerlessHost;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sluice-slice-'));
  const jobModules = findJobModules(sliceJob, '/');
  const coordinator = functionModule('coordinator', jobModules);
  serverless = await startServerlessHost({
    bucket,
    coordinatorModule: coordinator,
    workerModule: functionModule('worker', jobModules),
    coordinatorEnv: {
      SLUICE_COORDINATOR_FUNCTION: 'coordinator',
      SLUICE_LEASE_TTL_MS: '2000',
      SLUICE_TEST_BUCKET: bucket,
      SLUICE_TEST_SEEN: join(root, 'lambda'),
    },
    workerEnv: { SLUICE_TEST_BUCKET: bucket },
    moreCoordinators: {
      // Dies once batch 3000's checkpoint is written: its successor resumes at batch 4000.
      'crash-after-3000': { module: coordinator, env: { SLUICE_CRASH_AT: 'cleanup:3000' } },
      // Dies once batch 3000 ran, before its checkpoint: its successor runs batch 3000 again.
      'crash-in-3000': { module: coordinator, env: { SLUICE_CRASH_AT: 'checkpoint:3000' } },
      // Stops itself (SIGSTOP) as it is about to write its 8th checkpoint, batch 4000's plan: batches 1000 to
      // 3000 completed.
      'frozen-at-4000': {
        module: writeHandlerEntry(join(tmpdir(), 'sluice-entries'), pausingCoordinator, jobModules),
        env: { SLUICE_TEST_PAUSE_AT: 'plan:8' },
      },
    },
  });
  for (const [k, lines] of INPUT.entries()) {
    await s3Client().send(
      new PutObjectCommand({ Bucket: bucket, Key: `input/b${k}.txt`, Body: `${lines.join('\n')}\n` }),
    );
  }
}, 120_000);

afterAll(async () => {
  await serverless?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

/** What each batch's slice read, by batch time, as the runs wrote it into `dir`. */
async function slicesIn(dir: string): Promise<Record<number, unknown>> {
  const slices: Record<number, unknown> = {};
  for (let t = 1000; t <= BATCHES * 1000; t += 1000) {
    slices[t] = JSON.parse(await readFile(join(dir, `${t}.json`), 'utf8'));
  }
  return slices;
}

/** Local mode's uninterrupted run of the job, over a queue of the same lines. */
async function localSlices(): Promise<Record<number, unknown>> {
  const dir = join(root, 'local');
  await mkdir(dir, { recursive: true });
  process.env.SLUICE_TEST_SEEN = dir;
  try {
    const run = await runBatches({ kind: 'module', path: sliceJob, exportName: 'default' }, BATCHES, {
      workers: 0,
    });
    expect(run.error).toBeUndefined();
  } finally {
    delete process.env.SLUICE_TEST_SEEN;
  }
  return slicesIn(dir);
}

/** The records of batch `k` (1-based), as the job maps them. */
const batch = (k: number) => INPUT[k - 1]!.map((line) => line.toUpperCase()).sort();

/**
 * Runs the job in `first`, then to its end in a successor once the lease expired, which runs batches
 * `resumedAt` to the last.
 */
async function handOver(name: string, first: () => Promise<void>, resumedAt = 4000): Promise<void> {
  await first();
  await untilLeaseExpired(serverless, name);
  const answer = await serverless.invoke('coordinator', { action: 'tick', job: name });
  expect(answer.driven, JSON.stringify(answer)).toEqual([
    expect.objectContaining({ ok: true, batches: BATCHES - resumedAt / 1000 + 1, lastBatch: BATCHES * 1000 }),
  ]);
}

/** Starts job `name` in coordinator function `fn`, which kills itself at its crash point. */
async function startDying(fn: string, name: string): Promise<void> {
  await expect(
    serverless.invoke(fn, { action: 'start', job: { name, module: 'sliceJob' }, batches: BATCHES }),
  ).rejects.toThrow(/Runtime exited with error: signal: killed/);
}

/** Empties the folder the coordinators' `foreachRDD` writes to, before a run. */
async function clearSeen(): Promise<void> {
  await rm(join(root, 'lambda'), { recursive: true, force: true });
  await mkdir(join(root, 'lambda'));
}

describe('slice on the serverless runtime', () => {
  let local: Record<number, unknown>;

  beforeAll(async () => {
    local = await localSlices();
    // The reference itself: batch 4000 slices batches 1000 to 4000, each with its own records.
    expect(local[4000]).toEqual([batch(1), batch(2), batch(3), batch(4)]);
    expect(local[6000]).toEqual([batch(3), batch(4), batch(5), batch(6)]);
  }, 60_000);

  it('reads what local mode reads after its coordinator died and a successor took over', async () => {
    // given a coordinator that ran batches 1000 to 3000 and died after batch 3000's checkpoint
    const name = `died-${bucket.slice(-6)}`;
    await clearSeen();
    // when a successor runs the job on, its batches slicing over those the first one ran
    await handOver(name, () => startDying('crash-after-3000', name));
    // then every batch's slice read what local mode's uninterrupted run read
    expect(await slicesIn(join(root, 'lambda'))).toEqual(local);
  }, 90_000);

  it('reads what local mode reads after its coordinator died in a batch that sliced', async () => {
    // given a coordinator that ran batch 3000, its slice included, and died before its checkpoint
    const name = `rerun-${bucket.slice(-6)}`;
    await clearSeen();
    // when a successor runs batch 3000 again, and the job on
    await handOver(name, () => startDying('crash-in-3000', name), 3000);
    // then every batch's slice read what local mode's uninterrupted run read
    expect(await slicesIn(join(root, 'lambda'))).toEqual(local);
  }, 90_000);

  it('reads what local mode reads after its coordinator froze until its lease expired', async () => {
    // given a coordinator that ran batches 1000 to 3000 and froze
    const name = `froze-${bucket.slice(-6)}`;
    await clearSeen();
    let frozen: Promise<unknown> = Promise.resolve();
    // when a successor takes the job over and runs it on
    await handOver(name, async () => {
      frozen = serverless
        .invoke('frozen-at-4000', { action: 'start', job: { name, module: 'sliceJob' }, batches: BATCHES })
        .catch(() => {});
      await untilFrozen(serverless, 'frozen-at-4000');
    });
    // and the frozen one wakes, to find it lost the job
    process.kill(serverless.host.pidOf('frozen-at-4000')!, 'SIGCONT');
    await frozen;
    // then every batch's slice read what local mode's uninterrupted run read
    expect(await slicesIn(join(root, 'lambda'))).toEqual(local);
  }, 90_000);
});
