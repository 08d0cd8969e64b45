import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSluice } from '../helpers/sluiceProcess';

/** Records that once stopped a job: each must become a dead letter, and the job goes on. */
describe('hostile records', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-hostile-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('an expression that fails on the first record of a fused pass dead-letters it (no unhandled rejection)', async () => {
    // given a parse op fused with an expression that throws on the partition's first record
    const job = {
      name: 'fused-expression',
      batchIntervalMs: 1000,
      sources: { q: { type: 'queue', batches: [['{"n":"x"}', '{"n":2}']], partitions: 1 } },
      streams: {
        s: {
          from: 'q',
          ops: [
            { op: 'map', fn: 'parseJson' },
            { op: 'map', expr: '$number(n) + 1' },
          ],
        },
      },
      outputs: [{ stream: 's', type: 'jsonl', path: 'out.jsonl' }],
    };
    await writeFile(join(dir, 'job.json'), JSON.stringify(job));
    // when it runs in-process, where an unhandled rejection ends the process
    const exit = await runSluice(
      ['run', 'job.json', '--workers', '0', '--batches', '1', '--store', 'store', '--out', 'out'],
      dir,
    );
    // then the run succeeds, the good record is output and the bad one is a dead letter
    expect(exit.stderr).not.toMatch(/Error:/);
    expect(exit.code).toBe(0);
    const out = (await readFile(join(dir, 'out', 'out.jsonl'), 'utf8')).trim().split('\n');
    expect(JSON.parse(out[0]!).records).toEqual([3]);
    const letters = (await readFile(join(dir, 'store', 'dead-letter.jsonl'), 'utf8')).trim().split('\n');
    expect(letters).toHaveLength(1);
    expect(JSON.parse(letters[0]!).error).toMatch(/streams\.s\.ops\[1\]\.expr failed/);
  });
});
