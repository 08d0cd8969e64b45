import { describe, expect, it } from 'vitest';
import { fileRangeLines } from '../../lib/source/fileRangeLines';

describe('fileRangeLines', () => {
  it("joins a file's ranges that follow one another, and names a part of a file by its byte range", () => {
    // given a.txt split over three tasks, then the middle of b.txt, then c.txt whole
    const lines = fileRangeLines([
      { name: 'a.txt', startByte: 0, endByte: 10, sizeBytes: 30 },
      { name: 'a.txt', startByte: 10, endByte: 20, sizeBytes: 30 },
      { name: 'a.txt', startByte: 20, endByte: 30, sizeBytes: 30 },
      { name: 'b.txt', startByte: 5, endByte: 9, sizeBytes: 40 },
      { name: 'c.txt', startByte: 0, endByte: 3, sizeBytes: 3 },
    ]);
    // then each file is one line
    expect(lines).toEqual(['a.txt (30 bytes)', 'b.txt bytes 5–9 of 40', 'c.txt (3 bytes)']);
  });

  it('gives no line for a batch that read nothing', () => {
    expect(fileRangeLines([])).toEqual([]);
  });
});
