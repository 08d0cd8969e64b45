import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobValidationError } from '../../lib/errors';
import { validateJob } from '../../lib/job/validateJob';
import { runBatches } from '../../lib/local/LocalRuntime';
import { issueAt, issuesOf, minimalJob } from './fixtures/jobs';

/** The minimal job with these outputs of its `words` stream. */
function withOutputs(...outputs: Record<string, unknown>[]): Record<string, unknown> {
  return minimalJob({ outputs: outputs.map((output) => ({ stream: 'words', ...output })) });
}

describe('outputs that would write over each other', () => {
  it('refuses two saveAsTextFiles of one prefix and suffix at the later prefix, naming the earlier', () => {
    // given two outputs writing the folders out/words-<batchTime>.txt
    const doc = withOutputs(
      { type: 'saveAsTextFiles', prefix: 'out/words', suffix: 'txt' },
      { type: 'print' },
      { type: 'saveAsTextFiles', prefix: './out/words', suffix: 'txt' },
    );
    // when it is validated, then the later one is refused, naming the earlier
    expect(issueAt(issuesOf(doc), 'outputs[2].prefix').message).toBe(
      'writes the same folders as outputs[0] (saveAsTextFiles to "out/words-<batchTime>.txt"): each batch\'s ' +
        "files of one would replace the other's; give one of them another prefix or suffix",
    );
  });

  it('accepts one prefix with two suffixes, and two prefixes side by side', () => {
    const doc = withOutputs(
      { type: 'saveAsTextFiles', prefix: 'out/words', suffix: 'txt' },
      { type: 'saveAsTextFiles', prefix: 'out/words', suffix: 'csv' },
      { type: 'saveAsTextFiles', prefix: 'out/words' },
      { type: 'saveAsTextFiles', prefix: 'out/words/all' },
      { type: 'jsonl', path: 'out/words.jsonl' },
    );
    expect(() => validateJob(doc)).not.toThrow();
  });

  it('refuses a prefix inside a jsonl file, and a jsonl file inside a batch folder', () => {
    // given a jsonl file `out` and a prefix `out/x`, which needs `out` to be a folder (ENOTDIR at run time)
    const doc = withOutputs(
      { type: 'jsonl', path: 'out' },
      { type: 'saveAsTextFiles', prefix: 'out/x' },
      { type: 'saveAsTextFiles', prefix: 'batches' },
      { type: 'jsonl', path: 'batches-2000/extra.jsonl' },
      { type: 'jsonl', path: 'out' },
    );
    // when it is validated
    const issues = issuesOf(doc);
    // then each later output is refused, naming the one it collides with
    expect(issueAt(issues, 'outputs[1].prefix').message).toMatch(
      /^collides with outputs\[0\] \(jsonl to "out"\): one would write inside the other's file or folders/,
    );
    expect(issueAt(issues, 'outputs[3].path').message).toMatch(
      /^collides with outputs\[2\] \(saveAsTextFiles to "batches-<batchTime>"\)/,
    );
    expect(issueAt(issues, 'outputs[4].path').message).toBe(
      'writes the same file as outputs[0] (jsonl to "out"): the lines of both would mix in it; give one of them ' +
        'another path',
    );
  });
});

describe('outputs inside the store folder', () => {
  it('are refused when the run starts, at the output, naming the store', async () => {
    // given --out and a store inside it, as the defaults `.` and `.sluice/<name>` are
    const outputDir = await mkdtemp(join(tmpdir(), 'sluice-out-in-store-'));
    const storeDir = join(outputDir, '.sluice', 'minimal');
    try {
      for (const path of [
        '.sluice/minimal/sluice.lock',
        '.sluice/minimal/checkpoint/metadata.json',
        '.sluice',
      ]) {
        const doc = withOutputs({ type: 'print' }, { type: 'jsonl', path });
        // when the job starts
        const run = runBatches({ kind: 'document', document: doc, baseDir: '.' }, 1, { outputDir, storeDir });
        // then the output is refused at its path, with the store named
        await expect(run).rejects.toThrow(JobValidationError);
        await expect(run).rejects.toThrow(`outputs[1].path: writes `);
        await expect(run).rejects.toThrow(storeDir);
      }
      // and a prefix whose folders are in the store is refused the same way
      const prefixed = withOutputs({ type: 'saveAsTextFiles', prefix: '.sluice/minimal/copy' });
      await expect(
        runBatches({ kind: 'document', document: prefixed, baseDir: '.' }, 1, { outputDir, storeDir }),
      ).rejects.toThrow(`outputs[0].prefix: writes inside the store folder ${storeDir}`);
    } finally {
      await rm(outputDir, { recursive: true, force: true });
    }
  });

  it('are not refused beside the store', async () => {
    const outputDir = await mkdtemp(join(tmpdir(), 'sluice-out-beside-store-'));
    try {
      const doc = withOutputs({ type: 'jsonl', path: '.sluice/minimal.jsonl' });
      const storeDir = join(outputDir, '.sluice', 'minimal');
      const result = await runBatches({ kind: 'document', document: doc, baseDir: '.' }, 1, {
        outputDir,
        storeDir,
      });
      expect(result.error).toBeUndefined();
    } finally {
      await rm(outputDir, { recursive: true, force: true });
    }
  });
});
