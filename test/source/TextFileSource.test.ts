import { mkdtemp, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TextFileSource } from '../../lib/source/TextFileSource';
import { unreadableOf } from '../../lib/source/UnreadableRecord';

describe('TextFileSource', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'sluice-textfile-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('read whole at the tick, refuses a file past 2 GiB with a sentence naming it and what to do', async () => {
    // given a sparse file of 2 GiB and a byte, which takes no room on disk, appearing after start
    const source = new TextFileSource(directory, { readsDirectly: false });
    await source.start();
    const big = join(directory, 'big.log');
    await writeFile(big, '');
    await truncate(big, 2 ** 31 + 1);
    // when the batch reads the new files, then
    await expect(source.recordsFor()).rejects.toThrow(
      `file ${big} is larger than 2 GiB, the most a folder source reads whole at the tick`,
    );
  });

  it('skips the files that were there before start, like Spark', async () => {
    // given
    await writeFile(join(directory, 'old.txt'), 'old line\n');
    const source = new TextFileSource(directory);
    await source.start();
    // when
    const batch = await source.recordsFor();
    // then
    expect(batch).toEqual([]);
  });

  it('reads the files that were there before start when newFilesOnly is false', async () => {
    // given
    await writeFile(join(directory, 'old.txt'), 'old line\n');
    const source = new TextFileSource(directory, { newFilesOnly: false });
    await source.start();
    // when
    const batch = await source.recordsFor();
    // then
    expect(batch).toEqual(['old line']);
  });

  it("delivers a new file's lines in the next batch, exactly once", async () => {
    // given
    await writeFile(join(directory, 'old.txt'), 'old line\n');
    const source = new TextFileSource(directory);
    await source.start();
    const before = await source.recordsFor();
    await writeFile(join(directory, 'new.txt'), 'first\nsecond\n');
    // when
    const next = await source.recordsFor();
    const after = await source.recordsFor();
    // then
    expect(before).toEqual([]);
    expect(next).toEqual(['first', 'second']);
    expect(after).toEqual([]);
  });

  it('takes several new files in name order and splits lines on \\n, dropping \\r and a final empty line', async () => {
    // given
    const source = new TextFileSource(directory);
    await source.start();
    await writeFile(join(directory, 'b.txt'), 'b1\r\nb2\r\n');
    await writeFile(join(directory, 'a.txt'), 'a1\n\na3');
    await writeFile(join(directory, 'c.txt'), '');
    // when
    const batch = await source.recordsFor();
    // then
    expect(batch).toEqual(['a1', '', 'a3', 'b1', 'b2']);
  });

  it('hands on a line that is not UTF-8 as unreadable, its bytes in base64, and the other lines as lines', async () => {
    // given a file whose second line holds bytes that are not UTF-8, between lines split as a file of text is
    const source = new TextFileSource(directory);
    await source.start();
    const bad = Buffer.from([0x61, 0xff, 0xfe]);
    await writeFile(
      join(directory, 'a.txt'),
      Buffer.concat([Buffer.from('é1\r\n'), bad, Buffer.from('\r\n\na3\n')]),
    );
    // when
    const batch = await source.recordsFor();
    // then
    expect(batch.map((r) => unreadableOf(r) ?? r)).toEqual([
      'é1',
      {
        reason: 'line is not valid UTF-8; its bytes are kept in base64',
        input: { bytes: 3, base64: bad.toString('base64') },
      },
      '',
      'a3',
    ]);
  });

  it('ignores hidden, underscore, .tmp and ._COPYING_ files until they are renamed into place', async () => {
    // given
    const source = new TextFileSource(directory);
    await source.start();
    for (const name of ['.hidden', '_SUCCESS', 'part.tmp', 'big.txt._COPYING_']) {
      await writeFile(join(directory, name), `${name}\n`);
    }
    const whileWriting = await source.recordsFor();
    // when
    await rename(join(directory, 'big.txt._COPYING_'), join(directory, 'big.txt'));
    const afterRename = await source.recordsFor();
    // then
    expect(whileWriting).toEqual([]);
    expect(afterRename).toEqual(['big.txt._COPYING_']);
  });

  it('never reads a file again even when its content changes', async () => {
    // given
    const source = new TextFileSource(directory);
    await source.start();
    await writeFile(join(directory, 'log.txt'), 'v1\n');
    const first = await source.recordsFor();
    // when
    await writeFile(join(directory, 'log.txt'), 'v2\n');
    const second = await source.recordsFor();
    // then
    expect(first).toEqual(['v1']);
    expect(second).toEqual([]);
  });

  it('fails at start naming a directory that does not exist', async () => {
    // given
    const missing = join(directory, 'no-such-folder');
    const source = new TextFileSource(missing);
    // when
    const starting = source.start();
    // then
    await expect(starting).rejects.toThrow(`TextFileSource directory ${missing} does not exist`);
  });

  it('is not replayable', () => {
    // given
    const source = new TextFileSource(directory);
    // when
    const { replayable, description } = source;
    // then
    expect(replayable).toBe(false);
    expect(description).toBe(`textFile(${directory})`);
  });
});
