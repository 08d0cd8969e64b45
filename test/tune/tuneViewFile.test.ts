import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readTuneView } from '../../lib/local/tune/tuneView';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-tune-view-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readTuneView', () => {
  it('says a tune file missing its fields is not a whole one, not the TypeError of the first it reads', async () => {
    // given a file with the tune kind and version, cut short before its results
    const path = join(dir, 'cut.json');
    await writeFile(path, JSON.stringify({ kind: 'sluice-tune', version: 1, job: 'words' }));
    // when it is read for the tune page, then the error names the file and what to do
    await expect(readTuneView(path)).rejects.toThrow(
      /cut\.json is a sluice tune file, but not a whole one \(.*\): write it again with sluice tune --out/,
    );
  });
});
