import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';
import { readLinesAt } from '../../lib/source/FileLineCursor';
import { readFolderPart } from '../../lib/source/FolderPartReader';
import type { FolderReadPart } from '../../lib/source/FolderReadPlanner';
import { TextFileSource } from '../../lib/source/TextFileSource';
import { unreadableOf } from '../../lib/source/UnreadableRecord';

/**
 * A UTF-8 byte order mark (EF BB BF) at the start of a file is skipped, as Hadoop's LineRecordReader (Spark's
 * `textFile`, `textFileStream`) skips it: it was part of the first line, whose JSON was then a dead letter. Only
 * byte 0 of a file has one; U+FEFF anywhere else is text and stays.
 */

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** A file of JSON lines behind a mark, with U+FEFF inside a later line (which is kept) and a CRLF. */
const MARKED = Buffer.concat([BOM, Buffer.from('{"n":1}\n{"n":2}\r\nx\uFEFFy\n')]);
const MARKED_LINES = ['{"n":1}', '{"n":2}', 'x\uFEFFy'];

/** Lines of the folder `directory`'s files: each one named here, in name order. */
const FILES: Record<string, Buffer> = {
  'a-marked.txt': MARKED,
  'b-plain.txt': Buffer.from('{"n":3}\n'),
  'c-only-a-mark.txt': BOM,
  // Two bytes of a mark and a newline: not a mark, and not UTF-8, so the line is unreadable as it was.
  'd-half-a-mark.txt': Buffer.from([0xef, 0xbb, 0x0a, 0x7a, 0x0a]),
};
const FOLDER_LINES = [
  ...MARKED_LINES,
  '{"n":3}',
  {
    reason: 'line is not valid UTF-8; its bytes are kept in base64',
    input: { bytes: 2, base64: Buffer.from([0xef, 0xbb]).toString('base64') },
  },
  'z',
];

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'sluice-bom-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function writeFiles(files: Record<string, Buffer>): Promise<void> {
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(directory, name), bytes);
}

const shown = (lines: readonly unknown[]) => lines.map((line) => unreadableOf(line) ?? line);

describe('a folder source reading files that start with a byte order mark', () => {
  it('skips the mark when it reads the new files at the tick', async () => {
    // given files with and without a mark, there before start
    await writeFiles(FILES);
    const source = new TextFileSource(directory, { readsDirectly: false, newFilesOnly: false });
    await source.start();
    // when the batch reads them, then no line holds the mark
    expect(shown(await source.recordsFor())).toEqual(FOLDER_LINES);
  });

  for (const pieceBytes of [1, 2, 5, 64 * 1024]) {
    it(`skips it in the range at byte 0 alone when tasks read planned ranges ${pieceBytes} bytes at a time`, async () => {
      // given the files planned as ranges of at most 4 bytes, so a range of the marked file starts right after its mark
      await writeFiles(FILES);
      const source = new TextFileSource(directory, { newFilesOnly: false, maxPartBytes: 4 });
      await source.start();
      const plan = await source.planBatch(1000, 1000, 2, { folder: 'f/', readReport: async () => undefined });
      const parts = plan.parts.filter((part): part is FolderReadPart => part !== null);
      const marked = parts.flatMap((part) => part.ranges).filter((range) => range.name === 'a-marked.txt');
      expect(marked.map((range) => range.startByte).slice(0, 2)).toEqual([0, 3]);
      // when each part is read, then every line is read once, without the mark, and the ranges still cover the
      // file's bytes, the mark's included
      const lines: unknown[] = [];
      for (const part of parts) lines.push(...(await readFolderPart(part, pieceBytes)));
      expect(shown(lines)).toEqual(FOLDER_LINES);
      expect(marked.at(-1)!.endByte).toBe(MARKED.length);
    });
  }

  for (const maxLines of [1, 2, 100]) {
    it(`skips it when a rate-limited source takes ${maxLines} line(s) at a time, its byte positions the file's`, async () => {
      // given a marked file
      const path = join(directory, 'a-marked.txt');
      await writeFile(path, MARKED);
      // when it is read on from where each read ended, starting at byte 0
      const lines: string[] = [];
      const bytes: number[] = [];
      let position = { taken: 0, byte: 0 };
      for (let ended = false; !ended; ) {
        const read = (await readLinesAt(path, position, maxLines))!;
        lines.push(...read.lines);
        bytes.push(read.byte);
        position = { taken: position.taken + read.lines.length, byte: read.byte };
        ended = read.ended;
      }
      // then the lines have no mark, and the first line ends where its bytes do, the mark's three counted
      expect(lines).toEqual(MARKED_LINES);
      if (maxLines === 1) expect(bytes[0]).toBe(3 + '{"n":1}\n'.length);
      expect(bytes.at(-1)).toBe(MARKED.length);
      // and a position kept without its byte counts its way past the first line, to the second
      expect((await readLinesAt(path, { taken: 1 }, 1))!.lines).toEqual(['{"n":2}']);
    });
  }
});

describe('a static textFile dataset whose file starts with a byte order mark', () => {
  it('gives its first line without the mark, so its JSON parses', async () => {
    // given a lookup file of JSON lines behind a mark, joined by a stream of users
    await writeFile(
      join(directory, 'regions.jsonl'),
      Buffer.concat([BOM, Buffer.from('{"user":"a","region":"eu"}\n{"user":"b","region":"us"}\n')]),
    );
    const job = {
      kind: 'document',
      baseDir: directory,
      document: {
        name: 'marked-lookup',
        batchIntervalMs: 1000,
        sources: { users: { type: 'queue', batches: [['a', 'b']] } },
        datasets: {
          regions: {
            type: 'textFile',
            path: 'regions.jsonl',
            ops: [
              { op: 'map', fn: 'parseJson' },
              { op: 'map', expr: '[user, region]' },
            ],
          },
        },
        streams: {
          placed: {
            from: 'users',
            ops: [
              { op: 'map', expr: '[$, true]' },
              { op: 'join', with: 'regions' },
              { op: 'map', expr: '[$[0], $[1][1]]' },
            ],
          },
        },
        outputs: [{ stream: 'placed', type: 'print', name: 'placed' }],
      },
    } as const;
    // when a batch runs
    const result = await runBatches(job, 1, { storeDir: join(directory, 'store'), write: () => {} });
    // then both users are placed, and no line was a dead letter
    expect(result.error).toBeUndefined();
    expect(result.deadLetters).toEqual([]);
    expect(result.recordsOf('placed').map((batch) => [...batch].sort())).toEqual([
      [
        ['a', 'eu'],
        ['b', 'us'],
      ],
    ]);
  });
});
