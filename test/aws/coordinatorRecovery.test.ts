import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lib/aws/awsClients';
import { formatRecord } from '../../lib/executor/formatRecord';
import { runBatches } from '../../lib/local/LocalRuntime';
import { untilFrozen, untilLeaseExpired } from '../helpers/frozenCoordinators';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';
import { uniqueName } from './localstack';

/**
 * Recovery of the serverless runtime, held to local mode's standard: the real coordinator and worker handlers in
 * our Lambda host, LocalStack's S3, and one job with a running state, an incremental window, text folders, jsonl
 * outputs and dead letters, reading one object per batch (`s3Prefix`, `maxObjectsPerBatch: 1`), so that batch k
 * reads object k whatever the timing.
 *
 * - A coordinator whose process dies (`SLUICE_CRASH_AT`, the crash points of `lib/scheduler/crashPoint.ts`, in
 *   its environment only) at each place of a batch, then the next coordinator, once the lease expired: every
 *   output and dead letter is local mode's, each batch's once, and the job's store ends as an uninterrupted run's,
 *   but for temporary objects, which carry the tag the bucket's lifecycle rule expires.
 * - `concurrentJobs: 3`, with batch 1000 held back in its last output (test/aws/fixtures/gatedWorker.ts) until
 *   batch 3000 completed: each batch's outputs, text folders and dead letters under its own batch time, the
 *   state and windows local mode's; and the same with the coordinator killed as batch 3000 completes ahead of
 *   batch 1000.
 * - A coordinator frozen (SIGSTOP, test/aws/fixtures/pausingCoordinator.ts) in a batch until a successor ran the
 *   job to its end, then woken: no object of the job changes but the dead letters it was writing as it froze.
 *
 * Each fails when what it checks is broken: a scheduler that records batch 3000 as the last completed one while
 * batch 1000 still runs fails the second case; a restart that ignores the input its checkpoint recorded, the first;
 * an unconditional checkpoint write in `FencedStore`, the last.
 */

const suffix = Math.random().toString(36).slice(2, 8);
const bucket = uniqueName('recovery');
const BATCHES = 6;
/** Short leases: a killed coordinator's job is taken over 2 s later. */
const LEASE_TTL_MS = 2000;
/** The gated worker's folder of gate files (see test/aws/fixtures/gatedWorker.ts). */
const gates = mkdtempSync(join(tmpdir(), 'sluice-gates-'));
const GATED_BATCH = 1000;

/** Batch k's lines: users u0–u4 with small numbers, and a line that is not JSON in batches 2 and 5. */
function batchLines(k: number): string[] {
  const lines = Array.from({ length: 8 }, (_, i) =>
    JSON.stringify({ u: `u${(i * 3 + k) % 5}`, n: (i * 7 + k * 3) % 11 }),
  );
  if (k === 1 || k === 4) lines.splice(3, 0, `not json ${k}`);
  return lines;
}
const input = Array.from({ length: BATCHES }, (_, k) => batchLines(k));

/** Outputs compared as records: every jsonl stream. */
const JSONL = ['totals', 'windowed', 'counted'];
/** Outputs compared as text folders: the window's, and the last one, which the gated worker holds back. */
const FOLDERS = ['windowed', 'doubled'];

function jobDocument(name: string, source: Record<string, unknown>, outputs: unknown[], concurrentJobs = 1) {
  return {
    name,
    batchIntervalMs: 1000,
    checkpointIntervalMs: 2000,
    concurrentJobs,
    sources: { lines: source },
    streams: {
      recs: { from: 'lines', ops: [{ op: 'map', fn: 'parseJson' }] },
      pairs: { from: 'recs', ops: [{ op: 'map', expr: '[u, n]' }] },
      totals: { from: 'pairs', ops: [{ op: 'updateStateByKey', fn: 'sumState' }] },
      windowed: {
        from: 'pairs',
        ops: [{ op: 'reduceByKeyAndWindow', fn: 'sum', invFn: 'subtract', windowMs: 3000, slideMs: 1000 }],
      },
      counted: { from: 'recs', ops: [{ op: 'count' }] },
      doubled: { from: 'recs', ops: [{ op: 'map', expr: '{"u": u, "n2": n * 2}' }] },
    },
    outputs,
  };
}

