import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LinePosition, readLinesAt } from '../../lib/source/FileLineCursor';
import { linesOf } from '../../lib/source/textLines';
import { unreadableOf } from '../../lib/source/UnreadableRecord';

/** Contents that make line splitting hard, and one long enough to cross the cursor's pieces many times. */
const FILES: Record<string, Buffer> = {
  crlf: Buffer.from('one\r\ntwo\r\n\r\nthree\r\n'),
  empty: Buffer.alloc(0),
  'no-final-newline': Buffer.from('x1\nx2\nlast without newline'),
  blanks: Buffer.from('\n\n\nz\n\n'),
  'not-utf8': Buffer.concat([Buffer.from('ok\n'), Buffer.from([0x61, 0xff, 0xfe]), Buffer.from('\r\nend\n')]),
  multibyte: Buffer.from('été\nçà\n€€€\n'),
  long: Buffer.from(
    Array.from({ length: 3000 }, (_, i) => `${i} ${'é'.repeat(i % 97)}${i % 5 === 0 ? '\r' : ''}\n`).join(''),
  ),
};

/** A file's lines with unreadable ones shown as their markers. */
const shown = (lines: readonly string[]) => lines.map((line) => unreadableOf(line) ?? line);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-cursor-'));
  for (const [name, bytes] of Object.entries(FILES)) await writeFile(join(dir, name), bytes);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every line of a file, `maxLines` a read, each read starting where the last one ended. */
async function readAll(name: string, maxLines: number, legacy = false) {
  const lines: string[] = [];
  let position: LinePosition = { taken: 0, byte: 0 };
  for (let reads = 0; reads < 100_000; reads++) {
    const read = await readLinesAt(join(dir, name), legacy ? { taken: position.taken } : position, maxLines);
    if (!read) throw new Error(`${name} is gone`);
    expect(read.lines.length).toBeLessThanOrEqual(maxLines);
    lines.push(...read.lines);
    position = { taken: position.taken + read.lines.length, byte: read.byte };
    if (read.ended) return { lines, byte: position.byte };
    expect(read.lines).toHaveLength(maxLines); // a read stops short only at the end of the file
  }
  throw new Error('never ended');
}

describe('readLinesAt', () => {
  for (const maxLines of [1, 2, 3, 7, 4096, Number.POSITIVE_INFINITY]) {
    it(`reads every file ${maxLines} lines at a time into the lines the whole file decodes to`, async () => {
      for (const [name, bytes] of Object.entries(FILES)) {
        // given a file, when it is read on from where each read ended, then its lines are the whole file's
        const { lines, byte } = await readAll(name, maxLines);
        expect(shown(lines), name).toEqual(shown(linesOf(bytes)));
        expect(byte, name).toBe(bytes.length);
      }
    });
  }

  it('finds where to go on by counting the lines taken, for a position checkpointed without its byte', async () => {
    // given positions with lines taken but no byte, when each read counts its way there, then nothing is lost
    for (const [name, bytes] of Object.entries(FILES)) {
      const { lines } = await readAll(name, 500, true);
      expect(shown(lines), name).toEqual(shown(linesOf(bytes)));
    }
  });

  it('says a file that is gone is gone', async () => {
    expect(await readLinesAt(join(dir, 'missing'), { taken: 0, byte: 0 }, 3)).toBeUndefined();
  });
});
