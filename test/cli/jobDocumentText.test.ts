import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobValidationError } from '../../lib/errors';
import { jobDocumentText } from '../../lib/local/cli/jobDocumentText';
import { jobSourceFromArgument } from '../../lib/local/cli/jobSourceFromArgument';

/** The message `jobDocumentText` refuses bytes with. */
function refusal(bytes: Uint8Array): string {
  try {
    jobDocumentText(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(JobValidationError);
    return (error as Error).message;
  }
  throw new Error('the bytes were accepted');
}

describe('jobDocumentText', () => {
  it('reads UTF-8 as it is', () => {
    const text = '{"name": "café-ü-€-𝄞"}';
    expect(jobDocumentText(Buffer.from(text, 'utf8'))).toBe(text);
  });

  it('skips a leading byte order mark', () => {
    // given a UTF-8 file that starts with a byte order mark (JSON.parse refused it: Unexpected token '﻿')
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a": 1}')]);
    // then the text is the document without it
    expect(JSON.parse(jobDocumentText(bytes))).toEqual({ a: 1 });
  });

  it('refuses Latin-1 at the byte offset of the first byte that is not UTF-8', () => {
    // given a Latin-1 file: `café` on its second line, é being the single byte 0xE9
    const bytes = Buffer.from('{\n"expr": "$ = \\"caf\xe9\\""}', 'latin1');
    // then it is refused at that byte (it used to read as caf� and validate)
    expect(refusal(bytes)).toContain(
      'the job file is not UTF-8: byte 20 (line 2) is 0xE9, which starts no UTF-8',
    );
  });

  it('counts the offset from the start of the file, byte order mark included', () => {
    const bytes = Buffer.from([0xef, 0xbb, 0xbf, 0x41, 0xc3, 0xa9, 0x80]);
    expect(refusal(bytes)).toContain('byte 6 (line 1) is 0x80');
  });

  it('finds the first bad sequence whatever makes it bad', () => {
    // given sequences that isUtf8 refuses, each after one valid `a`: overlong, surrogate, past U+10FFFF, cut short
    for (const bad of [
      [0xc0, 0xaf],
      [0xe0, 0x80, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf5, 0x80],
      [0xe2, 0x82],
      [0xef, 0xbf, 0x41],
    ]) {
      // then each is refused at byte 1
      expect(refusal(Buffer.from([0x61, ...bad]))).toContain('byte 1 (line 1)');
    }
  });
});

describe('a job file read from the command line', () => {
  /** A job whose filter compares with `café`, in the bytes `encode` makes of its text. */
  async function withJobFile(encode: (text: string) => Buffer, use: (file: string) => Promise<void>) {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-job-text-'));
    const job = {
      name: 'cafes',
      batchIntervalMs: 1000,
      sources: { lines: { type: 'queue', batches: [['café', 'tea']] } },
      streams: { cafes: { from: 'lines', ops: [{ op: 'filter', expr: '$ = "café"' }] } },
      outputs: [{ stream: 'cafes', type: 'print' }],
    };
    try {
      const file = join(dir, 'job.json');
      await writeFile(file, encode(JSON.stringify(job)));
      await use(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('is refused when it is Latin-1, which used to validate and then match nothing', async () => {
    await withJobFile(
      (text) => Buffer.from(text, 'latin1'),
      async (file) => {
        await expect(jobSourceFromArgument(file)).rejects.toThrow(
          /the job file is not UTF-8: byte \d+ \(line 1\)/,
        );
      },
    );
  });

  it('is read past a leading byte order mark', async () => {
    await withJobFile(
      (text) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]),
      async (file) => {
        const source = await jobSourceFromArgument(file);
        expect(source.kind === 'document' && (source.document as { name: string }).name).toBe('cafes');
      },
    );
  });

  it('is refused where it is not JSON with the line and column, not the character position alone', async () => {
    await withJobFile(
      // given a job written over lines, with a comma too many at the end of its third line
      (text) =>
        Buffer.from(
          text.replace('{"name":"cafes",', '{\n  "name": "cafes",\n  "batchIntervalMs": 1000,,\n'),
          'utf8',
        ),
      async (file) => {
        // then the message says where, as an editor counts: line 3, at the second comma
        await expect(jobSourceFromArgument(file)).rejects.toThrow(
          /the job file is not valid JSON: .*\(line 3,? column 27\)/,
        );
      },
    );
  });
});