/** The serverless document: a jsonl output per stream of JSONL, then the text folders, `doubled`'s last. */
const serverlessDocument = (name: string, concurrentJobs = 1) =>
  jobDocument(
    name,
    { type: 's3Prefix', bucket, prefix: 'input/', maxObjectsPerBatch: 1, partitions: 2 },
    [
      ...JSONL.map((stream) => ({ stream, type: 'jsonl', path: `${name}/${stream}` })),
      ...FOLDERS.map((stream) => ({
        stream,
        type: 'saveAsTextFiles',
        prefix: `${name}/${stream}`,
        suffix: 'txt',
      })),
    ],
    concurrentJobs,
  );

/** Local mode on the same per-batch records (a queue): the standard every run here is held to. */
let local: Awaited<ReturnType<typeof runBatches>>;

let serverless: ServerlessHost;
/** Every line the functions printed, by function. */
const lines: Array<{ fn: string; line: string }> = [];
/** Called with each completed batch's metric line: the concurrent case opens its gate from here. */
let onBatchDone: (job: string, batchTime: number) => void = () => {};

/** The crash points, each a coordinator function of its own that kills its process there (batch 3000). */
const CRASHES = ['task:3000', 'output:3000', 'checkpoint:3000', 'commit:3000', 'cleanup:3000'];
const crashFunction = (point: string) => `crash-${point.replace(':', '-')}`;

beforeAll(async () => {
  serverless = await startServerlessHost({
    bucket,
    workerModule: 'test/aws/fixtures/gatedWorker.ts',
    coordinatorEnv: {
      // Hand-overs and the ticks below go to the plain coordinator, never back to one that kills itself.
      SLUICE_COORDINATOR_FUNCTION: 'coordinator',
      SLUICE_LEASE_TTL_MS: String(LEASE_TTL_MS),
    },
    moreCoordinators: {
      ...Object.fromEntries(
        CRASHES.map((point) => [
          crashFunction(point),
          { module: 'functions/coordinator.ts', env: { SLUICE_CRASH_AT: point } },
        ]),
      ),
      // Freezes itself (SIGSTOP) as it is about to write batch 2000's dead letters: the batch's outputs are
      // written, its checkpoint is not.
      'frozen-in-2': {
        module: 'test/aws/fixtures/pausingCoordinator.ts',
        env: { SLUICE_TEST_PAUSE_AT: 'letters:2000' },
      },
      // Freezes a step earlier: as it is about to check it still owns the job, before those letters.
      'frozen-before-letters-2': {
        module: 'test/aws/fixtures/pausingCoordinator.ts',
        env: { SLUICE_TEST_PAUSE_AT: 'lettersCheck:2000' },
      },
    },
    workerEnv: {
      SLUICE_TEST_GATE_DIR: gates,
      SLUICE_TEST_GATE_BATCH: String(GATED_BATCH),
      SLUICE_TEST_GATE_OUTPUT: '/doubled-',
    },
    output: (fn, line) => {
      lines.push({ fn, line });
      if (process.env.SLUICE_TEST_VERBOSE) process.stderr.write(`[${fn}] ${line}\n`);
      if (!line.startsWith('{"_aws"')) return;
      const metric = JSON.parse(line) as { Job: string; BatchTime: number; Error?: string };
      if (metric.Error === undefined) onBatchDone(metric.Job, metric.BatchTime);
    },
  });
  const s3 = s3Client();
  for (const [k, batch] of input.entries()) {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `input/b${k}.jsonl`,
        Body: batch.map((line) => `${line}\n`).join(''),
      }),
    );
  }
  local = await runBatches(
    {
      kind: 'document',
      document: jobDocument(
        'local',
        { type: 'queue', partitions: 2, batches: input },
        [...new Set([...JSONL, ...FOLDERS])].map((name) => ({ stream: name, type: 'collectBatches', name })),
      ),
      baseDir: '/',
    },
    BATCHES,
    { workers: 0 },
  );
  expect(local.error).toBeUndefined();
}, 120_000);

afterAll(async () => {
  await serverless?.stop();
});

