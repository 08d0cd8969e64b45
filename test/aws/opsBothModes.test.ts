import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
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
import { until } from '../helpers/until';

/**
 * A differential test of the DStream ops: one job document with an output per op runs 8 batches on the
 * serverless runtime (LocalStack's S3, the real coordinator and worker handlers in our Lambda host, with the
 * job's `functions` module deployed as `sluice:jobModules` bundles it), and every batch of every output must
 * equal local mode's on the same per-batch records (a queue), as must the dead letters.
 *
 * The input is an `s3Prefix` source taking one object per batch (`maxObjectsPerBatch: 1`), so batch k reads
 * exactly object k whatever the timing; object 3 is empty, which makes batch 4000 an empty batch between
 * batches with records. Three kinds of bad records: a line that is not JSON (a dead letter of `parseJson`), a
 * record whose `n` is a string (a dead letter of each expression, reducer and function that needs a number), and
 * a line of the static dataset `regions` whose weight is not a number (one letter, of the first batch, though
 * every batch computes the dataset again).
 *
 * Records are compared as sorted lists of their JSON (a value list inside a record, such as groupByKey's, as it
 * is), except `ORDERED` outputs, whose order is defined. The queue splits a batch into partitions by count and
 * the s3Prefix source by bytes, so no op whose result depends on the split (glom, mapPartitions' partition
 * index) is here; `coalesce(1).glom()` (in `inOnePartition`) is, since both splits keep the batch's order.
 *
 * The second case runs the same job through crashes, and must give the same: its coordinator is killed twice in
 * the middle of a batch (batch 3 as it is about to write its dead letters, with the next batch's tasks in flight;
 * batch 6 as its first tasks are in flight), each time the tick's coordinator takes over once the lease expired
 * and rebuilds windows and state from the checkpoint and the batches after it; and the worker's process dies once
 * in batch 7, as a result task has written its output but not answered, killing the other tasks in flight with
 * it.
 */

const fixtures = new URL('fixtures/opsJob/', import.meta.url).pathname;
const suffix = Math.random().toString(36).slice(2, 8);
const bucket = `sluice-ops-${suffix}`;
const job = `ops-${suffix}`;
/** The job of the crash case: the same document, under its own name (its own store and outputs). */
const crashJob = `crash-${suffix}`;
/** The crashing worker's marker: created as it kills its process, so it does so once. */
const crashMarker = join(tmpdir(), `sluice-ops-crash-${suffix}`);
/** Short leases, so each take-over waits 3 s rather than 5. */
const LEASE_TTL_MS = 3000;
const BATCHES = 8;
/** The batch (0-based) whose object is empty. */
const EMPTY = 3;
const PER_BATCH = 12;

/**
 * The lines of batch k: users u0–u4 write before the empty batch and u2–u7 after it, so u0 and u1 stop (their
 * mapWithState sessions time out, updateStateByKey removes them); values and text vary record by record, and a
 * padding of varying length moves the byte split of the object away from the queue's split by count.
 */
function batchLines(k: number): string[] {
  if (k === EMPTY) return [];
  const lines = Array.from({ length: PER_BATCH }, (_, i) =>
    JSON.stringify({
      u: k < EMPTY ? `u${(i * 3 + k) % 5}` : `u${2 + ((i * 5 + k) % 6)}`,
      tag: `t${(i * i + k) % 4}`,
      n: k === 2 && i === 3 ? 'x' : (i * 7 + k * 3) % 11,
      text: `w${i % 3} w${(i + k) % 5} x${(i * k) % 3}`,
      pad: '.'.repeat((i * 13 + k * 7) % 29),
    }),
  );
  if (k === 1 || k === 6) lines.splice(4, 0, `not json ${k}`);
  return lines;
}
const input = Array.from({ length: BATCHES }, (_, k) => batchLines(k));

