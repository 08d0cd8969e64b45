import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSluice } from '../helpers/sluiceProcess';

/**
 * A record that fails an expression fused into the same per-record pass as a parse is a dead letter, also in a
 * `sluice` process and on worker threads, where an unhandled rejection would end the process or the thread. In
 * the `slow` project because each case starts a `sluice` process; `hostileRecords.test.ts` has the in-process rest.
 */
describe('hostile records in a sluice process', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-hostile-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const workers of ['0', '2']) {
    it(`an expression failing on the first record of a fused pass is a dead letter (--workers ${workers})`, async () => {
      // given a parse op fused with an expression that throws on each partition's first record, then a count
      const lines = ['{"n":"x"}', '{"n":2}', '{"n":"y"}', '{"n":3}'];
      const job = {
        name: 'fused-expression',
        batchIntervalMs: 1000,
        sources: { q: { type: 'queue', batches: [lines], partitions: 2 } },
        streams: {
          s: {
            from: 'q',
            ops: [
              { op: 'map', fn: 'parseJson' },
              { op: 'map', expr: '$number(n) + 1' },
              { op: 'countByValue', partitions: 1 },
            ],
          },
        },
        outputs: [{ stream: 's', type: 'jsonl', path: 'out.jsonl' }],
      };
      await writeFile(join(dir, 'job.json'), JSON.stringify(job));
      // when it runs, in-process or on worker threads, where an unhandled rejection ends the process or thread
      const exit = await runSluice(
        ['run', 'job.json', '--workers', workers, '--batches', '2', '--store', 'store', '--out', 'out'],
        dir,
      );
      // then the run succeeds, the good records are counted and the bad ones are dead letters, as they came
      // (the dead letters' warn line names the op's error; what must not appear is a stack trace or a rejection)
      expect(exit.stderr).not.toMatch(/^\s+at |unhandled|uncaught/im);
      expect(exit.stderr).toMatch(/2 record\(s\) dead-lettered; the first by streams\.s\.ops\[1\] \(map\)/);
      expect(exit.code).toBe(0);
      const out = (await readFile(join(dir, 'out', 'out.jsonl'), 'utf8')).trim().split('\n');
      expect(JSON.parse(out[0]!).records.sort()).toEqual([
        [3, 1],
        [4, 1],
      ]);
      const letters = (await readFile(join(dir, 'store', 'dead-letter.jsonl'), 'utf8')).trim().split('\n');
      const parsed = letters.map((l) => JSON.parse(l) as { record: unknown; error: string });
      expect(parsed.map((l) => l.record).sort()).toEqual(['{"n":"x"}', '{"n":"y"}']);
      expect(parsed[0]!.error).toMatch(/streams\.s\.ops\[1\]\.expr failed/);
    });
  }
});