const sorted = (records: readonly unknown[]) => records.map((r) => JSON.stringify(r)).sort();
/** Dead letters as comparable lines, without the dataset's label (its number depends on the process). */
const letterLines = (letters: readonly Record<string, unknown>[]) =>
  letters.map(({ dataset: _label, ...letter }) => JSON.stringify(letter)).sort();

/**
 * What differs from local mode in job `name`'s outputs and dead letters: every jsonl output one object per batch
 * with the batch's records, every text folder complete with them, and each batch's letters in its own object.
 */
async function differencesFromLocal(name: string): Promise<string[]> {
  const differences: string[] = [];
  const times = Array.from({ length: BATCHES }, (_, k) => (k + 1) * 1000);
  for (const stream of JSONL) {
    const keys = await serverless.keys(`outputs/${name}/${stream}/`);
    const expected = times.map((t) => `outputs/${name}/${stream}/${t}.json`);
    if (JSON.stringify(keys) !== JSON.stringify(expected.sort())) differences.push(`${stream}: ${keys}`);
    for (const [k, t] of times.entries()) {
      const line = JSON.parse(await serverless.text(`outputs/${name}/${stream}/${t}.json`));
      const want = sorted(local.recordsOf(stream)[k]!);
      if (line.batchTime !== t || JSON.stringify(sorted(line.records)) !== JSON.stringify(want)) {
        differences.push(`${stream} @${t}: ${JSON.stringify(line)}, locally ${want}`);
      }
    }
  }
  for (const stream of FOLDERS) {
    for (const [k, t] of times.entries()) {
      const folder = `outputs/${name}/${stream}-${t}.txt/`;
      const keys = await serverless.keys(folder);
      if (!keys.includes(`${folder}_SUCCESS`)) differences.push(`${folder} has no _SUCCESS: ${keys}`);
      const parts = await Promise.all(
        keys.filter((key) => key.includes('/part-')).map((key) => serverless.text(key)),
      );
      const got = parts.flatMap((p) => p.split('\n').filter((l) => l !== '')).sort();
      const want = local.recordsOf(stream)[k]!.map(formatRecord).sort();
      if (JSON.stringify(got) !== JSON.stringify(want))
        differences.push(`${folder}: ${got}, locally ${want}`);
    }
  }
  // Each batch's letters in its own object, each letter once.
  for (const t of times) {
    const key = `jobs/${name}/store/dead-letter/${t}.jsonl`;
    const want = letterLines(local.deadLetters.filter((l) => l.batchTime === t) as never[]);
    const stored = (await serverless.keys(key)).length > 0 ? await serverless.text(key) : '';
    const got = letterLines(
      stored
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    );
    if (JSON.stringify(got) !== JSON.stringify(want))
      differences.push(`letters @${t}: ${got}, locally ${want}`);
  }
  return differences;
}

/**
 * The keys of a job's store, relative to it, its documents' versions left out: the jobs compared have other names,
 * so their documents, the same but for the name, have other versions.
 */
async function storeKeys(name: string): Promise<string[]> {
  const prefix = `jobs/${name}/store/`;
  return (await serverless.keys(prefix)).map((key) =>
    key.slice(prefix.length).replace(/^documents\/[0-9a-f]{16}\.json$/, 'documents/<version>.json'),
  );
}

/**
 * Job `name`'s metadata checkpoint as a run of the same job with other settings would write it: the job named
 * `<job>`, without its document, its writer's epoch and the time it was written, the stored datasets by key (with
 * batches at once they are stored in the order their batches ran).
 */
async function checkpointOf(name: string): Promise<Record<string, unknown>> {
  const text = await serverless.text(`jobs/${name}/store/checkpoint/metadata.json`);
  const {
    fencingEpoch: _,
    writtenAt: __,
    jobDocument: ___,
    stored,
    ...rest
  } = JSON.parse(text.replaceAll(name, '<job>'));
  return { ...rest, stored: (stored as Array<{ key: string }>).sort((a, b) => a.key.localeCompare(b.key)) };
}