/** A stream per op under test; each is an output of its own (see `outputs` below). */
const streams: Record<string, { from: string; ops: Record<string, unknown>[] }> = {
  recs: { from: 'lines', ops: [{ op: 'map', fn: 'parseJson' }] },
  // record ops
  mapped: { from: 'recs', ops: [{ op: 'map', expr: '{"u": u, "n2": n * 2}' }] },
  words: {
    from: 'recs',
    ops: [
      { op: 'flatMap', expr: '$split(text, " ")' },
      { op: 'filter', expr: '$substring($, 0, 1) = "w"' },
    ],
  },
  numbers: {
    from: 'recs',
    ops: [
      { op: 'mapPartitions', fn: 'numbersOnly' },
      { op: 'map', expr: 'n' },
    ],
  },
  keyed: {
    from: 'recs',
    ops: [
      { op: 'keyBy', expr: 'tag' },
      { op: 'mapValues', expr: 'u' },
    ],
  },
  spreadValues: { from: 'keyed', ops: [{ op: 'flatMapValues', expr: '[$, $ & "!"]' }] },
  // batch ops
  count: { from: 'recs', ops: [{ op: 'count' }] },
  longest: { from: 'words', ops: [{ op: 'reduce', fn: 'max' }] },
  joinedText: { from: 'words', ops: [{ op: 'reduce', fn: 'concat' }] },
  ranked: { from: 'mapped', ops: [{ op: 'sortBy', expr: '[n2, u]', ascending: false }] },
  spread: { from: 'mapped', ops: [{ op: 'repartition', partitions: 3 }] },
  wordCounts: { from: 'words', ops: [{ op: 'countByValue' }] },
  wordCountsInOne: { from: 'words', ops: [{ op: 'countByValue', partitions: 1 }] },
  distinctWords: { from: 'words', ops: [{ op: 'distinct' }] },
  oddPairs: { from: 'pairs', ops: [{ op: 'subtract', with: 'evens' }] },
  evenPairs: { from: 'pairs', ops: [{ op: 'intersection', with: 'evens', partitions: 3 }] },
  notRegions: { from: 'unionedMany', ops: [{ op: 'subtract', with: 'regionLines', partitions: 1 }] },
  regionsSeen: { from: 'unionedMany', ops: [{ op: 'intersection', with: 'regionLines' }] },
  // keyed ops
  pairs: { from: 'recs', ops: [{ op: 'map', expr: '[u, n]' }] },
  sums: { from: 'pairs', ops: [{ op: 'reduceByKey', fn: 'sum' }] },
  tagCounts: { from: 'keyed', ops: [{ op: 'countByKey', partitions: 1 }] },
  folded: { from: 'pairs', ops: [{ op: 'foldByKey', zero: 0, fn: 'sum' }] },
  aggregated: {
    from: 'pairs',
    ops: [{ op: 'aggregateByKey', zero: { max: 0 }, seqOp: 'maxInto', combOp: 'maxOfBoth', partitions: 3 }],
  },
  combined: {
    from: 'pairs',
    ops: [{ op: 'combineByKey', createCombiner: 'identity', mergeValue: 'max', mergeCombiners: 'max' }],
  },
  groups: {
    from: 'recs',
    ops: [
      { op: 'map', expr: '[tag, n]' },
      { op: 'groupByKey', partitions: 3 },
    ],
  },
  evens: { from: 'pairs', ops: [{ op: 'filter', expr: '$[1] % 2 = 0' }] },
  userTags: {
    from: 'recs',
    ops: [
      { op: 'filter', expr: 'u != "u3"' },
      { op: 'map', expr: '[u, tag]' },
    ],
  },
  joined: { from: 'evens', ops: [{ op: 'join', with: 'userTags' }] },
  left: { from: 'evens', ops: [{ op: 'leftOuterJoin', with: 'userTags' }] },
  right: { from: 'evens', ops: [{ op: 'rightOuterJoin', with: 'userTags', partitions: 1 }] },
  full: { from: 'evens', ops: [{ op: 'fullOuterJoin', with: 'userTags', partitions: 3 }] },
  cogrouped: { from: 'evens', ops: [{ op: 'cogroup', with: 'userTags' }] },
  subtracted: { from: 'pairs', ops: [{ op: 'subtractByKey', with: 'userTags' }] },
  withRegion: { from: 'pairs', ops: [{ op: 'join', with: 'regions' }] },
  regionGroups: { from: 'pairs', ops: [{ op: 'cogroup', with: 'regions' }] },
  unioned: { from: 'evens', ops: [{ op: 'union', with: 'userTags' }] },
  unionedMany: { from: 'lines', ops: [{ op: 'union', with: ['regionLines', 'words'] }] },
  transformed: { from: 'pairs', ops: [{ op: 'transform', fn: 'tagOdd' }] },
  transformedWith: { from: 'pairs', ops: [{ op: 'transformWith', with: 'userTags', fn: 'onlyMine' }] },
  inOnePartition: { from: 'pairs', ops: [{ op: 'transform', fn: 'inOnePartition' }] },
  usersByTags: { from: 'recs', ops: [{ op: 'transform', fn: 'usersByTags' }] },
  // windows
  sliding: { from: 'words', ops: [{ op: 'window', windowMs: 3000, slideMs: 1000 }] },
  sparse: { from: 'words', ops: [{ op: 'window', windowMs: 1000, slideMs: 2000 }] },
  rawWindow: { from: 'lines', ops: [{ op: 'window', windowMs: 2000, slideMs: 1000 }] },
  windowCount: { from: 'words', ops: [{ op: 'countByWindow', windowMs: 2000, slideMs: 1000 }] },
  sparseCount: { from: 'words', ops: [{ op: 'countByWindow', windowMs: 1000, slideMs: 2000 }] },
  windowSum: { from: 'numbers', ops: [{ op: 'reduceByWindow', fn: 'sum', windowMs: 3000, slideMs: 1000 }] },
  windowSumInc: {
    from: 'numbers',
    ops: [{ op: 'reduceByWindow', fn: 'sum', invFn: 'subtract', windowMs: 2000, slideMs: 1000 }],
  },
  sumWindow: {
    from: 'pairs',
    ops: [{ op: 'reduceByKeyAndWindow', fn: 'sum', windowMs: 3000, slideMs: 2000 }],
  },
  incWindow: {
    from: 'pairs',
    ops: [{ op: 'reduceByKeyAndWindow', fn: 'sum', invFn: 'subtract', windowMs: 3000, slideMs: 1000 }],
  },
  incFiltered: {
    from: 'pairs',
    ops: [
      {
        op: 'reduceByKeyAndWindow',
        fn: 'sum',
        invFn: 'subtract',
        windowMs: 2000,
        slideMs: 1000,
        filterExpr: '$[1] > 0',
        partitions: 1,
      },
    ],
  },
  incSparse: {
    from: 'pairs',
    ops: [{ op: 'reduceByKeyAndWindow', fn: 'sum', invFn: 'subtract', windowMs: 2000, slideMs: 3000 }],
  },
  tagWindow: {
    from: 'recs',
    ops: [
      { op: 'map', expr: 'tag' },
      { op: 'countByValueAndWindow', windowMs: 3000, slideMs: 1000 },
    ],
  },
  groupWindow: { from: 'keyed', ops: [{ op: 'groupByKeyAndWindow', windowMs: 2000, slideMs: 2000 }] },
  // state
  seen: { from: 'pairs', ops: [{ op: 'updateStateByKey', fn: 'countWhileSeen' }] },
  seenOrNull: { from: 'pairs', ops: [{ op: 'updateStateByKey', fn: 'countWhileSeenOrNull' }] },
  lastSeen: {
    from: 'pairs',
    ops: [{ op: 'updateStateByKey', fn: 'lastSeen', timeAware: true, initialState: 'seenBefore' }],
  },
  sessions: { from: 'pairs', ops: [{ op: 'mapWithState', fn: 'sessionCount', timeoutMs: 2000 }] },
  running: {
    from: 'pairs',
    ops: [{ op: 'mapWithState', fn: 'runningCount', initialState: 'countedBefore' }],
  },
  openSessions: {
    from: 'pairs',
    ops: [{ op: 'mapWithState', fn: 'sessionCount', timeoutMs: 2000 }, { op: 'stateSnapshots' }],
  },
};
/** Outputs whose records come in a defined order, compared as they are; the others are compared sorted. */
const ORDERED = new Set(['ranked']);
/** Every stream but the ones only others read. */
const OUTPUTS = Object.keys(streams).filter((name) => name !== 'recs');

