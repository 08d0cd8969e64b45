import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { unreadableStaticFiles } from '../../lib/aws/staticFileChecks';

/** A client whose every call succeeds, counting its calls: the object is there. */
function present() {
  const client = {
    calls: 0,
    send: async () => {
      client.calls++;
      return {};
    },
  };
  return client;
}

describe("the start's check of a job's static files, over a stub client", () => {
  it('names a path that is no S3 address at its JSON path, where the start failed with a bare URIError', async () => {
    // given a static file whose relative path holds a % that starts no escape, beside one that is there
    const s3 = present();
    const targets = [
      { path: 'datasets.odd.path', value: '100%.txt', url: 's3://bucket/static/100%.txt' },
      { path: 'datasets.spam.path', value: 'spam.txt', url: 's3://bucket/static/spam.txt' },
    ];
    // when the start checks them
    const issues = await unreadableStaticFiles(targets, s3 as unknown as S3Client);
    // then the odd one is an issue at its path, asking nothing of S3, and the other is checked as before
    expect(issues).toEqual([
      {
        path: 'datasets.odd.path',
        value: '100%.txt',
        message: expect.stringMatching(/^s3:\/\/bucket\/static\/100%\.txt is not an S3 address .*URIError/),
      },
    ]);
    expect(s3.calls).toBe(1);
  });
});
