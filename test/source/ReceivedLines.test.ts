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
    // given two runs of raw lines with a decoded line between them
    const lines = new ReceivedLines();
    lines.pushRun(Buffer.from('a\nbb\nccc'), 3);
    lines.push('d');
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
    lines.push(unreadable);
    lines.push('z');
    const block = lines.takeBlock(10);
    expect(block).toMatchObject({ format: 'json', records: 4 });
    expect(recordsOf(block)).toEqual(['x', 'y', unreadable, 'z']);
  });
});
