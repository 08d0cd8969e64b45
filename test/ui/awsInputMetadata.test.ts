import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import type { KinesisReadPart, KinesisReport } from '../../lib/aws/KinesisRangeReader';
import { KinesisSource } from '../../lib/aws/KinesisSource';
import { S3PrefixSource, type S3ReadPart } from '../../lib/aws/S3PrefixSource';

// Describing a plan reads no AWS service: a client that is never called stands for one.
const noS3 = {} as S3Client; // never called: describeRead reads the plan only
const noKinesis = {} as KinesisClient; // never called: describeRead reads the plan and the task reports only

describe("a batch's input metadata on AWS", () => {
  it('names the S3 objects a batch read, an object split over tasks once, a part of one by its byte range', async () => {
    // given a plan of two tasks: a.txt split between them, then the first 50 bytes of b.txt
    const source = new S3PrefixSource({ client: noS3, bucket: 'in', prefix: 'logs/' });
    const parts: S3ReadPart[] = [
      { bucket: 'in', ranges: [{ key: 'logs/a.txt', startByte: 0, endByte: 60, sizeBytes: 100 }] },
      {
        bucket: 'in',
        ranges: [
          { key: 'logs/a.txt', startByte: 60, endByte: 100, sizeBytes: 100 },
          { key: 'logs/b.txt', startByte: 0, endByte: 50, sizeBytes: 80 },
        ],
      },
    ];
    // then each object is one line, and a plan of whole keys (checkpointed before byte ranges) names its keys
    expect(await source.describeRead({ reader: 's3', parts: [...parts, null] })).toEqual([
      'logs/a.txt (100 bytes)',
      'logs/b.txt bytes 0–50 of 80',
    ]);
    expect(
      await source.describeRead({ reader: 's3', parts: [{ bucket: 'in', keys: ['logs/old.txt'] }] }),
    ).toEqual(['logs/old.txt']);
  });

  it("gives each Kinesis shard's sequence range, from where the batches before ended to its task's report", async () => {
    // given a task that read two shards: one after sequence 100, up to 180; one from its start, with nothing new
    const source = new KinesisSource({ client: noKinesis, streamName: 'moods' });
    const part: KinesisReadPart = {
      streamName: 'moods',
      shards: [
        { shardId: 'shardId-000', after: '100', skipCutsMs: [], cutMs: 5000 },
        { shardId: 'shardId-001', skipCutsMs: [], cutMs: 5000 },
      ],
      maxRecords: 10_000,
      settleMs: 0,
      report: { storeUrl: 'mem://', key: 'input/n1/2000/read-0.json' },
    };
    const report: KinesisReport = {
      shards: [
        { shardId: 'shardId-000', last: '180', closed: false, records: 7 },
        { shardId: 'shardId-001', closed: true, records: 0 },
      ],
      getRecordsCalls: 2,
    };
    const reports = new Map([[part.report.key, new TextEncoder().encode(JSON.stringify(report))]]);
    // when the batch's read is described
    const lines = await source.describeRead(
      { reader: 'kinesis', parts: [part] },
      { folder: 'input/n1/2000/', readReport: async (key) => reports.get(key) },
    );
    // then each shard has its range and records
    expect(lines).toEqual([
      'shardId-000: after 100 to 180 (7 records)',
      'shardId-001: no record from its start (0 records, closed)',
    ]);
  });
});
