import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_WINDOW_BATCHES } from '../../lib/dstream/WindowedDStream';
import type { JobValidationError } from '../../lib/errors';
import { unboundedRegexReason } from '../../lib/job/ExpressionBudget';
import { MAX_NESTING, MAX_OPS } from '../../lib/job/jobLimits';
import { validateJob } from '../../lib/job/validateJob';
import { runBatches } from '../../lib/local/LocalRuntime';
import { issueAt, issuesOf, minimalJob } from './fixtures/jobs';

/** A one-source job whose stream maps every record with `expr`, under `budget`. */
function expressionJob(expr: string, records: unknown[], budget: Record<string, number>) {
  return {
    kind: 'document',
    baseDir: '.',
    document: minimalJob({
      expressionBudget: budget,
      sources: { lines: { type: 'queue', batches: [records], partitions: 1 } },
      streams: { out: { from: 'lines', ops: [{ op: 'map', expr }] } },
      outputs: [{ stream: 'out', type: 'collectBatches' }],
    }),
  } as const;
}

/** The message of the validation error a document raises; empty when it is valid. */
function validationMessage(doc: unknown): string {
  try {
    validateJob(doc);
    return '';
  } catch (error) {
    return (error as JobValidationError).message;
  }
}

/** The errors of a run's dead letters. */
function deadLetterErrors(letters: readonly unknown[]): string[] {
  return letters.map((letter) => String((letter as { error?: unknown }).error));
}

