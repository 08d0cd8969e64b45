import { describe, expect, it } from 'vitest';
import { linesOf } from '../../lib/source/textLines';
import { unreadableOf } from '../../lib/source/UnreadableRecord';

/** The lines, with unreadable ones shown as their markers. */
const shown = (lines: readonly unknown[]) => lines.map((line) => unreadableOf(line) ?? line);

describe('linesOf', () => {
  const bytes = Buffer.concat([
    Buffer.from('one\r\ntwo\n\n'),
    Buffer.from([0x61, 0xff, 0x0a]),
    Buffer.from(`été ${'z'.repeat(40)}\n€\nlast`),
  ]);

  it('decodes in chunks of any size the lines it decodes at once', () => {
    // given the lines decoded in one string
    const whole = shown(linesOf(bytes));
    expect(whole).toContain('été zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz');
    expect(whole[3]).toMatchObject({ reason: 'line is not valid UTF-8; its bytes are kept in base64' });
    for (let chunkBytes = 1; chunkBytes <= bytes.length; chunkBytes++) {
      // when decoded a chunk at a time, then
      expect(shown(linesOf(bytes, chunkBytes)), `chunks of ${chunkBytes}`).toEqual(whole);
    }
  });

  it('makes a line longer than a string may be an unreadable record with its length and start', () => {
    // given a limit of 30 bytes a line (Node's own is about 512 MiB) and a line of 41 bytes
    const long = `${'x'.repeat(40)}é`;
    // when
    const lines = shown(linesOf(Buffer.from(`a\n${long}\r\nb\n`), 4, 30));
    // then the lines around it are kept, and it is dead-lettered with what is kept of it
    expect(lines).toEqual([
      'a',
      {
        reason:
          'line of 42 bytes is longer than a line may be (30 bytes, the longest string Node can hold); its first KiB is kept',
        input: { bytes: 42, prefix: long },
      },
      'b',
    ]);
  });
});
