import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsMetricsUiSource } from '../../lib/aws/AwsMetricsUiSource';
import { withBatch } from '../../lib/aws/JobRecords';
import { KinesisSource } from '../../lib/aws/KinesisSource';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { inputStreamStatusRows } from '../../lib/ui/static/pageFormat.js';
import { batchInfo } from '../helpers/batchInfo';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-aws-ui-inputs-'));
  await mkdir(join(dir, 'jobs/moods'), { recursive: true });
  await writeFile(join(dir, 'jobs/moods/job.json'), JSON.stringify({ name: 'moods', batchIntervalMs: 1000 }));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A batch of two input streams, `moods` (Kinesis) and `corrections` (S3), as the coordinator reports it. */
function batch(batchTime: number): BatchInfo {
  return batchInfo({
    batchTime,
    records: 5,
    inputRecords: { n1: 3, n2: 2 },
    inputs: {
      n1: { name: 'moods', took: [`shardId-000: after 49${batchTime} to 50${batchTime} (3 records)`] },
      n2: { name: 'corrections', took: [`fixes/${batchTime}.txt bytes 0–20 of 20`] },
    },
  });
}

/** Writes `batches` as the coordinator keeps them, and reads them as `sluice ui` does. */
async function read(batches: readonly BatchInfo[]) {
  await writeFile(join(dir, 'jobs/moods/metrics.json'), JSON.stringify(batches));
  const source = new AwsMetricsUiSource(new LocalFolderStore(dir), 'moods');
  return { source, summary: await source.summary() };
}