for (const workers of [0, 2]) {
  describe(`an expression runs under a budget per record (${workers === 0 ? 'in-process' : 'worker threads'})`, () => {
    it('dead-letters a record whose evaluation recurses past the depth budget, and keeps the others', async () => {
      // given an expression that recurses without end on "loop" and returns other records as they are
      const expr = '$ = "loop" ? ($f := function($x){ $x + $f($x) }; $f(1)) : $';
      const job = expressionJob(expr, ['a', 'loop', 'b'], { depth: 50 });
      // when the batch runs
      const result = await runBatches(job, 1, { workers });
      // then the looping record is a dead letter whose reason names the budget, and the batch went on
      expect(result.error).toBeUndefined();
      expect(result.recordsOf('out')).toEqual([['a', 'b']]);
      const errors = deadLetterErrors(result.deadLetters);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain('streams.out.ops[0].expr');
      expect(errors[0]).toContain('depth budget of 50 steps (expressionBudget.depth)');
    });

    it('dead-letters a record whose evaluation runs past the time budget (a tail-recursive loop)', async () => {
      // given a loop JSONata runs without growing its stack, so only time can stop it
      const expr = '$ = "loop" ? ($f := function($x){ $f($x) }; $f(1)) : $';
      const job = expressionJob(expr, ['loop', 'a'], { timeMs: 20 });
      // when the batch runs
      const result = await runBatches(job, 1, { workers });
      // then that record is a dead letter naming the time budget
      expect(result.error).toBeUndefined();
      expect(result.recordsOf('out')).toEqual([['a']]);
      expect(deadLetterErrors(result.deadLetters)).toEqual([
        expect.stringContaining('time budget of 20 ms per record (expressionBudget.timeMs)'),
      ]);
    });

    it('dead-letters a record that makes or reads a list longer than the items budget', async () => {
      // given a sort of a range, and a sort of the record itself
      const job = expressionJob('$type($) = "array" ? $sort($) : $sort([1..$])', [3, 5000, [3, 1, 2]], {
        items: 100,
      });
      // when the batch runs
      const result = await runBatches(job, 1, { workers });
      // then the small ones are sorted and the large one is a dead letter naming the items budget
      expect(result.error).toBeUndefined();
      expect(result.recordsOf('out')).toEqual([
        [
          [1, 2, 3],
          [1, 2, 3],
        ],
      ]);
      expect(deadLetterErrors(result.deadLetters)).toEqual([
        expect.stringContaining('items budget of 100 (expressionBudget.items)'),
      ]);
    });

    it('dead-letters a record that makes or reads a string longer than the chars budget', async () => {
      // given strings built past the budget: a width (which, 140 million wide, killed the process in $length), a
      // date picture's width, a padding of several characters, a concatenation; and a record longer than it
      const job = expressionJob(
        '$ = "pad" ? $length($pad($, 140000000)) : $ = "date" ? $fromMillis(0, "[Y١,200000000]") : $ = "wide" ? $pad("a", 400, "abc") : $ = "cat" ? $pad("", 600) & $pad("", 600) : $length($)',
        ['pad', 'date', 'wide', 'cat', 'x'.repeat(1001), 'ok'],
        { chars: 1000 },
      );
      // when the batch runs
      const result = await runBatches(job, 1, { workers });
      // then the short record is mapped and each of the others is a dead letter naming the chars budget
      expect(result.error).toBeUndefined();
      expect(result.recordsOf('out')).toEqual([[2]]);
      expect(deadLetterErrors(result.deadLetters)).toEqual(
        Array(5).fill(expect.stringContaining('chars budget of 1000 characters (expressionBudget.chars)')),
      );
    });

    it('dead-letters a record whose expression gives a number past ±1.8e308, at any depth', async () => {
      // given sums past the largest double (JSONata checks products, not sums): alone, inside an object or a list,
      // and one only compared
      const expr =
        '$ = 1 ? $ + 1.7e308 + 1.7e308 : $ = 2 ? {"v": 0 - 1.7e308 - 1.7e308} : $ = 3 ? [1, [$sum([1.7e308, 1.7e308])]] : $ = 4 ? (1.7e308 + 1.7e308) > $ : {"n": $}';
      const job = expressionJob(expr, [1, 2, 3, 4, 5], {});
      // when the batch runs
      const result = await runBatches(job, 1, { workers });
      // then the comparison and the plain record are written, and the three infinite results are dead letters
      // that say why (every output would have written them as null)
      expect(result.error).toBeUndefined();
      expect(result.recordsOf('out')).toEqual([[true, { n: 5 }]]);
      expect(deadLetterErrors(result.deadLetters)).toEqual([
        expect.stringContaining('streams.out.ops[0].expr gave Infinity, a number JSON cannot write'),
        expect.stringContaining('streams.out.ops[0].expr gave -Infinity, a number JSON cannot write'),
        expect.stringContaining('streams.out.ops[0].expr gave Infinity, a number JSON cannot write'),
      ]);
    });

    it('dead-letters a record whose expression gives a function, and writes the others', async () => {
      // given expressions that give a function: a lambda, a built-in, a partial application, one inside an object
      const expr =
        '$ = 1 ? function($x){ $x } : $ = 2 ? $uppercase : $ = 3 ? $substring(?, 1) : $ = 4 ? {"f": [function($x){ $x }]} : {"n": $}';
      const job = expressionJob(expr, [1, 2, 3, 4, 5], {});
      // when the batch runs
      const result = await runBatches(job, 1, { workers });
      // then the batch completes with the plain record, and four dead letters that say why
      expect(result.error).toBeUndefined();
      expect(result.recordsOf('out')).toEqual([[{ n: 5 }]]);
      expect(deadLetterErrors(result.deadLetters)).toEqual(
        Array(4).fill(expect.stringContaining('streams.out.ops[0].expr gave a function, not a value')),
      );
    });
  });
}

