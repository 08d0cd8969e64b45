import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  GetObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lib/aws/awsClients';
import { TEMPORARY_PREFIXES, TEMPORARY_TAG } from '../../lib/aws/bucketLayout';
import { S3BlockStore } from '../../lib/aws/S3BlockStore';
import type { BlockStore } from '../../lib/storage/BlockStore';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { blockStoreContract, blockStoreScript, runBlockStoreScript } from '../helpers/blockStoreContract';
import { testS3Client, uniqueName } from './localstack';

// Against the LocalStack that test/aws/globalSetup.ts starts; one bucket for the file, one prefix per case.
const client = testS3Client();
const bucket = uniqueName('s3bs');
let cases = 0;
const folders: string[] = [];

/** A store over a prefix of the bucket that no other case uses. */
function freshStore(options: { client?: S3Client; prefix?: string } = {}): S3BlockStore {
  return new S3BlockStore({
    client: options.client ?? client,
    bucket,
    prefix: options.prefix ?? `case-${++cases}`,
    retry: { baseBackoffMs: 1, maxBackoffMs: 5 },
  });
}

async function freshFolderStore(): Promise<LocalFolderStore> {
  const folder = await mkdtemp(join(tmpdir(), 'sluice-store-'));
  folders.push(folder);
  return new LocalFolderStore(folder);
}

/**
 * An S3 client whose first `failures` HTTP attempts of the named commands get a 503 SlowDown, as S3 answers
 * when a prefix is hot. The fault sits below the SDK's retry layer, and later attempts reach LocalStack.
 */
function throttledClient(failures: number, commands: readonly string[], maxAttempts = 1) {
  const throttled = testS3Client({ maxAttempts });
  const seen = { failed: 0, served: 0 };
  throttled.middlewareStack.add(
    (next, context) => async (args) => {
      if (!commands.includes(context.commandName ?? '')) return next(args);
      if (seen.failed >= failures) {
        seen.served++;
        return next(args);
      }
      seen.failed++;
      const body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>' +
        '<Message>Please reduce your request rate.</Message><RequestId>test</RequestId></Error>';
      return {
        response: {
          statusCode: 503,
          headers: { 'content-type': 'application/xml' },
          body: Readable.from([Buffer.from(body)]),
        },
        output: {},
      } as never; // a raw HTTP response, turned into an S3 error by the deserializer above this step
    },
    { step: 'deserialize', priority: 'low', name: 'injectSlowDown' },
  );
  return { client: throttled, seen };
}

