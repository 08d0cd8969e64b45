import { appendFile, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFolderPart } from '../../lib/source/FolderPartReader';
import { type FolderReadPart, planFolderParts } from '../../lib/source/FolderReadPlanner';
import { TextFileSource } from '../../lib/source/TextFileSource';
import { unreadableOf } from '../../lib/source/UnreadableRecord';

/** Every part's lines, in partition order, with unreadable lines shown as their markers. */
async function readAll(parts: readonly (FolderReadPart | null)[]): Promise<unknown[]> {
  const lines: unknown[] = [];
  for (const part of parts) if (part) for (const line of await readFolderPart(part)) lines.push(line);
  return lines.map((line) => unreadableOf(line) ?? line);
}

/** {@link readAll}, each range read `pieceBytes` at a time. */
async function readAllIn(parts: readonly (FolderReadPart | null)[], pieceBytes: number): Promise<unknown[]> {
  const lines: unknown[] = [];
  for (const part of parts)
    if (part) for (const line of await readFolderPart(part, pieceBytes)) lines.push(line);
  return lines.map((line) => unreadableOf(line) ?? line);
}

/** A file's contents that make line splitting hard: CRLF, empty lines, no final newline, not UTF-8, é across bytes. */
const TRICKY: Record<string, Buffer> = {
  'a-crlf.txt': Buffer.from('one\r\ntwo\r\n\r\nthree\r\n'),
  'b-empty.txt': Buffer.alloc(0),
  'c-no-final-newline.txt': Buffer.from('x1\nx2\nlast without newline'),
  'd-blank-lines.txt': Buffer.from('\n\n\nz\n\n'),
  'e-not-utf8.txt': Buffer.concat([
    Buffer.from('ok\n'),
    Buffer.from([0x61, 0xff, 0xfe]),
    Buffer.from('\r\nend\n'),
  ]),
  'f-multibyte.txt': Buffer.from('été\nçà\n€€€\n'),
  'g-one-newline.txt': Buffer.from('\n'),
};

