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

  it('joins a block whose lines did not fit in one arena', () => {
    const lines = new ReceivedLines();
    const big = Buffer.alloc(10 * 1024 * 1024, 'x'); // two of them are more than an arena's 16 MiB
    lines.pushRun(big, 1);
    lines.pushRun(big, 1);
    lines.pushRun(Buffer.from('y'), 1);
    const block = lines.takeBlock(Number.POSITIVE_INFINITY)!;
    expect(block).toMatchObject({ format: 'text', records: 3 });
    expect(block.bytes.length).toBe(2 * big.length + 3);
    const records = recordsOf(block) as string[];
    expect(records.map((r) => r.length)).toEqual([big.length, big.length, 1]);
    expect(records[2]).toBe('y');
  });
});
