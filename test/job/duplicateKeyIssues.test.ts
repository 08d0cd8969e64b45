import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobValidationError } from '../../lib/errors';
import { duplicateKeyIssues } from '../../lib/job/duplicateKeyIssues';
import { validateJob } from '../../lib/job/validateJob';
import { jobSourceFromArgument } from '../../lib/local/cli/jobSourceFromArgument';

describe('duplicateKeyIssues', () => {
  it('names each key given twice in one object at its JSON path', () => {
    // given a text with a key twice at the top, in a nested object, in an object inside arrays, and written
    // once plainly and once escaped
    const text =
      '{"a": 1, "b": {"c": [1, {"d": 2, "d": 3}], "e": "\\"d\\"", "c": 0}, "a": 2, "x.y": {"\\u0066": 1, "f": 2}}';
    // when it is scanned
    const paths = duplicateKeyIssues(text).map((i) => i.path);
    // then each is named where it is, in the order of the text
    expect(paths).toEqual(['b.c[1].d', 'b.c', 'a', '["x.y"].f']);
  });

  it('finds none where keys repeat only across objects, or inside strings', () => {
    const text = '{"a": {"k": 1}, "b": {"k": 2}, "c": [{"k": 1}, {"k": 2}], "d": "{\\"k\\": 1, \\"k\\": 2}"}';
    expect(duplicateKeyIssues(text)).toEqual([]);
  });
});

describe('a job file with a key given twice', () => {
  it('nested deeper than a job may be, is refused for its depth, not scanned (the scanner recurses)', async () => {
    // given a job file whose one field nests 100,000 levels deep, a key given twice at the bottom
    const dir = await mkdtemp(join(tmpdir(), 'sluice-duplicate-keys-'));
    try {
      const file = join(dir, 'job.json');
      const depth = 100_000;
      await writeFile(
        file,
        `{"name": "deep", "x": ${'['.repeat(depth)}{"k": 1, "k": 2}${']'.repeat(depth)}}`,
      );
      // when it is read and validated
      const read = jobSourceFromArgument(file).then((source) =>
        validateJob((source as { document: unknown }).document),
      );
      // then it is refused for its depth, at the field
      const issues = await read.catch((error: JobValidationError) => error.issues);
      expect(issues).toEqual([
        expect.objectContaining({
          path: expect.stringMatching(/^x/),
          message: expect.stringMatching(/nested more/),
        }),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is refused at the key, where JSON.parse kept the second stream of one name alone', async () => {
    // given a job file whose streams name "counts" twice and whose window gives windowMs twice
    const dir = await mkdtemp(join(tmpdir(), 'sluice-duplicate-keys-'));
    try {
      const file = join(dir, 'job.json');
      await writeFile(
        file,
        `{"name": "twice", "batchIntervalMs": 1000,
          "sources": {"lines": {"type": "queue", "batches": [["a"]]}},
          "streams": {
            "counts": {"from": "lines", "ops": [{"op": "countByValue"}]},
            "counts": {"from": "lines", "ops": [{"op": "window", "windowMs": 1000, "windowMs": 3000}]}
          },
          "outputs": [{"stream": "counts", "type": "print"}]}`,
      );
      // when it is read
      const read = jobSourceFromArgument(file);
      // then it is refused, naming both keys
      await expect(read).rejects.toThrow(JobValidationError);
      const issues = await read.catch((error: JobValidationError) => error.issues);
      expect(issues).toEqual([
        expect.objectContaining({ path: 'streams.counts', message: expect.stringMatching(/is given twice/) }),
        expect.objectContaining({ path: 'streams.counts.ops[0].windowMs' }),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
