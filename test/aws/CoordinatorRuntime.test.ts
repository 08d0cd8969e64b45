import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { kinesisClient, lambdaClient, s3Client } from '../../lib/aws/awsClients';
import { CoordinatorRuntime, drivingBudgetMs } from '../../lib/aws/CoordinatorRuntime';
import { S3BlockStore } from '../../lib/aws/S3BlockStore';
import { S3Lease } from '../../lib/aws/S3Lease';
import { kinesisStream } from '../../lib/job/cloudStreams';
import { deployModules } from '../../lib/job/DeployedModules';
import { defineJob } from '../../lib/job/JobModule';
import { localJobIssues } from '../../lib/local/localJobChecks';
import { testStreams, uniqueName } from './localstack';

// Against the LocalStack of test/aws/globalSetup.ts. What the coordinator and the control function refuse at the
// edge, before anything is written; the end-to-end and deploy tests cover what they run.
const bucket = uniqueName('coord');
const clients = { s3: s3Client(), lambda: lambdaClient(), kinesis: kinesisClient() };

beforeAll(async () => {
  await s3Client().send(new CreateBucketCommand({ Bucket: bucket }));
});

const job = (source: Record<string, unknown>, datasets?: Record<string, unknown>) => ({
  name: 'edge',
  batchIntervalMs: 1000,
  sources: { tweets: source },
  ...(datasets ? { datasets } : {}),
  outputs: [{ stream: 'tweets', type: 'print' }],
});

/** The coordinator as the control function runs it: it records events and starts the coordinator, never drives. */
const controlFunction = () =>
  CoordinatorRuntime.fromEnv({ SLUICE_BUCKET: bucket, SLUICE_COORDINATOR_FUNCTION: 'coordinator' }, clients, {
    drive: false,
  });