describe('an expression is checked when it is compiled', () => {
  it('refuses, at validation, a regular expression that could backtrack without bound', () => {
    // given expressions whose regular expressions V8's linear engine cannot run and that can blow up
    const doc = minimalJob({
      streams: {
        x: {
          from: 'lines',
          ops: [
            { op: 'filter', expr: '$contains($, /(a|ab)*c/i)' },
            { op: 'filter', expr: '$contains($, /(a+)+\\1/)' },
          ],
        },
      },
      outputs: [{ stream: 'x', type: 'print' }],
    });
    // when it is validated
    const issues = issuesOf(doc);
    // then each is refused at its path, saying why
    expect(issueAt(issues, 'streams.x.ops[0].expr').message).toMatch(/repeats a group .* exponential time/);
    expect(issueAt(issues, 'streams.x.ops[1].expr').message).toMatch(/backreference/);
  });

  it('lets through regular expressions that cannot blow up', () => {
    // the linear-time engine runs (a+)+$; a group that repeats once at most is no danger either
    expect(unboundedRegexReason('(a+)+$', 'g')).toBeUndefined();
    expect(unboundedRegexReason('(\\d+)?-x', 'gi')).toBeUndefined();
    expect(unboundedRegexReason('(?:ab)+c', 'gi')).toBeUndefined();
    expect(unboundedRegexReason('[a-z]+@[a-z]+', 'gi')).toBeUndefined();
  });

  it('takes its budget from the document, bounded by the schema', () => {
    // given budgets past the bounds
    const doc = minimalJob({
      expressionBudget: { timeMs: 600_000, depth: 1_000_000, items: 0, chars: 60_000_000 },
    });
    // when it is validated, then each is reported at its path
    const issues = issuesOf(doc);
    expect(issueAt(issues, 'expressionBudget.timeMs').message).toMatch(/at most 60000/);
    expect(issueAt(issues, 'expressionBudget.depth').message).toMatch(/at most 2000/);
    expect(issueAt(issues, 'expressionBudget.items').message).toBe('must be at least 1');
    expect(issueAt(issues, 'expressionBudget.chars').message).toMatch(/at most 50000000/);
  });
});

describe('the schema bounds every number a user sets', () => {
  it('refuses the numbers that broke validate or a run', () => {
    // given a seed past the safe integers, a huge hashtag pool, and far too many partitions
    const doc = minimalJob({
      defaultPartitions: 1500,
      sources: {
        lines: { type: 'generator', kind: 'tweets', ratePerSec: 10, seed: 1e21, hashtags: 1e9 },
      },
    });
    // when it is validated
    const issues = issuesOf(doc);
    // then each is an issue at its path that says the bound and where to read on
    for (const [path, bound] of [
      ['defaultPartitions', 256],
      ['sources.lines.seed', Number.MAX_SAFE_INTEGER],
      ['sources.lines.hashtags', 100_000],
    ] as const) {
      expect(issueAt(issues, path).message).toContain(`must be at most ${bound}`);
      expect(issueAt(issues, path).message).toContain('"Limits of a job document" in the README');
    }
  });

  it('refuses a fraction past 1 without pointing at the limits a job may raise', () => {
    // given a speculation quantile and a dead-letter share above 1
    const doc = minimalJob({ speculation: { quantile: 2 }, deadLetters: { maxShare: 1.5 } });
    // when it is validated
    const issues = issuesOf(doc);
    // then each says the bound is a fraction's, with no pointer to raising it, which no job could
    for (const path of ['speculation.quantile', 'deadLetters.maxShare']) {
      expect(issueAt(issues, path).message).toBe('must be at most 1 (a fraction)');
    }
  });

  it('shows a number too large for JSON as the Infinity it became, and says why', () => {
    // given a document whose numbers JSON.parse reads as Infinity and -Infinity
    const doc = JSON.parse(
      JSON.stringify(minimalJob()).replace(
        '{',
        '{"defaultPartitions":1e400,"deadLetters":{"maxShare":-1e400},',
      ),
    );
    // when it is validated
    const message = validationMessage(doc);
    // then each value is shown as what it became, never as null, with the reason
    expect(message).toContain(
      'defaultPartitions: must be a whole number; a number beyond ±1.8e308, such as 1e400, is too large for JSON and reads as Infinity (got Infinity)',
    );
    expect(message).toContain('deadLetters.maxShare: must be a number; ');
    expect(message).toContain('reads as -Infinity (got -Infinity)');
  });

  it('refuses a number too large for JSON anywhere, once, where the schema does not bound the field', () => {
    // given Infinity in a queue's record, in an op's zero and in a bounded field, as JSON.parse reads 1e400
    const doc = minimalJob({
      defaultPartitions: Number.POSITIVE_INFINITY,
      sources: { lines: { type: 'queue', batches: [['a', { w: [1, Number.NEGATIVE_INFINITY] }]] } },
      streams: {
        words: {
          from: 'lines',
          ops: [
            { op: 'map', expr: '[$, 1]' },
            { op: 'foldByKey', fn: 'sum', zero: Number.POSITIVE_INFINITY },
          ],
        },
      },
    });
    // when it is validated
    const issues = issuesOf(doc);
    // then each is an issue at its path, the schema's bounded field once, where the record went on as Infinity
    // locally and as null on AWS
    expect(issueAt(issues, 'sources.lines.batches[0][1].w[1]')).toEqual({
      path: 'sources.lines.batches[0][1].w[1]',
      message:
        'is a number beyond ±1.8e308, such as 1e400, which is too large for JSON and reads as -Infinity; write a smaller one',
      value: Number.NEGATIVE_INFINITY,
    });
    expect(issueAt(issues, 'streams.words.ops[1].zero').message).toContain('reads as Infinity');
    expect(issues.filter((issue) => issue.path === 'defaultPartitions')).toHaveLength(1);
  });

  it('bounds the description, which every metadata checkpoint holds', () => {
    // given a 5 MB description
    const issues = issuesOf(minimalJob({ description: 'x'.repeat(5_000_000) }));
    // then it is refused at its path with the bound
    expect(issueAt(issues, 'description').message).toMatch(/must be at most 10000 characters/);
    expect(() => validateJob(minimalJob({ description: 'x'.repeat(10_000) }))).not.toThrow();
  });

  it('has a maximum on every integer and number field', () => {
    // given the schema
    const schema = JSON.parse(
      readFileSync(new URL('../../lib/job/job.schema.json', import.meta.url), 'utf8'),
    );
    // when every numeric field is collected
    const unbounded: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (node === null || typeof node !== 'object') return;
      const field = node as Record<string, unknown>;
      if ((field.type === 'integer' || field.type === 'number') && field.maximum === undefined)
        unbounded.push(path);
      for (const [key, child] of Object.entries(field)) walk(child, `${path}.${key}`);
    };
    walk(schema, '');
    // then none lacks a maximum
    expect(unbounded).toEqual([]);
  });

  it('bounds what a generator makes per batch, which a batch holds in memory', () => {
    // given a rate that makes two million records a batch
    const doc = minimalJob({
      batchIntervalMs: 2000,
      sources: { lines: { type: 'generator', kind: 'lines', ratePerSec: 1_000_000 } },
    });
    // when it is validated, then the rate is reported
    expect(issueAt(issuesOf(doc), 'sources.lines.ratePerSec').message).toMatch(
      /makes 2000000 records per batch of 2000 ms/,
    );
  });

  it('bounds the bytes of a pool of generated lines, which every process holds', () => {
    // given a pool of a million 1 KiB lines, and one of a thousand
    const doc = minimalJob({
      sources: {
        lines: { type: 'generator', kind: 'lines', ratePerSec: 10, lineBytes: 1024, poolRecords: 1_000_000 },
        fits: { type: 'generator', kind: 'lines', ratePerSec: 10, lineBytes: 1024, poolRecords: 1000 },
      },
    });
    // when it is validated, then only the first pool is reported, at its path
    const issues = issuesOf(doc).filter((i) => i.path.includes('poolRecords'));
    expect(issues.map((i) => i.path)).toEqual(['sources.lines.poolRecords']);
    expect(issues[0]?.message).toMatch(
      /keeps a pool of 1000000 lines of 1024 bytes in memory, more than the 256 MiB/,
    );
  });
});