function jobDocument(name: string, source: Record<string, unknown>, outputs: unknown[]) {
  return {
    name,
    batchIntervalMs: 1000,
    checkpointIntervalMs: 3000,
    functions: 'opsFunctions.ts',
    sources: { lines: source },
    datasets: {
      regionLines: { type: 'textFile', path: 'opsRegions.txt' },
      // its last line's weight is not a number: a dead letter of the dataset
      regions: {
        type: 'textFile',
        path: 'opsRegions.txt',
        partitions: 2,
        ops: [{ op: 'map', expr: '($p := $split($, ","); [$p[0], [$p[1], $number($p[2])]])' }],
      },
      seenBefore: {
        type: 'parallelize',
        records: [
          ['u1', { total: 100, at: 0 }],
          ['u7', { total: 7, at: 0 }],
        ],
      },
      countedBefore: {
        type: 'parallelize',
        records: [
          ['u0', 10],
          ['u6', 60],
        ],
        partitions: 1,
      },
    },
    streams,
    outputs,
  };
}

/** Dead letters as comparable lines, without the dataset's label (its number depends on the process). */
const letterLines = (letters: readonly Record<string, unknown>[]) =>
  letters.map(({ dataset: _label, ...letter }) => JSON.stringify(letter)).sort();
const sortRecords = (records: readonly unknown[]) => records.map((r) => JSON.stringify(r)).sort();