/** Runs job `name` to its end on the plain coordinator, once the lease of the one that died has expired. */
async function takeOver(name: string) {
  await untilLeaseExpired(serverless, name);
  const answer = await serverless.invoke('coordinator', { action: 'tick', job: name });
  expect(answer.driven, JSON.stringify(answer)).toEqual([
    expect.objectContaining({ ok: true, lastBatch: BATCHES * 1000 }),
  ]);
}

/** Starts job `name` on coordinator function `fn`, which must die: its invocation fails as a killed runtime. */
async function startAndDie(fn: string, doc: unknown) {
  await expect(serverless.invoke(fn, { action: 'start', job: doc, batches: BATCHES })).rejects.toThrow(
    /Runtime exited with error: signal: killed/,
  );
}

describe('a coordinator killed at each crash point, then the next one', () => {
  it('ends with local mode’s outputs and dead letters, each once, and an uninterrupted run’s store', async () => {
    // given an uninterrupted run, and one run per crash point, whose coordinator kills itself there in batch 3000
    const reference = `ref-${suffix}`;
    const crashed = CRASHES.map((point) => ({ point, name: `${crashFunction(point)}-${suffix}` }));
    const uninterrupted = serverless.invoke('coordinator', {
      action: 'start',
      job: serverlessDocument(reference),
      batches: BATCHES,
    });
    // when each is taken over by the next coordinator once its lease expired
    await Promise.all([
      uninterrupted,
      ...crashed.map(async ({ point, name }) => {
        await startAndDie(crashFunction(point), serverlessDocument(name));
        await takeOver(name);
      }),
    ]);
    expect(await uninterrupted).toMatchObject({ ok: true, lastBatch: BATCHES * 1000 });

    // then every output and dead letter is local mode's, each batch's once
    expect(await differencesFromLocal(reference)).toEqual([]);
    const want = await storeKeys(reference);
    for (const { point, name } of crashed) {
      expect(await differencesFromLocal(name), point).toEqual([]);
      // and the store holds what the uninterrupted run's holds, its checkpoint recording the same: the restart
      // deleted the dead coordinator's shuffle data, and the cleanups what a crash before them left
      expect(await storeKeys(name), point).toEqual(want);
      expect(await checkpointOf(name), point).toEqual(await checkpointOf(reference));
    }
  }, 120_000);
});

describe('concurrentJobs 3, with batch 1000 completing after batches 2000 and 3000', () => {
  /** Holds job `name`'s batch 1000 in its last output until `open` is called. */
  const gate = (name: string) => {
    writeFileSync(join(gates, `${name}.closed`), '');
    return { open: () => writeFileSync(join(gates, `${name}.open`), '') };
  };
  /** The batch times of job `name` in the order their metric lines came: the order they completed. */
  const completionOrder = (name: string) =>
    lines.flatMap(({ line }) => {
      if (!line.startsWith('{"_aws"')) return [];
      const metric = JSON.parse(line) as { Job: string; BatchTime: number; Error?: string };
      return metric.Job === name && metric.Error === undefined ? [metric.BatchTime] : [];
    });

  it('writes each batch’s outputs and dead letters under its own batch time, state and windows as local mode’s', async () => {
    // given a job running three batches at once, whose batch 1000 is held back until batch 3000 completed
    const name = `ooo-${suffix}`;
    const { open } = gate(name);
    onBatchDone = (job, batchTime) => {
      if (job === name && batchTime === 3000) open();
    };
    // when it runs its batches
    try {
      const answer = await serverless.invoke('coordinator', {
        action: 'start',
        job: serverlessDocument(name, 3),
        batches: BATCHES,
      });
      expect(answer).toMatchObject({ ok: true, lastBatch: BATCHES * 1000 });
    } finally {
      open();
    }
    // then batch 1000 did complete after batch 3000
    const order = completionOrder(name);
    expect(order.indexOf(1000)).toBeGreaterThan(order.indexOf(3000));
    expect([...order].sort((a, b) => a - b)).toEqual(
      Array.from({ length: BATCHES }, (_, k) => (k + 1) * 1000),
    );
    // and every output and dead letter is local mode's, under its own batch
    expect(await differencesFromLocal(name)).toEqual([]);
  }, 60_000);

  it('gives the same when the coordinator dies as batch 3000 completes ahead of batch 1000', async () => {
    // given the same job run uninterrupted, and on a coordinator that kills itself before the checkpoint of
    // batch 3000, which completes while batch 1000 is held back
    const name = `ooo-crash-${suffix}`;
    const reference = `ooo-ref-${suffix}`;
    const uninterrupted = serverless.invoke('coordinator', {
      action: 'start',
      job: serverlessDocument(reference, 3),
      batches: BATCHES,
    });
    const { open } = gate(name);
    try {
      await startAndDie(crashFunction('checkpoint:3000'), serverlessDocument(name, 3));
    } finally {
      // batch 1000's held tasks of the dead coordinator run on and write their folder, as a straggler would
      open();
    }
    // when the next coordinator takes the job over
    await takeOver(name);
    // then every output and dead letter is local mode's, under its own batch
    expect(await differencesFromLocal(name)).toEqual([]);
    // and the store and checkpoint are the uninterrupted run's
    expect(await uninterrupted).toMatchObject({ ok: true, lastBatch: BATCHES * 1000 });
    expect(await storeKeys(name)).toEqual(await storeKeys(reference));
    expect(await checkpointOf(name)).toEqual(await checkpointOf(reference));
  }, 60_000);
});

