import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lib/aws/awsClients';
import { untilFrozen, untilLeaseExpired } from '../helpers/frozenCoordinators';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';
import { uniqueName } from './localstack';

/**
 * Dead letters of batches a coordinator died in, on S3, where each batch's letters are one object that its rerun
 * rewrites. With concurrent batches, which of two batches reading one dataset writes its letters is whichever
 * computed it first: the run that died may have written them under one batch, and the rerun under the other,
 * leaving nothing to rewrite the first object with. The restore removes the objects of the batches it runs again.
 *
 * A static dataset with a bad line is joined by every batch, each computing it again; its letter is written by
 * the first. The gated worker (test/aws/fixtures/gatedWorker.ts) holds batch 1000's tasks in the first
 * coordinator, so batch 2000 computes the dataset first and writes its letter, and the coordinator dies before
 * batch 2000's checkpoint; in its successor it holds batch 2000's tasks until batch 1000 completed, so batch 1000
 * writes it. Without the removal the letter is in both objects.
 *
 * The restore removes every object after the checkpoint's last completed batch, not only those of the batches it
 * left pending: a generator's batches are never recorded as they are generated, nor are idle batches (their
 * checkpoint is skipped as adding nothing), so the checkpoint may not know a batch that wrote its letters; and a
 * batch completed ahead of an earlier one, whose checkpoint recorded its letters as written, has them written
 * again by its rerun, the restore forgetting them.
 *
 * The removal is a delete a coordinator decides at its restore; one that froze there and woke after a successor
 * reran the batch deleted the successor's letters, unless it first checks it still owns the job.
 */

const bucket = uniqueName('letters-rerun');
const BATCHES = 4;
const gates = mkdtempSync(join(tmpdir(), 'sluice-gates-'));
const BAD_LINE = 'not json in the user list';
/** Batch k's object. */
const input = Array.from({ length: BATCHES }, (_, k) => [
  JSON.stringify({ u: 'u0', n: k }),
  JSON.stringify({ u: 'u1', n: k + 1 }),
]);

/** Each batch takes one object of `input/`; a prefix with none leaves every batch idle. */
const s3Objects = (prefix = 'input/') => ({
  type: 's3Prefix',
  bucket,
  prefix,
  maxObjectsPerBatch: 1,
  partitions: 1,
});
/**
 * Two records a batch, made again from the batch's time: a source that replays by time, so no checkpoint is
 * written as a batch is generated, and the newest one does not know the batches generated after it.
 */
const generated = { type: 'generator', kind: 'kv', ratePerSec: 2, keys: 2, partitions: 1 };

const jobDocument = (name: string, lines: object = s3Objects()) => ({
  name,
  batchIntervalMs: 1000,
  concurrentJobs: 2,
  sources: { lines },
  datasets: {
    users: {
      type: 'textFile',
      path: 'users.txt',
      // Two: a one-partition stage runs in the coordinator, which no gate holds.
      partitions: 2,
      ops: [
        { op: 'map', fn: 'parseJson' },
        { op: 'map', expr: '[u, name]' },
      ],
    },
  },
  streams: {
    named: {
      from: 'lines',
      ops: [
        ...('prefix' in lines
          ? [
              { op: 'map', fn: 'parseJson' },
              { op: 'map', expr: '[u, n]' },
            ]
          : [{ op: 'map', expr: '[key, value]' }]),
        { op: 'leftOuterJoin', with: 'users' },
      ],
    },
  },
  outputs: [{ stream: 'named', type: 'saveAsTextFiles', prefix: `${name}/named`, suffix: 'txt' }],
});

let serverless: ServerlessHost;
/** Called with each completed batch's metric line. */
let onBatchDone: (job: string, batchTime: number) => void = () => {};