let serverless: ServerlessHost;
/** Every line the functions printed, by function. */
const lines: Array<{ fn: string; line: string }> = [];

beforeAll(async () => {
  const jobModules = findJobModules(join(fixtures, 'opsFunctions.ts'), '/');
  const pausing = new URL('fixtures/pausingCoordinator.ts', import.meta.url).pathname;
  const crashing = new URL('fixtures/crashingWorker.ts', import.meta.url).pathname;
  serverless = await startServerlessHost({
    bucket,
    coordinatorModule: functionModule('coordinator', jobModules),
    workerModule: writeHandlerEntry(join(tmpdir(), 'sluice-entries'), crashing, jobModules),
    coordinatorTimeoutMs: 120_000,
    coordinatorEnv: {
      SLUICE_COORDINATOR_FUNCTION: 'coordinator',
      SLUICE_TASK_CONCURRENCY: '8',
      SLUICE_LEASE_TTL_MS: String(LEASE_TTL_MS),
    },
    // Coordinators that freeze themselves in the middle of a batch: as batch 3, its tasks run, is about to write
    // its dead letters (batch 4's tasks in flight), and as batch 6 sends its 4th task (the first ones in flight).
    moreCoordinators: {
      'frozen-in-3': {
        module: writeHandlerEntry(join(tmpdir(), 'sluice-entries'), pausing, jobModules),
        env: { SLUICE_TEST_PAUSE_AT: 'letters:3000' },
      },
      'frozen-in-6': {
        module: writeHandlerEntry(join(tmpdir(), 'sluice-entries'), pausing, jobModules),
        env: { SLUICE_TEST_PAUSE_AT: 'batch:6000:4' },
      },
    },
    workerEnv: {
      SLUICE_TEST_CRASH_JOB: crashJob,
      SLUICE_TEST_CRASH_BATCH: '7000',
      SLUICE_TEST_CRASH_MARKER: crashMarker,
    },
    output: (fn, line) => {
      lines.push({ fn, line });
      if (process.env.SLUICE_TEST_VERBOSE) process.stderr.write(`[${fn}] ${line}\n`);
    },
  });
  const s3 = s3Client();
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'static/opsRegions.txt',
      Body: await readFile(join(fixtures, 'opsRegions.txt')),
    }),
  );
  for (const [k, lines] of input.entries()) {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `input/b${k}.jsonl`,
        Body: Buffer.from(lines.map((line) => `${line}\n`).join('')),
      }),
    );
  }
}, 180_000);