describe('readFolderPart', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'sluice-folder-part-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function write(files: Record<string, Buffer | string>) {
    for (const [name, bytes] of Object.entries(files)) await writeFile(join(directory, name), bytes);
    return Object.entries(files).map(([name, bytes]) => ({ name, sizeBytes: Buffer.byteLength(bytes) }));
  }

  it('reads a line that crosses a range boundary once, in the range where it starts', async () => {
    // given a file of three 5-byte lines cut at byte 7, inside the second line
    await write({ f: 'aaaa\nbbbb\ncccc\n' });
    const range = { name: 'f', sizeBytes: 15 };
    // when each range is read
    const first = await readFolderPart({ directory, ranges: [{ ...range, startByte: 0, endByte: 7 }] });
    const second = await readFolderPart({ directory, ranges: [{ ...range, startByte: 7, endByte: 15 }] });
    // then
    expect(first).toEqual(['aaaa', 'bbbb']);
    expect(second).toEqual(['cccc']);
  });

  it('gives a range that starts exactly at a line the line, and the range before it not', async () => {
    // given a cut at byte 5, the first byte of the second line
    await write({ f: 'aaaa\nbbbb\n' });
    const range = { name: 'f', sizeBytes: 10 };
    // when
    const first = await readFolderPart({ directory, ranges: [{ ...range, startByte: 0, endByte: 5 }] });
    const second = await readFolderPart({ directory, ranges: [{ ...range, startByte: 5, endByte: 10 }] });
    // then
    expect(first).toEqual(['aaaa']);
    expect(second).toEqual(['bbbb']);
  });

  it('reads, over any number of partitions, exactly the lines the folder source reads at the tick', async () => {
    // given files that make line splitting hard, read at the tick as the reference
    const files = await write(TRICKY);
    const atTick = new TextFileSource(directory, { newFilesOnly: false, readsDirectly: false });
    await atTick.start();
    const reference = (await atTick.recordsFor()).map((line) => unreadableOf(line) ?? line);
    const totalBytes = files.reduce((sum, file) => sum + file.sizeBytes, 0);
    expect(reference).toContain('last without newline');
    expect(reference.some((line) => typeof line === 'object')).toBe(true);
    for (let partitions = 1; partitions <= totalBytes + 2; partitions++) {
      // when the bytes are split over that many partitions and every part is read
      const lines = await readAll(planFolderParts(directory, files, partitions));
      // then every line is read once, in order, whatever the cuts
      expect(lines, `${partitions} partitions`).toEqual(reference);
    }
  });

  it('reads the same lines in pieces of any size as in one read', async () => {
    // given files that make line splitting hard, and a long line that spans many pieces
    const files = await write({ ...TRICKY, 'h-long.txt': `a\n${'y'.repeat(5000)}\nb\nc` });
    for (const partitions of [1, 2, 3, 7, 50]) {
      const parts = planFolderParts(directory, files, partitions);
      const whole = await readAllIn(parts, Number.MAX_SAFE_INTEGER);
      expect(whole, `${partitions} partitions`).toContain('y'.repeat(5000));
      for (const pieceBytes of [1, 2, 3, 5, 64, 4999, 5001]) {
        // when each range is read that many bytes at a time
        const lines = await readAllIn(parts, pieceBytes);
        // then the lines are those of one read
        expect(lines, `${partitions} partitions, pieces of ${pieceBytes}`).toEqual(whole);
      }
    }
  });

  it('reads a long line whose end lies far past its range', async () => {
    // given a line of 300,000 bytes (more than one read past the range) between two short lines
    const long = 'x'.repeat(300_000);
    const files = await write({ f: `a\n${long}\nb\n` });
    // when the file is split into many small ranges
    const lines = await readAll(planFolderParts(directory, files, 7));
    // then
    expect(lines).toEqual(['a', long, 'b']);
  });

  it('reads ranges and pieces of a megabyte and more into memory it lends again, every line intact', async () => {
    // given two files of about 3 MiB each, lines of every length up to 2,000 bytes, one file without a final
    // newline, and the parts of 1 to 5 partitions read one after another (each range's memory then holds the next)
    const lineOf = (i: number) => `${i}:${String.fromCharCode(97 + (i % 26)).repeat((i * 7919) % 2000)}`;
    const a = Array.from({ length: 3000 }, (_, i) => lineOf(i));
    const b = Array.from({ length: 3000 }, (_, i) => lineOf(i + 3000));
    const files = await write({ a: `${a.join('\n')}\n`, b: b.join('\n') });
    expect(files[0]!.sizeBytes).toBeGreaterThan(2 * 1024 * 1024);
    for (let partitions = 1; partitions <= 5; partitions++) {
      // when
      const lines = await readAll(planFolderParts(directory, files, partitions));
      // then
      expect(lines.length, `${partitions} partitions`).toBe(6000);
      expect(lines, `${partitions} partitions`).toEqual([...a, ...b]);
      // and read in pieces of just over a MiB, lent again piece after piece, lines crossing from one to the next
      const inPieces = await readAllIn(planFolderParts(directory, files, partitions), 1024 * 1024 + 7);
      expect(inPieces, `${partitions} partitions, in pieces`).toEqual([...a, ...b]);
    }
  });

  it('reads only the bytes the batch planned when the file grew since', async () => {
    // given a plan of a file whose last line had no newline yet, then more bytes appended
    const files = await write({ f: 'one\ntwo\nthr' });
    const parts = planFolderParts(directory, files, 2);
    await appendFile(join(directory, 'f'), 'ee\nfour\n');
    // when
    const lines = await readAll(parts);
    // then exactly the planned bytes, as a replay after a restart must read
    expect(lines).toEqual(['one', 'two', 'thr']);
  });

  it('fails naming the file and saying it must stay, when a planned file was deleted', async () => {
    // given a planned file deleted before the task read it
    const files = await write({ 'gone.txt': 'a\n' });
    const [part] = planFolderParts(directory, files, 1);
    await rm(join(directory, 'gone.txt'));
    // when
    const reading = readFolderPart(part!);
    // then
    await expect(reading).rejects.toThrow(
      `file ${join(directory, 'gone.txt')} is gone, but its batch was planned to read it: a folder source's files must stay in the folder until their batch completed`,
    );
  });

  it('fails naming the file when it is shorter than planned', async () => {
    // given a planned file truncated before the task read it
    const files = await write({ 'cut.txt': 'abc\ndef\n' });
    const [part] = planFolderParts(directory, files, 1);
    await truncate(join(directory, 'cut.txt'), 2);
    // when
    const reading = readFolderPart(part!);
    // then
    await expect(reading).rejects.toThrow(
      `file ${join(directory, 'cut.txt')} has 2 bytes, fewer than the 8 it had when its batch was planned`,
    );
  });
});