beforeAll(async () => {
  serverless = await startServerlessHost({
    bucket,
    workerModule: 'test/aws/fixtures/gatedWorker.ts',
    coordinatorEnv: { SLUICE_COORDINATOR_FUNCTION: 'coordinator', SLUICE_LEASE_TTL_MS: '2000' },
    moreCoordinators: {
      'crash-checkpoint-2000': {
        module: 'functions/coordinator.ts',
        env: { SLUICE_CRASH_AT: 'checkpoint:2000' },
      },
      'crash-checkpoint-3000': {
        module: 'functions/coordinator.ts',
        env: { SLUICE_CRASH_AT: 'checkpoint:3000' },
      },
      'crash-checkpoint-1000': {
        module: 'functions/coordinator.ts',
        env: { SLUICE_CRASH_AT: 'checkpoint:1000' },
      },
      // Stops itself (SIGSTOP) in its restore, as it is about to delete the letters of the batches it runs again.
      'frozen-in-restore': {
        module: 'test/aws/fixtures/pausingCoordinator.ts',
        env: { SLUICE_TEST_PAUSE_AT: 'restoreCheck' },
      },
    },
    workerEnv: { SLUICE_TEST_GATE_DIR: gates },
    output: (_fn, line) => {
      if (!line.startsWith('{"_aws"')) return;
      const metric = JSON.parse(line) as { Job: string; BatchTime: number; Error?: string };
      if (metric.Error === undefined) onBatchDone(metric.Job, metric.BatchTime);
    },
  });
  await s3Client().send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'static/users.txt',
      Body: `${JSON.stringify({ u: 'u0', name: 'Ada' })}\n${BAD_LINE}\n`,
    }),
  );
  for (const [k, lines] of input.entries()) {
    await s3Client().send(
      new PutObjectCommand({ Bucket: bucket, Key: `input/b${k}.jsonl`, Body: `${lines.join('\n')}\n` }),
    );
  }
}, 120_000);

afterAll(async () => {
  await serverless?.stop();
});

/** Holds job `name`'s tasks of batch `batchTime` writing an output whose path contains `output` (any task: ''). */
function gate(name: string, batchTime: number, output: string) {
  writeFileSync(join(gates, `${name}@${batchTime}.closed`), output);
  return { open: () => writeFileSync(join(gates, `${name}@${batchTime}.open`), '') };
}

/** Every dead letter of job `name`, by the batch object it is in. */
async function lettersOf(name: string): Promise<Array<{ object: string; record: unknown }>> {
  const keys = await serverless.keys(`jobs/${name}/store/dead-letter/`);
  const letters = await Promise.all(
    keys.map(async (key) =>
      (await serverless.text(key))
        .split('\n')
        .filter(Boolean)
        .map((line) => ({ object: key.slice(key.lastIndexOf('/') + 1), record: JSON.parse(line).record })),
    ),
  );
  return letters.flat();
}

/**
 * Runs job `name` in a coordinator in which batch 2000 computed the user list first (batch 1000 held back), wrote
 * its bad line, and died before batch 2000's checkpoint, then in a successor that holds batch 2000 back until
 * batch 1000 completed; returns the letters after each.
 */
async function runWithLetterMoved(name: string, lines?: object, crash = 'crash-checkpoint-2000') {
  const first = gate(name, 1000, '');
  try {
    await expect(
      serverless.invoke(crash, {
        action: 'start',
        job: jobDocument(name, lines),
        batches: BATCHES,
      }),
    ).rejects.toThrow(/Runtime exited with error: signal: killed/);
  } finally {
    first.open();
  }
  const afterCrash = await lettersOf(name);
  const second = gate(name, 2000, '');
  onBatchDone = (job, batchTime) => {
    if (job === name && batchTime === 1000) second.open();
  };
  try {
    await untilLeaseExpired(serverless, name);
    const answer = await serverless.invoke('coordinator', { action: 'tick', job: name });
    expect(answer.driven, JSON.stringify(answer)).toEqual([
      expect.objectContaining({ ok: true, lastBatch: BATCHES * 1000 }),
    ]);
  } finally {
    second.open();
  }
  return { afterCrash, afterRerun: await lettersOf(name) };
}