afterAll(async () => {
  await serverless?.stop();
});

/** The job document of the serverless runs, reading one object per batch, with a jsonl output per op. */
const serverlessDocument = (name: string) =>
  jobDocument(
    name,
    { type: 's3Prefix', bucket, prefix: 'input/', maxObjectsPerBatch: 1, partitions: 2 },
    OUTPUTS.map((output) => ({ stream: output, type: 'jsonl', path: `${name}/${output}` })),
  );

/** Local mode's run of the same document over a queue of the same per-batch records; once for both cases. */
let localRun: ReturnType<typeof runLocally> | undefined;
function runLocally() {
  return runBatches(
    {
      kind: 'document',
      document: jobDocument(
        'local',
        { type: 'queue', partitions: 2, batches: input.map((lines) => [...lines]) },
        OUTPUTS.map((name) => ({ stream: name, type: 'collectBatches', name })),
      ),
      baseDir: fixtures,
    },
    BATCHES,
    { workers: 0 },
  );
}

async function status(name: string) {
  return serverless.invoke('coordinator', { action: 'status', job: name, last: BATCHES });
}

/** Waits until the job stopped after its last batch. */
async function lastBatch(name: string) {
  await until(
    'the last batch',
    async () => {
      const s = await status(name);
      if (s.state === 'stopped' && s.lastCompletedBatch !== BATCHES * 1000) {
        throw new Error(`the job stopped early: ${JSON.stringify(s)}`);
      }
      return s.state === 'stopped' && s.lastCompletedBatch === BATCHES * 1000;
    },
    150_000,
    500,
  );
}

/**
 * Every output of the job wrote at local mode's batch times, one object each, each batch with local mode's
 * records; and the dead letters are local mode's, each once.
 */
async function expectLocalOutputs(name: string) {
  localRun ??= runLocally();
  const local = await localRun;
  expect(local.error).toBeUndefined();
  // an update function returning null removes the key, as one returning undefined does
  const seen = (output: string) => local.outputs.filter((o) => o.output === output).map((o) => o.records);
  expect(seen('seenOrNull')).toEqual(seen('seen'));

  const differences: string[] = [];
  for (const output of OUTPUTS) {
    const expected = new Map(
      local.outputs
        .filter((o) => o.output === output)
        .map((o) => [
          o.batchTime,
          ORDERED.has(output) ? o.records.map((r) => JSON.stringify(r)) : sortRecords(o.records),
        ]),
    );
    const keys = await serverless.keys(`outputs/${name}/${output}/`);
    const times = keys.map((key) => Number(key.split('/').at(-1)!.replace('.json', '')));
    if (JSON.stringify(times.sort((a, b) => a - b)) !== JSON.stringify([...expected.keys()])) {
      differences.push(`${output}: batches ${times} on Lambda, ${[...expected.keys()]} locally`);
      continue;
    }
    for (const key of keys) {
      const line = JSON.parse(await serverless.text(key));
      const want = expected.get(line.batchTime);
      const got = ORDERED.has(output)
        ? line.records.map((r: unknown) => JSON.stringify(r))
        : sortRecords(line.records);
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        differences.push(
          `${output} @${line.batchTime}:\n  Lambda ${got.join(' ')}\n  local  ${want?.join(' ')}`,
        );
      }
    }
  }
  expect(differences).toEqual([]);

  // and the same dead letters, each once
  const letters: Record<string, unknown>[] = [];
  for (const key of await serverless.keys(`jobs/${name}/store/dead-letter/`)) {
    for (const line of (await serverless.text(key)).split('\n').filter(Boolean))
      letters.push(JSON.parse(line));
  }
  // (the static dataset's bad line among them once, though every batch joins the dataset)
  expect(local.deadLetters.filter((l) => l.op?.startsWith('datasets.')).map((l) => l.batchTime)).toEqual([
    1000,
  ]);
  expect(letterLines(letters)).toEqual(
    letterLines(local.deadLetters as unknown as Record<string, unknown>[]),
  );
}

