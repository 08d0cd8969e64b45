import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lib/aws/awsClients';
import { METADATA_KEY } from '../../lib/scheduler/CheckpointData';
import { processState } from '../helpers/frozenCoordinators';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';
import { until } from '../helpers/until';

/**
 * A failed batch on the serverless runtime, with no mock in the path (LocalStack's S3, the real coordinator
 * and worker handlers in our Lambda host): the coordinator's answer and the status event's batch metrics name
 * the op that failed by its JSON path, as the worker reported it.
 */

const suffix = Math.random().toString(36).slice(2, 8);
const bucket = `sluice-status-error-${suffix}`;
const name = `status-error-${suffix}`;

/**
 * A job whose first batch joins a static file that is gone from the bucket by the time its tasks read it: the start
 * checks the file is there (one missing then is refused at `datasets.lookup.path`), so the test removes it while
 * the coordinator is stopped just before its first worker invocation (see `startFailing`).
 */
const job = {
  name,
  batchIntervalMs: 1000,
  maxTaskAttempts: 2,
  sources: { lines: { type: 'queue', batches: [['a b', 'b c']] } },
  datasets: { lookup: { type: 'textFile', path: 'no-such-lookup.txt' } },
  streams: {
    counts: {
      from: 'lines',
      ops: [
        { op: 'flatMap', fn: 'splitWords' },
        { op: 'map', expr: '[$, 1]' },
        { op: 'join', with: 'lookup' },
      ],
    },
  },
  outputs: [{ stream: 'counts', type: 'print' }],
};

let serverless: ServerlessHost;
const invoke = (functionName: string, payload: unknown) => serverless.invoke(functionName, payload);

beforeAll(async () => {
  serverless = await startServerlessHost({
    bucket,
    // One per test: a coordinator's process stops once, at its first worker invocation.
    moreCoordinators: Object.fromEntries(
      ['paused-1', 'paused-2', 'paused-3'].map((fn) => [
        fn,
        {
          module: new URL('fixtures/pausingCoordinator.ts', import.meta.url).pathname,
          env: { SLUICE_TEST_PAUSE_AT: 'task:1' },
        },
      ]),
    ),
  });
}, 120_000);

/**
 * Starts `doc` for one batch on the coordinator `fn`, which stops itself as it is about to send its first worker invocation,
 * with the static file in the bucket for the start's check; removes the file there, lets the coordinator go on, and
 * returns its answer.
 */
async function startFailing(fn: string, doc: Record<string, unknown>): Promise<Record<string, any>> {
  const key = 'static/no-such-lookup.txt';
  await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'a\nb\n' }));
  const answer = invoke(fn, { action: 'start', job: doc, batches: 1 });
  await until(
    'the coordinator to stop',
    () => processState(serverless.host.pidOf(fn) ?? 0) === 'T',
    60_000,
    100,
  );
  await s3Client().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  process.kill(serverless.host.pidOf(fn)!, 'SIGCONT');
  return answer;
}

afterAll(async () => {
  await serverless?.stop();
});

describe('a failed batch on the serverless runtime', () => {
  it('is reported by the coordinator and the status event with the JSON path and op that failed', async () => {
    // given a job whose static dataset is gone from the bucket once its start was accepted
    // when the coordinator drives its first batch
    const started = await startFailing('paused-1', job);
    // then the batch fails, naming the dataset by its JSON path, then the task and the worker's error
    const expected =
      /^datasets\.lookup \(textFile\): task 0 of stage \d+ failed 2 time\(s\); last error: Error: the static file s3:\/\/.*\/static\/no-such-lookup\.txt does not exist$/;
    expect(started.error).toMatch(expected);
    // and the status event's batch metrics carry the same sentence
    const status = await invoke('coordinator', { action: 'status', job: name, last: 10 });
    expect(status.batches).toHaveLength(1);
    expect(status.batches[0].error).toMatch(expected);
  });

  it('leaves the stopped job no pending batch, and lists the batch a start reruns apart', async () => {
    // given the same failing job reading an S3 prefix, a source that cannot replay a batch, so that its
    // checkpoint records the batch as pending when it is generated
    const stopped = `${name}-s3`;
    const s3Job = { ...job, name: stopped, sources: { lines: { type: 's3Prefix', bucket, prefix: 'in/' } } };
    await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: 'in/a.txt', Body: 'a b\nb c\n' }));
    // when its first batch fails, which stops the job, and a stop is sent too
    const started = await startFailing('paused-2', s3Job);
    expect(started.ok).toBe(false);
    expect(JSON.parse(await serverless.text(`jobs/${stopped}/store/${METADATA_KEY}`)).pendingBatches).toEqual(
      [1000],
    );
    await invoke('coordinator', { action: 'stop', job: stopped });
    // then the status event shows no batch about to run, and the one a start runs again under its own name
    const status = await invoke('coordinator', { action: 'status', job: stopped, last: 10 });
    expect(status).toMatchObject({ state: 'stopped', pendingBatches: [], pendingUntilStart: [1000] });
  });

  it('leaves a start sent while the batch failed running, and drives it', async () => {
    // given the failing job, its coordinator about to send its first task with the static file gone
    const restarted = `${name}-restarted`;
    const key = 'static/no-such-lookup.txt';
    await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'a\nb\n' }));
    const failing = invoke('paused-3', { action: 'start', job: { ...job, name: restarted }, batches: 3 });
    await until(
      'the coordinator to stop',
      () => processState(serverless.host.pidOf('paused-3') ?? 0) === 'T',
      60_000,
      100,
    );
    await s3Client().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    // when the user starts it again with a document that reads another file (recorded: the lease is held)
    await s3Client().send(
      new PutObjectCommand({ Bucket: bucket, Key: 'static/lookup-2.txt', Body: 'a\nb\n' }),
    );
    const fixed = {
      ...job,
      name: restarted,
      datasets: { lookup: { type: 'textFile', path: 'lookup-2.txt' } },
    };
    expect(await invoke('coordinator', { action: 'start', job: fixed, batches: 3 })).toMatchObject({
      ok: true,
    });
    // and the batch fails
    process.kill(serverless.host.pidOf('paused-3')!, 'SIGCONT');
    const failed = await failing;
    expect(failed).toMatchObject({ ok: false, lastBatch: 1000 });
    // then the start stands, and the next tick drives it (before, the coordinator wrote its stop over the start it
    // had read, and the job stayed stopped)
    expect(JSON.parse(await serverless.text(`jobs/${restarted}/control.json`))).toMatchObject({
      state: 'running',
    });
    expect(await invoke('coordinator', { action: 'tick', job: restarted })).toMatchObject({
      driven: [{ ok: true, lastBatch: 3000 }],
    });
  });
});