beforeAll(async () => {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  await new S3BlockStore({ client, bucket }).deletePrefix('');
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

describe('S3BlockStore', () => {
  describe('keeps the BlockStore contract', () => {
    blockStoreContract(async () => freshStore());
  });

  it('given the same operations on S3 and on a folder, when each result is compared, then they are identical', async () => {
    // Given
    const script = blockStoreScript(20261124, 120);
    // When
    const onS3 = await runBlockStoreScript(freshStore(), script);
    const onFolder = await runBlockStoreScript(await freshFolderStore(), script);
    // Then
    expect(onS3).toEqual(onFolder);
    expect(onFolder.filter((r) => r === 'error').length).toBeGreaterThan(0); // the script does reach failures
  });

  it('given a store that lists in the wrong order, when compared with the folder store, then the comparison fails', async () => {
    // Given: the harness must notice a store that breaks the contract.
    const real = freshStore();
    const broken: BlockStore = {
      put: (k, v) => real.put(k, v),
      get: (k) => real.get(k),
      getRange: (k, s, e) => real.getRange(k, s, e),
      list: async (p) => (await real.list(p)).reverse(),
      deletePrefix: (p) => real.deletePrefix(p),
    };
    const script = blockStoreScript(20261124, 120);
    // When
    const onBroken = await runBlockStoreScript(broken, script);
    const onFolder = await runBlockStoreScript(await freshFolderStore(), script);
    // Then
    expect(onBroken).not.toEqual(onFolder);
  });

  it('given more than a page of keys, when listed and deleted, then every key is seen and every key goes', async () => {
    // Given: 1,050 keys, more than ListObjectsV2's 1,000 per page and DeleteObjects' 1,000 per request.
    const store = freshStore();
    const keys = Array.from({ length: 1050 }, (_, i) => `part/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((key) => store.put(key, key)));
    }
    // When
    const listed = await store.list('part/');
    const before = store.requests;
    await store.deletePrefix('part/');
    // Then
    expect(listed).toEqual(keys);
    expect(store.requests - before).toBe(2 + 2); // two list pages, two delete batches
    expect(await store.list('')).toEqual([]);
  });

  it('given two stores on different prefixes, when each writes and lists, then neither sees the other', async () => {
    const a = freshStore({ prefix: `iso-${cases}/a` });
    const b = freshStore({ prefix: `iso-${cases}/ab/` });
    await a.put('k', 'from a');
    await b.put('k', 'from b');
    expect(await a.list('')).toEqual(['k']);
    expect(await b.list('')).toEqual(['k']);
    await a.deletePrefix('');
    expect(new TextDecoder().decode(await b.get('k'))).toBe('from b');
  });

  describe('conditional writes', () => {
    it('given a block written with putIfAbsent, when putIfAbsent writes it again, then the second is refused', async () => {
      const store = freshStore();
      expect(await store.putIfAbsent('lease', 'first')).toBe(true);
      expect(await store.putIfAbsent('lease', 'second')).toBe(false);
      expect(new TextDecoder().decode(await store.get('lease'))).toBe('first');
    });

    it('given two writers racing with putIfAbsent, when both finish, then exactly one won', async () => {
      const store = freshStore();
      const results = await Promise.all([store.putIfAbsent('lease', 'a'), store.putIfAbsent('lease', 'b')]);
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('given the current etag, when putIfMatch writes, then it succeeds and the etag changes', async () => {
      const store = freshStore();
      await store.put('lease', 'v1');
      const current = await store.getWithEtag('lease');
      expect(current?.etag).toMatch(/\S/);
      expect(await store.putIfMatch('lease', 'v2', current?.etag ?? '')).toBe(true);
      const after = await store.getWithEtag('lease');
      expect(new TextDecoder().decode(after?.bytes)).toBe('v2');
      expect(after?.etag).not.toBe(current?.etag);
    });

    it('given a stale etag, when putIfMatch writes, then it is refused and the block keeps the newer value', async () => {
      const store = freshStore();
      await store.put('lease', 'v1');
      const stale = await store.getWithEtag('lease');
      await store.put('lease', 'v2 by another coordinator');
      expect(await store.putIfMatch('lease', 'v3', stale?.etag ?? '')).toBe(false);
      expect(new TextDecoder().decode(await store.get('lease'))).toBe('v2 by another coordinator');
    });

    it('given no block, when putIfMatch writes or getWithEtag reads, then it is refused or undefined', async () => {
      const store = freshStore();
      expect(await store.getWithEtag('lease')).toBeUndefined();
      expect(await store.putIfMatch('lease', 'v1', '"0123456789abcdef0123456789abcdef"')).toBe(false);
      expect(await store.get('lease')).toBeUndefined();
    });
  });

  describe('retries', () => {
    it('given S3 answers SlowDown twice and the SDK does not retry, when a block is written, then the store retries it', async () => {
      // Given
      const { client: throttled, seen } = throttledClient(2, ['PutObjectCommand']);
      const store = freshStore({ client: throttled });
      // When
      await store.put('hot/key', 'made it');
      // Then
      expect(seen).toEqual({ failed: 2, served: 1 });
      expect(store.requests).toBe(3);
      expect(new TextDecoder().decode(await store.get('hot/key'))).toBe('made it');
    });

    it('given S3 answers SlowDown beyond the SDK attempts, when a block is read, then both layers retry and it is read', async () => {
      // Given: 3 SDK attempts per call, 4 failures: the SDK gives up once, the store calls again.
      const writer = freshStore();
      await writer.put('hot/key', 'payload');
      const { client: throttled, seen } = throttledClient(4, ['GetObjectCommand'], 3);
      const store = freshStore({ client: throttled, prefix: writer.prefix });
      // When
      const got = await store.get('hot/key');
      // Then
      expect(new TextDecoder().decode(got)).toBe('payload');
      expect(seen).toEqual({ failed: 4, served: 1 });
      expect(store.requests).toBe(5);
    });

    it('given S3 keeps answering SlowDown, when a block is written, then the write fails after the last retry', async () => {
      const { client: throttled, seen } = throttledClient(1000, ['PutObjectCommand']);
      const store = new S3BlockStore({
        client: throttled,
        bucket,
        prefix: `case-${++cases}`,
        retry: { retries: 3, baseBackoffMs: 1, maxBackoffMs: 2 },
      });
      await expect(store.put('hot/key', 'x')).rejects.toMatchObject({ name: 'SlowDown' });
      expect(seen.failed).toBe(4);
      expect(store.requests).toBe(4);
    });

    it('given a bucket that does not exist, when a block is written, then it fails at once without retries', async () => {
      const store = new S3BlockStore({ client, bucket: uniqueName('missing'), retry: { baseBackoffMs: 1 } });
      await expect(store.put('k', 'x')).rejects.toMatchObject({ name: 'NoSuchBucket' });
      expect(store.requests).toBe(1);
    });
  });

  it('given the environment of the global setup, when the shared s3Client() is used, then it reaches LocalStack', async () => {
    expect(process.env.AWS_ENDPOINT_URL).toBe('http://127.0.0.1:4566');
    const store = freshStore({ client: s3Client() });
    await store.put('shared/client', 'path-style');
    expect(new TextDecoder().decode(await store.get('shared/client'))).toBe('path-style');
    expect(s3Client()).toBe(s3Client()); // one client per process
  });

  it('given temporary prefixes, when blocks are written, then only theirs carry the tag the lifecycle rule expires', async () => {
    const store = new S3BlockStore({
      client,
      bucket,
      prefix: `case-${++cases}`,
      temporary: { prefixes: TEMPORARY_PREFIXES, tag: TEMPORARY_TAG },
    });
    await store.put('shuffle/1000/0/1', 'map output');
    await store.put('persist/n3@1000/0', 'state');
    const tagsOf = async (key: string) =>
      (await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: `${store.prefix}${key}` })))
        .TagSet;
    expect(await tagsOf('shuffle/1000/0/1')).toEqual([
      { Key: TEMPORARY_TAG.key, Value: TEMPORARY_TAG.value },
    ]);
    expect(await tagsOf('persist/n3@1000/0')).toEqual([]);
    expect(store.requests).toBe(2); // the tag travels with the PutObject
  });

  it('given an invalid bucket or prefix, when a store is made, then the constructor says what was expected', () => {
    expect(() => new S3BlockStore({ client, bucket: '' })).toThrow(/bucket must be a non-empty string/);
    expect(() => new S3BlockStore({ client, bucket, prefix: '/abs' })).toThrow(
      /must be a string not starting/,
    );
  });
});