/** Waits until the coordinator function `fn` froze itself, kills it, and waits until its lease expired. */
async function killFrozen(fn: string, name: string) {
  await untilFrozen(serverless, fn, 90_000, 200);
  await serverless.host.kill(fn);
  await untilLeaseExpired(serverless, name, 200);
}

/** The batch times the coordinators completed, from the metric lines they printed (one per completed batch). */
function completedBatches(name: string): number[] {
  return lines
    .filter(({ fn }) => fn === 'coordinator' || fn.startsWith('frozen'))
    .flatMap(({ line }) => {
      if (!line.startsWith('{"_aws"')) return [];
      const metric = JSON.parse(line) as { Job: string; BatchTime: number; Error?: string };
      return metric.Job === name && metric.Error === undefined ? [metric.BatchTime] : [];
    })
    .sort((a, b) => a - b);
}

describe('every op on the serverless runtime', () => {
  it('gives, batch for batch, what local mode gives on the same records, dead letters included', async () => {
    // given the job with an output per op, reading one object per batch
    // when the coordinator runs its 8 batches
    await serverless.invokeEvent('coordinator', {
      action: 'start',
      job: serverlessDocument(job),
      batches: BATCHES,
    });
    await lastBatch(job);

    // then every output wrote at local mode's batch times, each batch with the same records, and the same
    // dead letters
    await expectLocalOutputs(job);
  }, 300_000);

  it('gives the same through two coordinator kills mid-batch and a worker crash', async () => {
    // given the same job, started on a coordinator that freezes in the middle of batch 3, tasks in flight
    await serverless.invokeEvent('frozen-in-3', {
      action: 'start',
      job: serverlessDocument(crashJob),
      batches: BATCHES,
    });
    // when it is killed there, and once its lease expired the tick's coordinator takes over, which freezes in
    // the middle of batch 6 and is killed there too
    await killFrozen('frozen-in-3', crashJob);
    expect((await status(crashJob)).lastCompletedBatch).toBe(2000);
    await serverless.invokeEvent('frozen-in-6', { action: 'tick', job: crashJob });
    await killFrozen('frozen-in-6', crashJob);
    expect((await status(crashJob)).lastCompletedBatch).toBe(5000);
    // and the next tick's coordinator runs the job to its end, through the worker's crash in batch 7
    await serverless.invokeEvent('coordinator', { action: 'tick', job: crashJob });
    await lastBatch(crashJob);
    expect(existsSync(crashMarker), 'the worker crashed').toBe(true);

    // then every batch completed exactly once
    expect(completedBatches(crashJob)).toEqual(Array.from({ length: BATCHES }, (_, k) => (k + 1) * 1000));
    // and every output wrote at local mode's batch times, one object each, with the same records, and the
    // dead letters are the same, each once, though the successors re-read earlier batches and re-ran batch 3,
    // 6 and 7's tasks
    await expectLocalOutputs(crashJob);
  }, 300_000);
});