describe('the Streaming UI of a job on AWS, its input streams', () => {
  it("names them from the coordinator's kept metrics, where the newest batches keep what each stream took", async () => {
    // given 150 batches kept by the coordinator's rule
    let kept: BatchInfo[] = [];
    for (let n = 1; n <= 150; n++) kept = withBatch(kept, batch(n * 1000));
    // when the UI reads them
    const { source, summary } = await read(kept);
    // then the summary names both streams once, its rows count their records, and carry no details
    expect(summary.inputStreams).toEqual([
      { id: 'n1', name: 'moods' },
      { id: 'n2', name: 'corrections' },
    ]);
    expect(summary.batches.at(-1)?.inputRecords).toEqual({ n1: 3, n2: 2 });
    expect(summary.batches.some((b) => 'inputs' in b)).toBe(false);
    // and a newest batch's page has what each took; an old one's has none (the file stays small)
    expect((await source.batch(150_000))?.info.inputs?.n1?.took).toEqual([
      'shardId-000: after 49150000 to 50150000 (3 records)',
    ]);
    expect((await source.batch(10_000))?.info.inputs).toBeUndefined();
  });

  it('names them by their ids in kept metrics written before streams had names', async () => {
    // given kept metrics of an older coordinator: records by stream id, no names
    const { summary } = await read([
      batchInfo({ batchTime: 1000, records: 1, inputRecords: { n1: 1, n4: 0 } }),
    ]);
    // then each stream is named by its id
    expect(summary.inputStreams).toEqual([
      { id: 'n1', name: 'n1' },
      { id: 'n4', name: 'n4' },
    ]);
  });

  it("show each stream's latest error as the coordinator's newest batch recorded it, and nothing before one", async () => {
    // given kept metrics whose newest batch has the Kinesis stream's throttling as its latest error
    const throttled = {
      atMs: Date.UTC(2026, 10, 30, 18, 40, 7),
      message: 'ProvisionedThroughputExceededException: Rate exceeded for shard shardId-000.',
    };
    const calm = batch(1000);
    const troubled = batch(2000);
    const { summary, source } = await read([
      calm,
      { ...troubled, inputs: { ...troubled.inputs, n1: { ...troubled.inputs!.n1!, lastError: throttled } } },
    ]);
    // then the summary's stream has it, and the page's table shows its UTC time and message; the S3 stream's cells
    // are empty
    expect(summary.inputStreams[0]).toEqual({ id: 'n1', name: 'moods', lastError: throttled });
    expect(summary.inputStreams[1]).toEqual({ id: 'n2', name: 'corrections' });
    expect(inputStreamStatusRows(summary.inputStreams)).toEqual([
      { name: 'moods', state: '', lastErrorTime: '2026/11/30 18:40:07 UTC', lastError: throttled.message },
      { name: 'corrections', state: '', lastErrorTime: '', lastError: '' },
    ]);
    // and the batch before it says nothing of errors
    expect((await source.batch(1000))?.info.inputs?.n1).not.toHaveProperty('lastError');
  });

  it("show a stream's state and error as the coordinator last wrote them in active.json, after the newest batch", async () => {
    // given a newest kept batch whose socket stream was connected, and an active.json the coordinator wrote after
    // it, when the connection had been lost and was being retried
    const connected = batchInfo({
      batchTime: 1000,
      records: 1,
      inputRecords: { n1: 1 },
      inputs: { n1: { name: 'lines', state: 'connected' } },
    });
    const lost = { atMs: Date.UTC(2026, 10, 30, 18, 40, 9), message: 'Error: read ECONNRESET' };
    const snapshot = {
      writtenAtMs: Date.UTC(2026, 10, 30, 18, 40, 10),
      active: [],
      inputs: [{ id: 'n1', name: 'lines', state: 'retrying', lastError: lost }],
    };
    await writeFile(join(dir, 'jobs/moods/active.json'), JSON.stringify(snapshot));
    // when the UI reads them
    const { summary } = await read([connected]);
    // then the stream is retrying, with the lost connection as its latest error, before a batch recorded it
    expect(summary.inputStreams).toEqual([{ id: 'n1', name: 'lines', state: 'retrying', lastError: lost }]);
    expect(summary.unreadable).toBeUndefined();
    // and an active.json of an earlier coordinator, without them, leaves the newest batch's
    await writeFile(join(dir, 'jobs/moods/active.json'), JSON.stringify({ ...snapshot, inputs: undefined }));
    expect((await read([connected])).summary.inputStreams).toEqual([
      { id: 'n1', name: 'lines', state: 'connected' },
    ]);
    // and one whose streams are not what the coordinator writes is named as unreadable
    await writeFile(
      join(dir, 'jobs/moods/active.json'),
      JSON.stringify({ ...snapshot, inputs: [{ id: 1 }] }),
    );
    expect((await read([connected])).summary.unreadable).toEqual([
      "jobs/moods/active.json is not the coordinator's active batches: none is shown",
    ]);
    // and so is one whose stream has a null error, where the summary failed with a TypeError
    await writeFile(
      join(dir, 'jobs/moods/active.json'),
      JSON.stringify({ ...snapshot, inputs: [{ id: 'n1', name: 'lines', lastError: null }] }),
    );
    expect((await read([connected])).summary.unreadable).toEqual([
      "jobs/moods/active.json is not the coordinator's active batches: none is shown",
    ]);
  });

  it("take a Kinesis stream's latest error from the report of a task whose read was throttled", async () => {
    // given a Kinesis source whose planned batch's task reported a throttled read it recovered from
    const trouble = { atMs: 1_000, message: 'ProvisionedThroughputExceededException: Rate exceeded.' };
    const source = new KinesisSource({ client: {} as never, streamName: 'moods' }); // no call is made here
    const part = {
      streamName: 'moods',
      shards: [{ shardId: 'shardId-000', skipCutsMs: [], cutMs: 1000 }],
      maxRecords: 10,
      settleMs: 0,
      report: { storeUrl: 'memory://', key: 'input/n1/1000/read-0.json' },
    };
    const report = { shards: [{ shardId: 'shardId-000', last: '49', closed: false, records: 3 }], trouble };
    expect(source.status()).toEqual({});
    // when the coordinator counts the batch's records from the reports
    await source.recordsRead(
      { reader: 'kinesis', parts: [part] },
      {
        folder: 'input/n1/1000/',
        readReport: async () => new TextEncoder().encode(JSON.stringify(report)),
      },
    );
    // then the source's status has the trouble, for the batch's input info
    expect(source.status()).toEqual({ lastError: trouble });
  });
});
