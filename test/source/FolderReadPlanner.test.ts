import { describe, expect, it } from 'vitest';
import { MAX_PART_BYTES, maxPartBytesOf } from '../../lib/source/ByteRangePlanner';
import { type FolderReadPart, planFolderParts } from '../../lib/source/FolderReadPlanner';

/** The byte ranges of each part as `name:start-end`, null parts as null. */
function rangesOf(parts: readonly (FolderReadPart | null)[]): (string[] | null)[] {
  return parts.map((part) => part?.ranges.map((r) => `${r.name}:${r.startByte}-${r.endByte}`) ?? null);
}

describe('planFolderParts', () => {
  it('splits one big file over every partition in nearly equal byte ranges', () => {
    // given a file of 1,000 bytes and 3 partitions
    const files = [{ name: 'big.txt', sizeBytes: 1000 }];
    // when
    const parts = planFolderParts('/in', files, 3);
    // then the ranges cover the file end to end, without a gap or an overlap
    expect(rangesOf(parts)).toEqual([['big.txt:0-333'], ['big.txt:333-666'], ['big.txt:666-1000']]);
    expect(parts.every((part) => part?.directory === '/in' && part.ranges[0]?.sizeBytes === 1000)).toBe(true);
  });

  it('groups small files into one part, in name order given, so parts are about equal in bytes', () => {
    // given ten files of 10 bytes and 2 partitions
    const files = Array.from({ length: 10 }, (_, i) => ({ name: `f${i}`, sizeBytes: 10 }));
    // when
    const parts = planFolderParts('/in', files, 2);
    // then five whole files each
    expect(rangesOf(parts)).toEqual([
      ['f0:0-10', 'f1:0-10', 'f2:0-10', 'f3:0-10', 'f4:0-10'],
      ['f5:0-10', 'f6:0-10', 'f7:0-10', 'f8:0-10', 'f9:0-10'],
    ]);
  });

  it('cuts a file where a partition ends and carries its rest into the next one', () => {
    // given files of 10 and 30 bytes over 2 partitions of 20 bytes
    const files = [
      { name: 'a', sizeBytes: 10 },
      { name: 'b', sizeBytes: 30 },
    ];
    // when
    const parts = planFolderParts('/in', files, 2, (p) => `input/n1/1000/read-${p}.json`);
    // then
    expect(rangesOf(parts)).toEqual([['a:0-10', 'b:0-10'], ['b:10-30']]);
    expect(parts.map((part) => part?.reportKey)).toEqual([
      'input/n1/1000/read-0.json',
      'input/n1/1000/read-1.json',
    ]);
  });

  it('gives empty files no range and partitions without a byte a null part', () => {
    // given two empty files and one of 2 bytes over 4 partitions
    const files = [
      { name: 'a', sizeBytes: 0 },
      { name: 'b', sizeBytes: 2 },
      { name: 'c', sizeBytes: 0 },
    ];
    // when
    const parts = planFolderParts('/in', files, 4);
    // then only two partitions read a byte
    expect(rangesOf(parts)).toEqual([null, ['b:0-1'], null, ['b:1-2']]);
  });

  it('plans an empty batch as null parts', () => {
    // given no file
    // when
    const parts = planFolderParts('/in', [], 3);
    // then
    expect(parts).toEqual([null, null, null]);
  });

  it('adds parts when one would hold more than maxPartBytes, each at most that many bytes', () => {
    // given 250 bytes over 2 partitions, with parts capped at 100 bytes
    const files = [
      { name: 'a', sizeBytes: 50 },
      { name: 'b', sizeBytes: 200 },
    ];
    // when
    const parts = planFolderParts('/in', files, 2, (p) => `read-${p}.json`, 100);
    // then three parts of 83 or 84 bytes, end to end, each with its own report
    expect(rangesOf(parts)).toEqual([['a:0-50', 'b:0-33'], ['b:33-116'], ['b:116-200']]);
    expect(parts.map((part) => part?.reportKey)).toEqual(['read-0.json', 'read-1.json', 'read-2.json']);
  });

  it('keeps the partitions asked for when the batch fits them under the cap', () => {
    // given 200 bytes over 2 partitions, capped at exactly 100
    const parts = planFolderParts('/in', [{ name: 'a', sizeBytes: 200 }], 2, undefined, 100);
    // then
    expect(rangesOf(parts)).toEqual([['a:0-100'], ['a:100-200']]);
  });
});

describe('maxPartBytesOf', () => {
  it('gives the default for none, the value given, and refuses what is not a positive whole number', () => {
    expect(maxPartBytesOf(undefined)).toBe(MAX_PART_BYTES);
    expect(maxPartBytesOf(65_536)).toBe(65_536);
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => maxPartBytesOf(bad)).toThrow(
        new RangeError(`maxPartBytes must be a positive whole number, got ${bad}`),
      );
    }
  });
});