/** Every object of job `name` (its records, store and outputs) with its ETag: what a write would change. */
async function objectsOf(name: string): Promise<Record<string, string>> {
  const objects: Record<string, string> = {};
  for (const prefix of [`jobs/${name}/`, `outputs/${name}/`]) {
    let token: string | undefined;
    do {
      const page = await s3Client().send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) objects[o.Key!] = o.ETag!;
      token = page.NextContinuationToken;
    } while (token);
  }
  return objects;
}

describe('a coordinator that wakes after its successor took the job over', () => {
  /**
   * Starts job `name` on coordinator function `fn`, which freezes itself in batch 2000; runs the job to its end
   * on a successor once the lease expired; then wakes the frozen one. Every object of the job before and after.
   */
  async function wakeAfterTakeOver(fn: string, name: string) {
    const first = serverless.invoke(fn, { action: 'start', job: serverlessDocument(name), batches: BATCHES });
    await untilFrozen(serverless, fn);
    await takeOver(name);
    const before = await objectsOf(name);
    process.kill(serverless.host.pidOf(fn)!, 'SIGCONT');
    const answer = await first;
    return { answer, before, after: await objectsOf(name) };
  }

  it('changes no object of the job when it froze before its dead letters', async () => {
    // given a job whose coordinator froze in batch 2000 as it was about to check it still owns the job, before
    // writing the batch's dead letters, and a successor that took the job over and ran it to its end
    // when the frozen coordinator wakes and runs on
    const name = `fenced-early-${suffix}`;
    const { answer, before, after } = await wakeAfterTakeOver('frozen-before-letters-2', name);
    // then it found it had lost the job, and wrote nothing: no object of the job appeared, went or changed
    expect(answer.note).toMatch(/lost the job to another coordinator/);
    expect(after).toEqual(before);
    expect(await differencesFromLocal(name)).toEqual([]);
  }, 60_000);

  it('changes no object of the job but the dead letters it was writing, rewritten the same', async () => {
    // given a job whose coordinator froze in batch 2000 as it was writing the batch's dead letters, its outputs
    // written, its checkpoint not (the check before the letters passed), and a successor that ran it to its end
    // when the frozen coordinator wakes and runs on
    const name = `fenced-${suffix}`;
    const { answer, before, after } = await wakeAfterTakeOver('frozen-in-2', name);
    // then it found it had lost the job, and wrote nothing that counts: no object of the job appeared, went or
    // changed, but for the dead letters of batch 2000, which it wrote as it woke, before it could know; they are
    // the successor's letters again, each but for its `dataset` label, which numbers datasets by process
    expect(answer.note).toMatch(/lost the job to another coordinator/);
    const letters = `jobs/${name}/store/dead-letter/2000.jsonl`;
    expect({ ...after, [letters]: 'the letters' }).toEqual({ ...before, [letters]: 'the letters' });
    expect(await differencesFromLocal(name)).toEqual([]);
  }, 60_000);
});