describe('a batch whose letters another batch wrote before the coordinator died', () => {
  it('has each letter written once after the restart', async () => {
    // given a coordinator in which batch 2000 wrote the user list's bad line (batch 1000 held back), then died
    // before batch 2000's checkpoint
    // when its successor runs the job on, batch 2000 held back until batch 1000 completed
    const { afterCrash, afterRerun } = await runWithLetterMoved(`rerun-${bucket.slice(-6)}`);
    // then the bad line is one letter, batch 1000's, which computed the list first in the rerun
    expect(afterCrash).toEqual([{ object: '2000.jsonl', record: BAD_LINE }]);
    expect(afterRerun).toEqual([{ object: '1000.jsonl', record: BAD_LINE }]);
  }, 90_000);

  it('has each letter written once after the restart of a source that replays by time', async () => {
    // given the same with a generator, whose batches no checkpoint records as they are generated: the newest
    // checkpoint when the coordinator died, the one before batch 1, leaves no batch pending
    // when its successor runs the job on
    const { afterCrash, afterRerun } = await runWithLetterMoved(`gen-${bucket.slice(-6)}`, generated);
    // then batch 2000's object, which no pending batch named, is gone all the same
    expect(afterCrash).toEqual([{ object: '2000.jsonl', record: BAD_LINE }]);
    expect(afterRerun).toEqual([{ object: '1000.jsonl', record: BAD_LINE }]);
  }, 90_000);

  it('has each letter written once after the restart of idle batches', async () => {
    // given the same with batches that take nothing from a source that does not replay by time (a capped queue):
    // each batch's checkpoint as it is generated is skipped as adding nothing, so the newest one when the
    // coordinator died, the one before batch 1, leaves no batch pending
    // when its successor runs the job on
    const { afterCrash, afterRerun } = await runWithLetterMoved(`idle-${bucket.slice(-6)}`, {
      type: 'queue',
      batches: [],
      maxRatePerSec: 10,
    });
    // then batch 2000's object, which no pending batch named, is gone all the same
    expect(afterCrash).toEqual([{ object: '2000.jsonl', record: BAD_LINE }]);
    expect(afterRerun).toEqual([{ object: '1000.jsonl', record: BAD_LINE }]);
  }, 90_000);

  it('has each letter written once after the restart of a batch completed ahead', async () => {
    // given idle batches, in which batch 2000 wrote the user list's bad line (batch 1000 held back) and completed,
    // its checkpoint recording that letter but no batch completed, and the coordinator died before batch 3000's
    // checkpoint (a batch that writes a letter of a named dataset, as every letter of a job document, is never
    // idle to the checkpoint: its checkpoint records the letter, and is not skipped)
    // when its successor runs the job on, batch 2000 held back until batch 1000 completed
    const { afterCrash, afterRerun } = await runWithLetterMoved(
      `ahead-${bucket.slice(-6)}`,
      { type: 'queue', batches: [] },
      'crash-checkpoint-3000',
    );
    // then the bad line is one letter: the restore removed batch 2000's object and forgot that it was written, so
    // the rerun wrote it again
    expect(afterCrash).toEqual([{ object: '2000.jsonl', record: BAD_LINE }]);
    expect(afterRerun).toEqual([{ object: '1000.jsonl', record: BAD_LINE }]);
  }, 90_000);
});

describe('a coordinator frozen in its restore, woken after its successor reran the batches', () => {
  it('deletes none of the letters its successor wrote', async () => {
    // given a coordinator that died after batch 1000 wrote the user list's bad line, before its checkpoint
    const name = `restore-${bucket.slice(-6)}`;
    await expect(
      serverless.invoke('crash-checkpoint-1000', {
        action: 'start',
        job: jobDocument(name),
        batches: BATCHES,
      }),
    ).rejects.toThrow(/Runtime exited with error: signal: killed/);
    expect(await lettersOf(name)).toEqual([{ object: '1000.jsonl', record: BAD_LINE }]);
    // and the next one, frozen in its restore as it was about to delete that object (batch 1000 runs again)
    await untilLeaseExpired(serverless, name);
    const frozen = serverless.invoke('frozen-in-restore', { action: 'tick', job: name });
    await untilFrozen(serverless, 'frozen-in-restore');
    // and a successor that took the job over from it, reran batch 1000 and ran the job to its end
    await untilLeaseExpired(serverless, name);
    const answer = await serverless.invoke('coordinator', { action: 'tick', job: name });
    expect(answer.driven, JSON.stringify(answer)).toEqual([
      expect.objectContaining({ ok: true, lastBatch: BATCHES * 1000 }),
    ]);
    expect(await lettersOf(name)).toEqual([{ object: '1000.jsonl', record: BAD_LINE }]);
    // when the frozen one wakes
    process.kill(serverless.host.pidOf('frozen-in-restore')!, 'SIGCONT');
    await frozen.catch(() => {});
    // then the successor's letter is still there: the frozen one found it had lost the job before deleting it
    expect(await lettersOf(name)).toEqual([{ object: '1000.jsonl', record: BAD_LINE }]);
  }, 90_000);
});
