import { describe, expect, it } from 'vitest';
import { ReceivedLines } from '../../lib/source/ReceivedLines';
import { unreadableRecord } from '../../lib/source/UnreadableRecord';
import { decodeReceivedRecords } from '../../lib/storage/ReceivedBlock';

/** The records a taken block holds, decoded as a task decodes them. */
function recordsOf(block: ReturnType<ReceivedLines['takeBlock']>): unknown[] {
  return block ? decodeReceivedRecords(block.bytes, block.format, block.records, 0, block.records) : [];
}

describe('ReceivedLines', () => {
  it('hands out runs of raw lines and single records in arrival order, cutting a run at a line', () => {
    // given two runs of raw lines with a line of its own between them
    const lines = new ReceivedLines();
    lines.pushRun(Buffer.from('a\nbb\nccc'), 3);
    lines.pushRun(Buffer.from('d'), 1);
    lines.pushRun(Buffer.from('e\n\nf'), 3);
    expect(lines.size).toBe(7);
    // when they are taken 2, 2, then all
    const first = lines.takeBlock(2);
    const second = lines.take(2);
    const rest = lines.takeBlock(Number.POSITIVE_INFINITY);
    // then each take holds the oldest records left, a run cut after its last line taken
    expect(first).toMatchObject({ format: 'text', records: 2 });
    expect(recordsOf(first)).toEqual(['a', 'bb']);
    expect(second).toEqual(['ccc', 'd']);
    expect(rest).toMatchObject({ format: 'text', records: 3 });
    expect(recordsOf(rest)).toEqual(['e', '', 'f']);
    expect(lines.size).toBe(0);
    expect(lines.takeBlock(10)).toBeUndefined();
    expect(lines.take(10)).toEqual([]);
  });

  it('cuts a run in the middle as well as at its first line', () => {
    const lines = new ReceivedLines();
    lines.pushRun(Buffer.from('1\n2\n3\n4\n5\n6'), 6);
    expect(recordsOf(lines.takeBlock(1))).toEqual(['1']);
    expect(recordsOf(lines.takeBlock(3))).toEqual(['2', '3', '4']);
    expect(lines.size).toBe(2);
    expect(recordsOf(lines.takeBlock(0))).toEqual([]);
    expect(recordsOf(lines.takeBlock(5))).toEqual(['5', '6']);
  });

  it('makes a block holding an unreadable record a JSON block, every line decoded', () => {
    const lines = new ReceivedLines();
    const unreadable = unreadableRecord('line is not valid UTF-8', { bytes: 1 });
    lines.pushRun(Buffer.from('x\ny'), 2);
    lines.pushUnreadable(unreadable);
    lines.pushRun(Buffer.from('z'), 1);
    const block = lines.takeBlock(10);
    expect(block).toMatchObject({ format: 'json', records: 4 });
    expect(recordsOf(block)).toEqual(['x', 'y', unreadable, 'z']);
  });

  it('copies what it is given, so a socket may read into the same buffer again at once', () => {
    const lines = new ReceivedLines();
    const read = Buffer.from('a\nbb\nccc');
    lines.pushRun(read.subarray(0, 4), 2);
    read.fill('z');
    lines.pushRun(read.subarray(0, 1), 1);
    expect(recordsOf(lines.takeBlock(10))).toEqual(['a', 'bb', 'z']);
  });

  it('hands out lines that came one after another as one view of where they were copied', () => {
    // given runs and a line made whole by the source, then a run after the first block was taken (each over
    // 4 KiB, so that no two of them share Node's pool of small buffers)
    const a = 'a'.repeat(5000);
    const lines = new ReceivedLines();
    lines.pushRun(Buffer.from(`${a}\nb`), 2);
    lines.pushRun(Buffer.from('c'), 1);
    lines.pushRun(Buffer.from(''), 1);
    const first = lines.takeBlock(Number.POSITIVE_INFINITY)!;
    lines.pushRun(Buffer.from(a), 1);
    const second = lines.takeBlock(Number.POSITIVE_INFINITY)!;
    // then each block is its lines, and both are views of the same memory: nothing was joined at the take
    expect(recordsOf(first)).toEqual([a, 'b', 'c', '']);
    expect(recordsOf(second)).toEqual([a]);
    expect(first.bytes.buffer).toBe(second.bytes.buffer);
  });

  it('moves the lines still waiting into the next arena, so a block is one view even across arenas', () => {
    // given lines that fill more than an arena's 16 MiB, a record between them, and a run cut by a take
    const lines = new ReceivedLines();
    const big = Buffer.alloc(10 * 1024 * 1024, 'x');
    const unreadable = unreadableRecord('line is not valid UTF-8', { bytes: 1 });
    lines.pushRun(Buffer.from('a\nb\nc'), 3);
    expect(recordsOf(lines.takeBlock(1))).toEqual(['a']);
    lines.pushUnreadable(unreadable);
    lines.pushRun(big, 1);
    lines.pushRun(big, 1); // does not fit: the waiting 'b', 'c' and the first big line move
    lines.pushRun(Buffer.from('y'), 1);
    // when they are taken: the text before the record, then the rest
    const json = lines.takeBlock(4)!;
    const text = lines.takeBlock(Number.POSITIVE_INFINITY)!;
    // then every line is there once, in order, and the text block is a view of one arena, not a copy
    expect(recordsOf(json)).toEqual(['b', 'c', unreadable, big.toString()]);
    expect(text).toMatchObject({ format: 'text', records: 2 });
    expect(text.bytes.length).toBe(big.length + 2);
    expect((recordsOf(text) as string[]).map((r) => r.length)).toEqual([big.length, 1]);
    expect(text.bytes.buffer.byteLength).toBeGreaterThanOrEqual(16 * 1024 * 1024);
  });

  it("writes into a block's memory again only once the block is released", () => {
    // given a block taken and not released, and one taken and released
    const lines = new ReceivedLines();
    const chunk = Buffer.alloc(6 * 1024 * 1024, 'k');
    lines.pushRun(Buffer.from('kept'), 1);
    const kept = lines.takeBlock(1)!;
    lines.pushRun(Buffer.from('freed'), 1);
    const freed = lines.takeBlock(1)!;
    freed.release!();
    freed.release!(); // a second release changes nothing
    // when enough lines come to fill arenas several times over, each taken and released as it is stored
    const arenasOf = (blocks: number) => {
      const arenas: ArrayBufferLike[] = [];
      for (let i = 0; i < blocks; i++) {
        lines.pushRun(chunk, 1);
        const block = lines.takeBlock(1)!;
        if (arenas.at(-1) !== block.bytes.buffer) arenas.push(block.bytes.buffer);
        block.release!();
      }
      return arenas;
    };
    const before = arenasOf(12);
    // then the kept block still holds its line: its arena, once left, was not written again
    // (booleans and counts are compared, not the arenas: a failure would print hundreds of MiB)
    expect(recordsOf(kept)).toEqual(['kept']);
    expect(before[0] === kept.bytes.buffer).toBe(true);
    expect(before.slice(1).includes(kept.bytes.buffer)).toBe(false);
    // and the arenas after it were used again, not made afresh each time: two of them, in turn
    expect(before.length).toBeGreaterThan(3);
    expect(new Set(before.slice(1)).size).toBe(2);
    kept.release!();
  });
});