describe('windows are bounded by the batches they keep', () => {
  it(`refuses a window of more than ${MAX_WINDOW_BATCHES} input batches, and accepts one of that many`, () => {
    // given a 7-day window over 1 ms batches, and a 100-second one
    const doc = minimalJob({
      batchIntervalMs: 1,
      streams: {
        words: { from: 'lines', ops: [{ op: 'window', windowMs: 604_800_000 }] },
        fits: { from: 'lines', ops: [{ op: 'window', windowMs: MAX_WINDOW_BATCHES }] },
      },
      outputs: [
        { stream: 'words', type: 'print' },
        { stream: 'fits', type: 'print' },
      ],
    });
    // when it is validated, then only the first is reported, with the number of batches it spans
    const issues = issuesOf(doc);
    expect(issues.map((i) => i.path)).toEqual(['streams.words.ops[0].windowMs']);
    expect(issues[0]?.message).toMatch(/spans 604800000 batches of its input's 1 ms, more than the 100000/);
  });
});

describe('validation stays linear in the document', () => {
  it('suggests names for the first unknown names only, and shows a bounded list of problems', () => {
    // given 900 streams and 900 outputs that all name sources and streams that do not exist
    const streams = Object.fromEntries(
      Array.from({ length: 900 }, (_, i) => [`stream${i}`, { from: `source${i}`, ops: [{ op: 'count' }] }]),
    );
    const outputs = Array.from({ length: 900 }, (_, i) => ({ stream: `output${i}`, type: 'print' }));
    const doc = minimalJob({ streams, outputs });
    // when it is validated
    const message = validationMessage(doc);
    // then the message names the first problems with suggestions, and counts the rest instead of listing them
    expect(message).toContain(
      'streams.stream0.from: unknown source or stream "source0". Known: lines, stream1, stream2,',
    );
    expect(message).toContain('… 860 more.');
    expect(message).toContain('streams.stream50.from: unknown source or stream "source50" (got "source50")');
    expect(message).toMatch(/and \d+ more problem\(s\) like those above/);
    expect(message.length).toBeLessThan(64 * 1024);
  });

  it(`refuses more than ${MAX_OPS} ops at the first op past the limit`, () => {
    // given a chain of 10,000 streams of one op each
    const streams = Object.fromEntries(
      Array.from({ length: 10_000 }, (_, i) => [
        `s${i}`,
        { from: i === 0 ? 'lines' : `s${i - 1}`, ops: [{ op: 'filter', expr: '$' }] },
      ]),
    );
    const doc = minimalJob({ streams, outputs: [{ stream: 's9999', type: 'print' }] });
    // when it is validated
    const issues = issuesOf(doc);
    // then the op past the limit is named, and the number of streams too
    expect(issueAt(issues, `streams.s${MAX_OPS}.ops[0]`).message).toMatch(/at most 1000 ops in all/);
    expect(issueAt(issues, 'streams').message).toMatch(/at most 1000 entries/);
  });

  it('refuses 10,000 streams that read each other in a chain, listed last first, without walking the chain', () => {
    // given streams without ops (so no op limit applies), each reading the one listed after it
    const streams = Object.fromEntries(
      Array.from({ length: 10_000 }, (_, i) => [`s${i}`, { from: i === 9_999 ? 'lines' : `s${i + 1}` }]),
    );
    const doc = minimalJob({ streams, outputs: [{ stream: 's0', type: 'print' }] });
    // when it is validated, then the number of streams is the issue, not a stack overflow
    expect(issueAt(issuesOf(doc), 'streams').message).toMatch(/at most 1000 entries/);
  });

  it(`refuses values nested more than ${MAX_NESTING} levels deep, with the path where they are`, () => {
    // given args nested 5,000 levels deep
    let deep: unknown = 'user';
    for (let i = 0; i < 5000; i++) deep = [deep];
    const doc = minimalJob({
      streams: { x: { from: 'lines', ops: [{ op: 'map', fn: 'pick', args: { fields: deep } }] } },
      outputs: [{ stream: 'x', type: 'print' }],
    });
    // when it is validated
    const issues = issuesOf(doc);
    // then the one issue says so at the path of the args
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toMatch(/^streams\.x\.ops\[0\]\.args\.fields\[0\]/);
    expect(issues[0]?.message).toMatch(/nested more than 100 levels deep/);
  });

  it('refuses a deeply nested value of the wrong type without showing it', () => {
    // given a description (a string) that is an array nested 50,000 levels deep
    let deep: unknown = 'x';
    for (let i = 0; i < 50_000; i++) deep = [deep];
    // when it is validated, then the nesting is the one issue: the value is never printed, which overflowed
    const issues = issuesOf(minimalJob({ description: deep }));
    expect(issues.map((i) => i.path)).toEqual(['description[0][0][0][0][0][0][0]…']);
  });

  it('refuses an expression nested too deeply to compile', () => {
    // given an expression of 4,000 nested parentheses, within the length bound
    const expr = `${'('.repeat(4000)}1${')'.repeat(4000)}`;
    // when it is validated, then its path says it is nested too deeply
    expect(issueAt(issuesOf(jobWith([{ op: 'map', expr }])), 'streams.x.ops[0].expr').message).toBe(
      'the JSONata expression is nested too deeply to compile',
    );
  });
});

describe('a job that cannot run is refused by validation', () => {
  it('refuses a source that no output reads', () => {
    // given a second source that nothing reads
    const doc = minimalJob({
      sources: { lines: { type: 'queue', batches: [['a']] }, spare: { type: 'queue', batches: [['b']] } },
    });
    // when it is validated, then the source is named
    expect(issueAt(issuesOf(doc), 'sources.spare').message).toMatch(/is read by no output/);
  });

  it("accepts a source read only through another stream's with", () => {
    // given a source read by a union
    const doc = minimalJob({
      sources: { lines: { type: 'queue', batches: [['a']] }, more: { type: 'queue', batches: [['b']] } },
      streams: { words: { from: 'lines', ops: [{ op: 'union', with: 'more' }] } },
    });
    // when it is validated, then nothing is reported
    expect(() => validateJob(doc)).not.toThrow();
  });
});

describe('output paths stay inside the output folder', () => {
  it('refuses jsonl paths and saveAsTextFiles prefixes that are absolute or climb out, at their paths', () => {
    // given outputs that would write outside the output folder
    const doc = minimalJob({
      outputs: [
        { stream: 'words', type: 'jsonl', path: '../escape.jsonl' },
        { stream: 'words', type: 'jsonl', path: '/tmp/elsewhere.jsonl' },
        { stream: 'words', type: 'jsonl', path: 'out/../../escape.jsonl' },
        { stream: 'words', type: 'saveAsTextFiles', prefix: '../up' },
        { stream: 'words', type: 'saveAsTextFiles', prefix: '/abs/words' },
        { stream: 'words', type: 'jsonl', path: 'out/ok.jsonl' },
        { stream: 'words', type: 'saveAsTextFiles', prefix: 'out/../words' },
      ],
    });
    // when it is validated
    const issues = issuesOf(doc);
    // then exactly the five that leave the folder are reported
    expect(issues.map((i) => i.path)).toEqual([
      'outputs[0].path',
      'outputs[1].path',
      'outputs[2].path',
      'outputs[3].prefix',
      'outputs[4].prefix',
    ]);
    expect(issueAt(issues, 'outputs[0].path').message).toMatch(/climbs out of the output folder/);
    expect(issueAt(issues, 'outputs[1].path').message).toMatch(/not absolute/);
  });

  it('refuses a saveAsTextFiles suffix with a / or \\, and a NUL in any path, at their fields', () => {
    // given a suffix that turns each batch's folder into a path ("a-1000.../../x" is "x", every batch's; with more
    // "../" it is outside the output folder), and names the file system refuses only when the first batch writes
    const doc = minimalJob({
      outputs: [
        { stream: 'words', type: 'saveAsTextFiles', prefix: 'a', suffix: '../../x' },
        { stream: 'words', type: 'saveAsTextFiles', prefix: 'b', suffix: '/../../../../escaped' },
        { stream: 'words', type: 'saveAsTextFiles', prefix: 'c', suffix: 'txt\\..' },
        { stream: 'words', type: 'jsonl', path: 'out/a\u0000b.jsonl' },
        { stream: 'words', type: 'saveAsTextFiles', prefix: 'd\u0000', suffix: 'txt' },
        { stream: 'words', type: 'saveAsTextFiles', prefix: 'e', suffix: 'tx\u0000t' },
        { stream: 'words', type: 'saveAsTextFiles', prefix: 'f', suffix: 'txt.gz' },
      ],
    });
    // when it is validated
    const issues = issuesOf(doc);
    // then each is reported at its field, and the plain suffix is not
    expect(issues.map((i) => i.path)).toEqual([
      'outputs[0].suffix',
      'outputs[1].suffix',
      'outputs[2].suffix',
      'outputs[3].path',
      'outputs[4].prefix',
      'outputs[5].suffix',
    ]);
    expect(issueAt(issues, 'outputs[0].suffix').message).toMatch(
      /may not hold \/ or \\; put folders in the prefix/,
    );
    expect(issueAt(issues, 'outputs[3].path').message).toMatch(/holds a NUL character/);
  });
});

function jobWith(ops: unknown[]): Record<string, unknown> {
  return minimalJob({ streams: { x: { from: 'lines', ops } }, outputs: [{ stream: 'x', type: 'print' }] });
}
