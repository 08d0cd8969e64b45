import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lib/aws/awsClients';
import { CONCURRENT_RANGES, readS3Part, S3PrefixSource, type S3ReadPart } from '../../lib/aws/S3PrefixSource';
import { unreadableOf } from '../../lib/source/UnreadableRecord';
import { testS3Client, uniqueName } from './localstack';

const bucket = uniqueName('prefix');

async function put(key: string, text: string | Buffer) {
  await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text }));
}

/** A store that is never opened: these reads ask for no report. */
const noReport = () => {
  throw new Error('no report was asked for');
};

/** Every part of the next planned batch of `source`, read as its tasks read them. */
async function readPlanned(source: S3PrefixSource, partitions: number): Promise<string[][]> {
  const plan = await source.planBatch(1000, 1000, partitions, {
    folder: 'f/',
    readReport: async () => undefined,
  });
  const parts: string[][] = [];
  for (const part of plan.parts as S3ReadPart[]) {
    parts.push(await readS3Part(s3Client(), { ...part, report: undefined }, noReport));
  }
  return parts;
}

beforeAll(async () => {
  await s3Client().send(new CreateBucketCommand({ Bucket: bucket }));
});

describe('S3PrefixSource', () => {
  it('gives each new object to exactly one batch, in key order, and ignores other prefixes', async () => {
    // given two objects under the prefix and one elsewhere
    await put('in/a.txt', 'a1\na2\n');
    await put('in/b.txt', 'b1');
    await put('other/x.txt', 'x');
    const source = new S3PrefixSource({ client: s3Client(), bucket, prefix: 'in/' });
    // when batches are read while another object arrives
    const first = await source.recordsFor();
    const empty = await source.recordsFor();
    await put('in/c.txt', 'c1\r\nc2\n');
    const second = await source.recordsFor();
    // then every line arrives once, in the batch after its object appeared
    expect(first).toEqual(['a1', 'a2', 'b1']);
    expect(empty).toEqual([]);
    expect(second).toEqual(['c1', 'c2']);
  });

  it('makes a line that is not UTF-8 a dead letter with its bytes, as the folder source does, in both read paths', async () => {
    // given an object whose second line is not UTF-8, between lines that are
    const bytes = Buffer.concat([
      Buffer.from('ok\n'),
      Buffer.from([0x61, 0xff, 0xfe]),
      Buffer.from('\r\nété\n'),
    ]);
    await put('bad/a.txt', bytes);
    const expected = [
      'ok',
      {
        reason: 'line is not valid UTF-8; its bytes are kept in base64',
        input: { bytes: 3, base64: 'Yf/+' },
      },
      'été',
    ];
    // when the source reads it at the tick, and a task reads it as a planned part
    const atTick = await new S3PrefixSource({ client: s3Client(), bucket, prefix: 'bad/' }).recordsFor();
    const inTask = await readPlanned(
      new S3PrefixSource({ client: s3Client(), bucket, prefix: 'bad/', direct: { storeUrl: 'unused' } }),
      1,
    );
    // (a part of an older plan names whole objects, and reads as it did)
    const olderPlan = await readS3Part(s3Client(), { bucket, keys: ['bad/a.txt'] }, noReport);
    // then the line is an unreadable record, which the input dataset dead-letters, and no byte became U+FFFD
    expect(atTick.map((line) => unreadableOf(line) ?? line)).toEqual(expected);
    expect(inTask.flat().map((line) => unreadableOf(line) ?? line)).toEqual(expected);
    expect(olderPlan.map((line) => unreadableOf(line) ?? line)).toEqual(expected);
  });

  it('skips a UTF-8 byte order mark at the start of an object, in every read path, and keeps U+FEFF elsewhere', async () => {
    // given an object of JSON lines behind a mark (EF BB BF), with U+FEFF inside a later line
    const mark = Buffer.from([0xef, 0xbb, 0xbf]);
    await put('marked/a.txt', Buffer.concat([mark, Buffer.from('{"n":1}\n{"n":2}\r\nx\uFEFFy\n')]));
    const expected = ['{"n":1}', '{"n":2}', 'x\uFEFFy'];
    // when the source reads it at the tick, tasks read it as ranges of at most 4 bytes (one starting right after
    // the mark) a byte or 64 KiB at a time, and a part of an older plan reads it whole
    const atTick = await new S3PrefixSource({ client: s3Client(), bucket, prefix: 'marked/' }).recordsFor();
    const source = new S3PrefixSource({
      client: s3Client(),
      bucket,
      prefix: 'marked/',
      direct: { storeUrl: 'unused' },
      maxPartBytes: 4,
    });
    const plan = await source.planBatch(1000, 1000, 1, { folder: 'f/', readReport: async () => undefined });
    const parts = plan.parts as S3ReadPart[];
    expect(parts[1]!.ranges![0]!.startByte).toBe(3);
    const inTasks = async (pieceBytes: number) => {
      const lines: string[] = [];
      for (const part of parts)
        lines.push(...(await readS3Part(s3Client(), { ...part, report: undefined }, noReport, pieceBytes)));
      return lines;
    };
    const olderPlan = await readS3Part(s3Client(), { bucket, keys: ['marked/a.txt'] }, noReport);
    // then no line holds the mark, and each line is read once
    expect(atTick).toEqual(expected);
    expect(await inTasks(1)).toEqual(expected);
    expect(await inTasks(64 * 1024)).toEqual(expected);
    expect(olderPlan).toEqual(expected);
  });

  it('plans byte ranges of at most maxPartBytes, which tasks read piece by piece into each line once', async () => {
    // given two objects of hard lines (CRLF, empty lines, multibyte, no final newline), 2 partitions, parts of 1 KiB
    const lines = Array.from({ length: 401 }, (_, i) => (i % 7 === 0 ? '' : `é${i} ${'x'.repeat(i % 23)}`));
    const first = `${lines.slice(0, 250).join('\r\n')}\r\n`;
    const second = lines.slice(250).join('\n'); // no final newline
    await put('ranges/1.txt', first);
    await put('ranges/2.txt', second);
    const source = new S3PrefixSource({
      client: s3Client(),
      bucket,
      prefix: 'ranges/',
      direct: { storeUrl: 'unused' },
      maxPartBytes: 1024,
    });
    // when the batch is planned and each part read 37 bytes a GET, and read again as a recomputed task would
    const plan = await source.planBatch(1000, 1000, 2, { folder: 'f/', readReport: async () => undefined });
    const parts = plan.parts as S3ReadPart[];
    const read = async () => {
      const out: string[][] = [];
      for (const part of parts)
        out.push(await readS3Part(s3Client(), { ...part, report: undefined }, noReport, 37));
      return out;
    };
    const once = await read();
    // then the batch got more parts than partitions, none over the cap, covering both objects end to end
    const total = Buffer.byteLength(first) + Buffer.byteLength(second);
    expect(parts.length).toBe(Math.ceil(total / 1024));
    for (const part of parts) {
      expect(part.ranges!.reduce((sum, r) => sum + r.endByte - r.startByte, 0)).toBeLessThanOrEqual(1024);
      for (const range of part.ranges!) expect(range.etag).toMatch(/^"[0-9a-f]+"$/);
    }
    // and every line is read once, in order
    expect(once.flat()).toEqual(lines);
    expect(await read()).toEqual(once);
  });

  it('reads a part of many small objects several at a time, and gives their lines in key order', async () => {
    // given 40 objects of 2 lines each, planned into one part, and a client that counts the GETs in flight
    const keys = Array.from({ length: 40 }, (_, i) => `many/${String(i).padStart(2, '0')}.txt`);
    for (const key of keys) await put(key, `${key} 1\n${key} 2\n`);
    const client = testS3Client();
    let inFlight = 0;
    let mostInFlight = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'GetObjectCommand') return next(args);
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        try {
          return await next(args);
        } finally {
          inFlight--;
        }
      },
      { step: 'initialize', name: 'countInFlight' },
    );
    const source = new S3PrefixSource({ client, bucket, prefix: 'many/', direct: { storeUrl: 'unused' } });
    const plan = await source.planBatch(1000, 1000, 1, { folder: 'f/', readReport: async () => undefined });
    // when the task reads its part
    const [part] = plan.parts as S3ReadPart[];
    const lines = await readS3Part(client, { ...part!, report: undefined }, noReport);
    // then every object's lines come in key order, and the GETs overlapped up to the bound
    expect(part!.ranges).toHaveLength(40);
    expect(lines).toEqual(keys.flatMap((key) => [`${key} 1`, `${key} 2`]));
    expect(mostInFlight).toBe(CONCURRENT_RANGES);
  });

  it('fails a planned read, saying what to do, when its object was overwritten or deleted since', async () => {
    // given a batch planned over two objects
    await put('changed/a.txt', 'a1\na2\n');
    await put('changed/b.txt', 'b1\nb2\n');
    const source = new S3PrefixSource({
      client: s3Client(),
      bucket,
      prefix: 'changed/',
      direct: { storeUrl: 'x' },
    });
    const plan = await source.planBatch(1000, 1000, 2, { folder: 'f/', readReport: async () => undefined });
    const [partA, partB] = plan.parts as S3ReadPart[];
    // when one is overwritten with the same size and the other deleted, and the tasks read
    await put('changed/a.txt', 'A1\nA2\n');
    await s3Client().send(new DeleteObjectCommand({ Bucket: bucket, Key: 'changed/b.txt' }));
    // then neither reads what was not planned
    await expect(readS3Part(s3Client(), { ...partA!, report: undefined }, noReport)).rejects.toThrow(
      /object s3:\/\/.*\/changed\/a\.txt is not the one its batch was planned over .*write a new key instead/,
    );
    await expect(readS3Part(s3Client(), { ...partB!, report: undefined }, noReport)).rejects.toThrow(
      /object s3:\/\/.*\/changed\/b\.txt is gone, but its batch was planned to read it/,
    );
    // and any other failure names the object beside S3's own words
    const elsewhere = { ...partA!, bucket: uniqueName('no-such-bucket'), report: undefined };
    await expect(readS3Part(s3Client(), elsewhere, noReport)).rejects.toThrow(
      /reading object s3:\/\/sluice-no-such-bucket-.*\/changed\/a\.txt failed: NoSuchBucket: /,
    );
  });

  it('defers objects past the per-batch cap to the next batch', async () => {
    for (const k of ['1', '2', '3']) await put(`cap/${k}.txt`, k);
    const source = new S3PrefixSource({ client: s3Client(), bucket, prefix: 'cap/', maxObjectsPerBatch: 2 });
    expect(await source.recordsFor()).toEqual(['1', '2']);
    expect(await source.recordsFor()).toEqual(['3']);
  });

  it('resumes from its checkpointed position without re-reading or missing objects', async () => {
    // given a source that read one object, and its position
    await put('resume/1.txt', 'one');
    const before = new S3PrefixSource({ client: s3Client(), bucket, prefix: 'resume/' });
    expect(await before.recordsFor()).toEqual(['one']);
    const position = before.checkpointPosition();
    // when a new object arrives and a fresh source restores the position
    await put('resume/2.txt', 'two');
    const after = new S3PrefixSource({ client: s3Client(), bucket, prefix: 'resume/' });
    after.restorePosition(JSON.parse(JSON.stringify(position)));
    // then only the new object is read, and a deleted object drops out of the position
    expect(await after.recordsFor()).toEqual(['two']);
    await s3Client().send(new DeleteObjectCommand({ Bucket: bucket, Key: 'resume/1.txt' }));
    await after.recordsFor();
    expect(after.checkpointPosition()).toEqual(['resume/2.txt']);
  });

  it('given a read deadline that passes during the listing, when a batch is read, then it takes the pages listed and the next batch the rest', async () => {
    // given three objects, listed one per page, and a deadline already past
    for (const k of ['1', '2', '3']) await put(`late/${k}.txt`, k);
    let deadline: number | undefined = 0;
    const source = new S3PrefixSource({
      client: s3Client(),
      bucket,
      prefix: 'late/',
      listPageSize: 1,
      readDeadlineMs: () => deadline,
    });
    // when a batch is read past the deadline, then one without it
    const first = await source.recordsFor();
    deadline = undefined;
    const second = await source.recordsFor();
    // then the first took the first page only, and nothing was read twice or missed
    expect(first).toEqual(['1']);
    expect(second).toEqual(['2', '3']);
    expect(source.checkpointPosition()).toEqual(['late/1.txt', 'late/2.txt', 'late/3.txt']);
    // and a listing cut short forgets no key it did not reach: nothing is read again afterwards
    deadline = 0;
    expect(await source.recordsFor()).toEqual([]);
    deadline = undefined;
    expect(await source.recordsFor()).toEqual([]);
  });

  it('rejects a bad cap with the value', () => {
    expect(
      () => new S3PrefixSource({ client: s3Client(), bucket, prefix: 'p/', maxObjectsPerBatch: 0 }),
    ).toThrow(/maxObjectsPerBatch must be a positive whole number, got 0/);
  });
});
