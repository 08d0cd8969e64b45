import { describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';
import { fixturesDir, minimalJob, userFunctionsJob } from './fixtures/jobs';

/** A JSON job exercising expressions, built-ins, a user module, a static-dataset join and a dead letter. */
const job = userFunctionsJob(
  'json-end-to-end',
  {
    lines: {
      type: 'queue',
      batches: [
        ['a b #X', 'b #y #x'],
        ['c', 7],
      ],
    },
    tweets: {
      type: 'queue',
      batches: [
        [
          { user: 'u1', text: 'hi #A' },
          { user: 'spammer1', text: 'buy #B' },
        ],
        [{ user: 'u2', text: 'yo' }],
      ],
    },
    // One partition, so the bad value reaches the reducer after a good one (a first value is checked on its own).
    values: {
      type: 'queue',
      batches: [
        [
          ['k', 1],
          ['k', 'two'],
          ['k', 3],
        ],
        [],
      ],
      partitions: 1,
    },
  },
  {
    streams: {
      sums: { from: 'values', ops: [{ op: 'reduceByKey', fn: 'sum', partitions: 1 }] },
      active: { from: 'values', ops: [{ op: 'updateStateByKey', fn: 'countWhileActive' }] },
    },
    outputs: [
      { stream: 'sums', type: 'collectBatches' },
      { stream: 'active', type: 'collectBatches' },
    ],
  },
);

/** Records of a batch in a stable order, for outputs whose order depends on partitioning. */
function sorted(batches: unknown[][]): unknown[][] {
  return batches.map((batch) => [...batch].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)));
}

for (const workers of [0, 2]) {
  describe(`a JSON job run end to end (${workers === 0 ? 'in-process' : 'worker threads'})`, () => {
    it('produces the expected batches and dead-letters what the functions reject', async () => {
      // given the job document, with its functions module and spam list beside it
      const source = { kind: 'document', document: job, baseDir: fixturesDir } as const;
      // when two batches run on the logical clock
      const result = await runBatches(source, 2, { workers });
      // then every output is as expected
      expect(result.error).toBeUndefined();
      expect(sorted(result.recordsOf('words'))).toEqual([
        [
          ['#X', 2], // #X and #x, once shouted
          ['#Y', 1],
          ['A', 1],
          ['B', 2],
        ],
        [['C', 1]],
      ]);
      expect(sorted(result.recordsOf('tags'))).toEqual([
        [
          ['#x', 2],
          ['#y', 1],
        ],
        [],
      ]);
      expect(result.recordsOf('clean')).toEqual([['hi #A'], ['yo']]);
      // and the records the built-ins reject are dead letters, not garbage
      expect(result.recordsOf('sums')).toEqual([[['k', 4]], []]);
      // and a module's update function that returns null removes the key, as Spark's None does
      expect(result.recordsOf('active')).toEqual([[['k', 3]], []]);
      const errors = result.deadLetters.map((letter) => String((letter as { error?: unknown }).error));
      expect(errors).toContain('TypeError: splitWords expects a string, got 7 (number)');
      expect(errors.some((e) => e.includes('sum expects numbers, got "two" (string)'))).toBe(true);
    });
  });
}

describe("a JSON job's joins with a static dataset", () => {
  it("print as Spark's Some and None, a cogroup's groups as CompactBuffers", async () => {
    // given users joined with the spam list (a textFile dataset), left outer and cogrouped, both printed
    const document = minimalJob({
      sources: { users: { type: 'queue', partitions: 2, batches: [['u1', 'spammer1']] } },
      datasets: { spam: { type: 'textFile', path: 'spam.txt', ops: [{ op: 'map', expr: '[$, true]' }] } },
      streams: {
        pairs: { from: 'users', ops: [{ op: 'map', expr: '[$, $length($)]' }] },
        flagged: { from: 'pairs', ops: [{ op: 'leftOuterJoin', with: 'spam', partitions: 1 }] },
        grouped: { from: 'pairs', ops: [{ op: 'cogroup', with: 'spam', partitions: 1 }] },
      },
      outputs: [
        { stream: 'flagged', type: 'print' },
        { stream: 'grouped', type: 'print' },
      ],
    });
    let text = '';
    // when its batch runs
    const result = await runBatches({ kind: 'document', document, baseDir: fixturesDir }, 1, {
      write: (t) => (text += t),
    });
    // then each printed record reads as Spark's toString of its tuple
    expect(result.error).toBeUndefined();
    const blocks = text.split('\n\n').map((block) => block.split('\n').slice(3).sort());
    expect(blocks.slice(0, 2)).toEqual([
      ['(spammer1,(8,Some(true)))', '(u1,(2,None))'],
      [
        '(spammer1,(CompactBuffer(8),CompactBuffer(true)))',
        '(spammer2,(CompactBuffer(),CompactBuffer(true)))',
        '(u1,(CompactBuffer(2),CompactBuffer()))',
      ],
    ]);
  });
});