describe('the coordinator at the edge', () => {
  it("refuses a job module whose graph its run would refuse, at module, naming the stream's line", async () => {
    // given deployed modules: one whose second queue stream no output reads, one with a window of 2.5 batches
    deployModules({
      unreadInput: {
        default: defineJob({ batchIntervalMs: 1000 }, (ssc) => {
          ssc.queueStream([['a']]).print();
          ssc.queueStream([['b']]).map((x) => x);
        }),
      },
      oddWindow: {
        default: defineJob({ batchIntervalMs: 1000 }, (ssc) => {
          ssc
            .queueStream([['a']])
            .window(2500)
            .print();
        }),
      },
    });
    // when each is started, then the answer says what is wrong and where, and nothing is written (before, the
    // unread input was accepted, and every coordinator run then failed on it while the job stayed running)
    const control = controlFunction();
    const unread = await control.handle(
      { action: 'start', job: { name: 'unread-input', module: 'unreadInput' } },
      0,
    );
    expect(unread).toMatchObject({
      ok: false,
      issues: [
        {
          path: 'module',
          message: expect.stringMatching(
            /^the input stream .*CoordinatorRuntime\.test\.ts:\d+ .* is read by no output/,
          ),
        },
      ],
    });
    const odd = await control.handle(
      { action: 'start', job: { name: 'odd-window', module: 'oddWindow' } },
      0,
    );
    expect(odd).toMatchObject({
      ok: false,
      issues: [
        {
          path: 'module',
          message: expect.stringMatching(
            /CoordinatorRuntime\.test\.ts:\d+ \(window\): window of 2500 ms must be a positive multiple/,
          ),
        },
      ],
    });
    const listed = await s3Client().send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'jobs/unread-input/' }),
    );
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  it('refuses a kinesis source without a stream when the deployment has none, naming the field, and writes nothing', async () => {
    const runtime = CoordinatorRuntime.fromEnv(
      { SLUICE_BUCKET: bucket, SLUICE_WORKER_FUNCTION: 'worker' },
      clients,
    );
    const answer = await runtime.handle({ action: 'start', job: job({ type: 'kinesis' }) }, 1000);
    expect(answer).toMatchObject({ ok: false, issues: [{ path: 'sources.tweets.streamName' }] });
    const listed = await s3Client().send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  it("refuses a job module whose kinesisStream() names no stream when the deployment has none, at module, naming the module's line", async () => {
    // given a deployed module reading the deployment's stream, and functions whose deployment has no stream
    deployModules({
      ownStream: {
        default: defineJob({ batchIntervalMs: 1000 }, (ssc) => {
          kinesisStream(ssc, { partitions: 1 }).print();
        }),
      },
    });
    const functions = {
      control: controlFunction(),
      coordinator: CoordinatorRuntime.fromEnv(
        { SLUICE_BUCKET: bucket, SLUICE_WORKER_FUNCTION: 'worker' },
        clients,
      ),
    };
    for (const [which, runtime] of Object.entries(functions)) {
      // when it is started
      const answer = await runtime.handle(
        { action: 'start', job: { name: 'own-stream', module: 'ownStream' } },
        1000,
      );
      // then the start is refused with what to fix (before, it was accepted, and every batch then failed on a
      // stream named ""), and nothing is written
      expect(answer, which).toMatchObject({
        ok: false,
        issues: [
          {
            path: 'module',
            message: expect.stringMatching(
              /CoordinatorRuntime\.test\.ts:\d+ \(kinesis\): kinesisStream\(\) names no streamName and this deployment has no stream of its own \(SLUICE_STREAM is not set\): name the stream in the module/,
            ),
          },
        ],
      });
      expect(answer.error, which).toMatch(/^invalid job:\n {2}module: [^\n]*deploy with a stream[^\n]*$/);
      expect(await new S3BlockStore({ client: s3Client(), bucket }).list('jobs/own-stream/')).toEqual([]);
    }
  });

  it('refuses a start whose Kinesis stream or S3 bucket does not exist, naming the source, and writes nothing', async () => {
    // given a control function on a deployment whose own stream was never created, a stream that exists, and a
    // bucket that does not
    const streams = testStreams(kinesisClient(), 'reach');
    const there = await streams.create(1);
    const control = CoordinatorRuntime.fromEnv(
      {
        SLUICE_BUCKET: bucket,
        SLUICE_COORDINATOR_FUNCTION: 'coordinator',
        SLUICE_STREAM: 'no-such-own-stream',
      },
      clients,
      { drive: false },
    );
    const start = (sources: Record<string, unknown>) =>
      control.handle(
        {
          action: 'start',
          job: {
            ...job({ type: 'kinesis' }),
            name: 'unreachable',
            sources,
            outputs: Object.keys(sources).map((stream) => ({ stream, type: 'print' })),
          },
        },
        0,
      );
    try {
      // when a job names a stream that does not exist
      // then the start is refused at the source's streamName, saying what is wrong
      const noStream = await start({ tweets: { type: 'kinesis', streamName: 'no-such-stream' } });
      expect(noStream).toMatchObject({
        ok: false,
        issues: [{ path: 'sources.tweets.streamName', message: expect.stringMatching(/^no such stream: /) }],
      });
      expect(noStream.error).toMatch(
        /^invalid job:\n {2}sources\.tweets\.streamName: no such stream: there is no Kinesis stream named "no-such-stream"/,
      );
      // and a source that names none is refused at the source, naming the deployment's stream it would read
      expect(await start({ tweets: { type: 'kinesis' } })).toMatchObject({
        ok: false,
        issues: [
          {
            path: 'sources.tweets',
            message: expect.stringMatching(/deployment's stream "no-such-own-stream"/),
          },
        ],
      });
      // and an s3Prefix source whose bucket does not exist is refused at its bucket, while the stream that
      // exists, read beside it, passes
      expect(
        await start({
          tweets: { type: 'kinesis', streamName: there },
          files: { type: 's3Prefix', bucket: 'sluice-no-such-bucket-x', prefix: 'input/' },
        }),
      ).toMatchObject({
        ok: false,
        issues: [{ path: 'sources.files.bucket', message: expect.stringMatching(/^no such bucket: /) }],
      });
      // and nothing was recorded
      expect(await new S3BlockStore({ client: s3Client(), bucket }).list('jobs/unreachable/')).toEqual([]);
    } finally {
      await streams.deleteAll();
    }
  });

  it('refuses a static dataset path that climbs out of static/', async () => {
    const runtime = CoordinatorRuntime.fromEnv(
      { SLUICE_BUCKET: bucket, SLUICE_WORKER_FUNCTION: 'worker', SLUICE_STREAM: 'tweets' },
      clients,
    );
    const answer = await runtime.handle(
      {
        action: 'start',
        job: job({ type: 'kinesis' }, { spam: { type: 'textFile', path: '../jobs/x/job.json' } }),
      },
      1000,
    );
    expect(answer).toMatchObject({ ok: false, issues: [{ path: 'datasets.spam.path' }] });
  });

  it('refuses a static file that is not in the bucket at its path, as sluice run does locally, and writes nothing', async () => {
    // given a job whose static dataset names a file that is neither in the bucket's static/ nor in the job's folder,
    // beside one that is in both
    await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: 'static/there.txt', Body: 'spam\n' }));
    const folder = await mkdtemp(join(tmpdir(), 'sluice-static-'));
    await writeFile(join(folder, 'there.txt'), 'spam\n');
    const doc = {
      ...job(
        { type: 'queue', batches: [['a']] },
        {
          spam: { type: 'textFile', path: 'there.txt' },
          lookup: { type: 'textFile', path: 'no-such-lookup.txt' },
        },
      ),
      name: 'no-static',
    };
    try {
      // when it is run locally, and started on AWS
      const local = localJobIssues(doc, folder);
      const answer = await controlFunction().handle({ action: 'start', job: doc }, 0);
      // then both refuse it at the missing file's path, and the start says which object is missing (before, it
      // was accepted, and every batch failed its task 4 times naming only the dataset)
      expect(local.map((issue) => issue.path)).toEqual(['datasets.lookup.path']);
      expect(answer).toMatchObject({
        ok: false,
        issues: [
          {
            path: 'datasets.lookup.path',
            value: 'no-such-lookup.txt',
            message: expect.stringMatching(
              new RegExp(
                `^the object s3://${bucket}/static/no-such-lookup\\.txt does not exist: upload the file`,
              ),
            ),
          },
        ],
      });
      expect(answer.issues).toHaveLength(1);
      expect(await new S3BlockStore({ client: s3Client(), bucket }).list('jobs/no-static/')).toEqual([]);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('refuses a number too large for JSON in a queue record, at its path, and writes nothing', async () => {
    // given a start event whose queue record holds 1e400, as a Lambda's JSON.parse reads it: Infinity
    const runtime = CoordinatorRuntime.fromEnv(
      { SLUICE_BUCKET: bucket, SLUICE_WORKER_FUNCTION: 'worker' },
      clients,
    );
    const doc = { ...job({ type: 'queue', batches: [[{ v: 0 }]] }), name: 'too-large' };
    const event = JSON.parse(`{"action":"start","job":${JSON.stringify(doc).replace('"v":0', '"v":1e400')}}`);
    // when it is sent, then it is refused at the record's path, where the stored document held null instead
    const answer = await runtime.handle(event, 1000);
    expect(answer).toMatchObject({
      ok: false,
      issues: [
        { path: 'sources.tweets.batches[0][0].v', message: expect.stringContaining('reads as Infinity') },
      ],
    });
    const listed = await s3Client().send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'jobs/too-large/' }),
    );
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  it('answers a malformed event with the field at fault', async () => {
    const runtime = CoordinatorRuntime.fromEnv(
      { SLUICE_BUCKET: bucket, SLUICE_WORKER_FUNCTION: 'worker' },
      clients,
    );
    expect(await runtime.handle({ action: 'status', job: 'no spaces allowed' }, 1000)).toMatchObject({
      ok: false,
      issues: [{ path: 'job' }],
    });
    expect(await runtime.handle({ action: 'status', job: 'never-started' }, 1000)).toMatchObject({
      ok: false,
    });
  });

  it('resets a job from the control function: store, checkpoint, metrics and lease cleared, outputs kept', async () => {
    // given a job with a checkpoint, blocks, metrics, a live lease and an output
    const root = new S3BlockStore({ client: s3Client(), bucket });
    await root.put('jobs/stuck/control.json', JSON.stringify({ state: 'running', updatedAt: '' }));
    await root.put('jobs/stuck/store/checkpoint/metadata.json', '{"version":1,"fencingEpoch":4}');
    await root.put('jobs/stuck/store/input/0/1000', '["a"]');
    await root.put('jobs/stuck/metrics.json', '[]');
    await root.put('outputs/stuck/counts/1000.json', '{}');
    const lease = await S3Lease.acquire(root, 'jobs/stuck/lease.json', 'holder', 60_000);
    const control = controlFunction();
    // when it is reset
    const answer = await control.handle({ action: 'reset', job: 'stuck' }, 0);
    // then the job is stopped, its store and metrics are gone, its holder cannot renew, and outputs stay
    expect(answer).toMatchObject({ ok: true, job: 'stuck', state: 'stopped' });
    expect(await root.list('jobs/stuck/')).toEqual(['jobs/stuck/control.json', 'jobs/stuck/lease.json']);
    expect(JSON.parse(Buffer.from((await root.get('jobs/stuck/control.json'))!).toString())).toMatchObject({
      state: 'stopped',
    });
    expect(await lease!.renew()).toBe(false);
    expect((await S3Lease.acquire(root, 'jobs/stuck/lease.json', 'next', 60_000))?.epoch).toBe(
      lease!.epoch + 2,
    );
    expect(await root.list('outputs/stuck/')).toEqual(['outputs/stuck/counts/1000.json']);
  });

  it('answers stop and reset of a job never started as status does, and writes nothing', async () => {
    // given a control function and no job named "nope"
    const control = controlFunction();
    const root = new S3BlockStore({ client: s3Client(), bucket });
    // when it is stopped and reset (a typo of a running job's name, say)
    for (const action of ['stop', 'reset']) {
      // then the answer says there is no such job, where it said "stopped" and made a phantom job
      expect(await control.handle({ action, job: 'nope' }, 0)).toEqual({
        ok: false,
        error: 'job: no job named "nope"',
      });
    }
    expect(await root.list('jobs/nope/')).toEqual([]);
  });

  it('keeps the fields of the control record that a stop does not own, and ends a sleep', async () => {
    // given a job that was catching up on the batches it slept through (through 40000 ms) when it fell asleep again
    const root = new S3BlockStore({ client: s3Client(), bucket });
    const record = {
      state: 'running',
      maxBatches: 90,
      emptyThrough: 40_000,
      documentVersion: '0123456789abcdef',
      asleep: { lastBatch: 30_000, dueAtMs: 1_700_000_000_000 },
      updatedAt: '',
    };
    await root.put('jobs/catching-up/control.json', JSON.stringify(record));
    // when it is stopped
    expect(await controlFunction().handle({ action: 'stop', job: 'catching-up' }, 0)).toMatchObject({
      ok: true,
      state: 'stopped',
    });
    // then its record is stopped and keeps what the stop does not own: a start still runs the batches it slept
    // through as empty batches (before, emptyThrough was dropped, and they read input); the sleep ends with the stop
    const stopped = JSON.parse(Buffer.from((await root.get('jobs/catching-up/control.json'))!).toString());
    const { asleep: _, updatedAt: __, ...kept } = record;
    expect(stopped).toEqual({ ...kept, state: 'stopped', updatedAt: expect.any(String) });
    // and a damaged record is stopped too, written anew
    await root.put('jobs/catching-up/control.json', '{"state":"runn');
    expect(await controlFunction().handle({ action: 'stop', job: 'catching-up' }, 0)).toMatchObject({
      ok: true,
      state: 'stopped',
    });
    expect(JSON.parse(Buffer.from((await root.get('jobs/catching-up/control.json'))!).toString())).toEqual({
      state: 'stopped',
      updatedAt: expect.any(String),
    });
  });

  it('answers a state Sluice does not write as unknown, with the value recorded and what to do', async () => {
    // given a job whose control record something else gave a state Sluice does not know
    const root = new S3BlockStore({ client: s3Client(), bucket });
    await root.put('jobs/paused/control.json', JSON.stringify({ state: 'paused', updatedAt: '' }));
    // when its status is asked
    const status = await controlFunction().handle({ action: 'status', job: 'paused' }, 0);
    // then it says the state is unknown and what was recorded (before, it answered "paused" as if it were a state),
    // and lists no pending batch as about to run: no coordinator drives it
    expect(status).toMatchObject({
      ok: true,
      state: 'unknown',
      recordedState: 'paused',
      pendingBatches: [],
      note: `s3://${bucket}/jobs/paused/control.json records the state "paused", which is not one Sluice writes (running or stopped), so no coordinator drives the job: send {"action": "stop", "job": "paused"} to record it stopped, or start it again`,
    });
    // and a tick naming it answers the same (before, it answered the word recorded as the state: "paused")
    const coordinator = CoordinatorRuntime.fromEnv(
      { SLUICE_BUCKET: bucket, SLUICE_WORKER_FUNCTION: 'worker' },
      clients,
    );
    const { state, recordedState, note } = status;
    expect(await coordinator.handle({ action: 'tick', job: 'paused' }, 0)).toEqual({
      ok: true,
      driven: [{ ok: true, job: 'paused', state, recordedState, note }],
    });
  });

  it('answers a job with damaged records with what to do, reports it in a tick without throwing, and resets it', async () => {
    // given a job whose control record, lease and checkpoint something else overwrote
    const root = new S3BlockStore({ client: s3Client(), bucket });
    await root.put('jobs/damaged/control.json', '{"state":"runn');
    await root.put('jobs/damaged/job.json', '{}');
    await root.put('jobs/damaged/lease.json', 'garbage');
    await root.put('jobs/damaged/store/checkpoint/metadata.json', '{"version":1,"graphSig');
    const control = controlFunction();
    // when its status is asked
    const status = await control.handle({ action: 'status', job: 'damaged' }, 0);
    // then the answer names the record and says how to write it anew, instead of an unhandled SyntaxError
    expect(status).toMatchObject({ ok: false, job: 'damaged' });
    expect(status.error).toMatch(
      new RegExp(`s3://${bucket}/jobs/damaged/control.json is damaged .*send \\{"action": "reset"\\}`),
    );
    // and a tick over every job reports it and goes on (it stopped every job's batches before)
    const coordinator = CoordinatorRuntime.fromEnv(
      { SLUICE_BUCKET: bucket, SLUICE_WORKER_FUNCTION: 'worker' },
      clients,
    );
    const tick = (await coordinator.handle({ action: 'tick' }, 0)) as { ok: boolean; driven: unknown[] };
    expect(tick.ok).toBe(true);
    expect(tick.driven).toContainEqual(expect.objectContaining({ ok: false, job: 'damaged' }));
    // and a reset writes its records anew, breaking the damaged lease
    expect(await control.handle({ action: 'reset', job: 'damaged' }, 0)).toMatchObject({ ok: true });
    expect(await root.list('jobs/damaged/store/')).toEqual([]);
    expect(await control.handle({ action: 'status', job: 'damaged' }, 0)).toMatchObject({
      ok: true,
      state: 'stopped',
    });
    expect((await S3Lease.acquire(root, 'jobs/damaged/lease.json', 'next', 60_000))?.epoch).toBeGreaterThan(
      1,
    );
  });

  it('answers a damaged checkpoint with its sentence, not an unhandled error', async () => {
    // given a stopped job whose checkpoint was cut short
    const root = new S3BlockStore({ client: s3Client(), bucket });
    await root.put('jobs/cut/control.json', JSON.stringify({ state: 'stopped', updatedAt: '' }));
    await root.put('jobs/cut/store/checkpoint/metadata.json', '{"version":1,"graphSig');
    const control = controlFunction();
    // when its status is asked, then the answer is the damaged checkpoint's sentence
    const status = await control.handle({ action: 'status', job: 'cut' }, 0);
    expect(status).toMatchObject({ ok: false, job: 'cut' });
    expect(status.error).toMatch(
      new RegExp(
        `the checkpoint s3://${bucket}/jobs/cut/store/checkpoint/metadata.json is damaged .*"fresh": true`,
      ),
    );
  });

  it('answers status with a damaged metrics.json, saying the metrics are lost and written anew, and drives on', async () => {
    // given two stopped jobs whose metrics.json something else overwrote: cut short, and not a list
    const root = new S3BlockStore({ client: s3Client(), bucket });
    for (const [job, text] of [
      ['cut-metrics', '[{"batchTi'],
      ['object-metrics', '{}'],
    ] as const) {
      await root.put(`jobs/${job}/control.json`, JSON.stringify({ state: 'stopped', updatedAt: '' }));
      await root.put(`jobs/${job}/metrics.json`, text);
      // when its status is asked
      const status = await controlFunction().handle({ action: 'status', job }, 0);
      // then the job's state is answered with no batch and a sentence naming the object, where it threw a
      // SyntaxError (or "metrics.slice is not a function") out of the handler
      expect(status).toMatchObject({ ok: true, job, state: 'stopped', batches: [] });
      expect(status.metricsError).toMatch(
        new RegExp(
          `^s3://${bucket}/jobs/${job}/metrics.json is not (JSON|a list of batches).*writes it anew at the next batch`,
        ),
      );
    }
    // and when the job is started again for a batch, the coordinator drives it and writes the metrics anew
    const coordinator = CoordinatorRuntime.fromEnv(
      { SLUICE_BUCKET: bucket, SLUICE_WORKER_FUNCTION: 'worker' },
      clients,
    );
    // (one partition: the batch runs in the coordinator, with no worker function)
    const doc = { ...job({ type: 'queue', batches: [['a']] }), name: 'cut-metrics', defaultPartitions: 1 };
    const started = await coordinator.handle({ action: 'start', job: doc, batches: 1 }, 10_000);
    expect(started).toMatchObject({
      ok: true,
    });
    const status = await controlFunction().handle({ action: 'status', job: 'cut-metrics' }, 0);
    expect(status).toMatchObject({ ok: true, batches: [{ batchTime: expect.any(Number) }] });
    expect(status.metricsError).toBeUndefined();
  });

  it('answers a tick naming a job that has no records as status does, on both functions', async () => {
    // given no job named "gone" (never started, or deleted from the bucket)
    const coordinator = CoordinatorRuntime.fromEnv(
      { SLUICE_BUCKET: bucket, SLUICE_WORKER_FUNCTION: 'worker' },
      clients,
    );
    // when a tick names it, then both say there is no such job, where the coordinator answered ok with the state
    // "unknown" and the control function forwarded it
    for (const runtime of [coordinator, controlFunction()]) {
      expect(await runtime.handle({ action: 'tick', job: 'gone' }, 0)).toEqual({
        ok: false,
        error: 'job: no job named "gone"',
      });
    }
  });

  it("reports a running job whose document was deleted with what to do, in the tick's answer", async () => {
    // given a running job whose job.json was deleted from the bucket
    const root = new S3BlockStore({ client: s3Client(), bucket });
    await root.put('jobs/no-document/control.json', JSON.stringify({ state: 'running', updatedAt: '' }));
    const coordinator = CoordinatorRuntime.fromEnv(
      { SLUICE_BUCKET: bucket, SLUICE_WORKER_FUNCTION: 'worker' },
      clients,
    );
    // when the tick drives it
    const tick = (await coordinator.handle({ action: 'tick', job: 'no-document' }, 0)) as {
      driven: { error?: string }[];
    };
    // then its answer names the object and says how to go on, where it only said the object was missing
    expect(tick.driven).toEqual([
      {
        ok: false,
        job: 'no-document',
        error: expect.stringMatching(
          new RegExp(
            `^s3://${bucket}/jobs/no-document/job.json is missing .*start the job again with its document`,
          ),
        ),
      },
    ]);
  });

  it('drives until a margin before the timeout: a fifth of the time left, from 1 s to 30 s', () => {
    expect(drivingBudgetMs(300_000)).toBe(270_000);
    expect(drivingBudgetMs(10_000)).toBe(8000);
    expect(drivingBudgetMs(3000)).toBe(2000);
    expect(drivingBudgetMs(500)).toBe(0);
  });

  it('needs the coordinator’s name to run as the control function', () => {
    expect(() => CoordinatorRuntime.fromEnv({ SLUICE_BUCKET: bucket }, clients, { drive: false })).toThrow(
      /control function needs the environment variables SLUICE_COORDINATOR_FUNCTION/,
    );
    expect(() => CoordinatorRuntime.fromEnv({ SLUICE_BUCKET: bucket }, clients)).toThrow(
      /coordinator needs the environment variables SLUICE_WORKER_FUNCTION/,
    );
  });
});
