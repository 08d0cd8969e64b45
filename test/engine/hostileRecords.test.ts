import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatRecord, formatRecordOf } from '../../lib/executor/formatRecord';
import type { ValueShape } from '../../lib/executor/ValueShape';
import { runBatches } from '../../lib/local/LocalRuntime';
import { unreadableRecord } from '../../lib/source/UnreadableRecord';

/** A job document over one queue source of `lines` (one partition), with `streams` and jsonl `outputs`. */
function linesJob(lines: unknown[], streams: Record<string, unknown>, outputs: string[]) {
  return {
    kind: 'document',
    baseDir: tmpdir(),
    document: {
      name: 'hostile',
      batchIntervalMs: 1000,
      sources: { lines: { type: 'queue', batches: [lines], partitions: 1 } },
      streams,
      outputs: outputs.map((stream) => ({ stream, type: 'jsonl', path: `${stream}.jsonl` })),
    },
  } as const;
}

/** The parsed lines of a jsonl output file: one `{output, batchTime, records}` per batch. */
async function batchesOf(dir: string, stream: string): Promise<unknown[][]> {
  const text = await readFile(join(dir, `${stream}.jsonl`), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { records: unknown[] }).records);
}

/** Records that once stopped a job: each must become a dead letter, and the job goes on. */
describe('hostile records', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-hostile-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a 200 KB deeply nested line is a dead letter holding the line, and the job goes on', async () => {
    // given a line of 100,000 nested arrays among good lines, parsed, counted and written as jsonl
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const job = linesJob(
      [deep, '[1,2]', '"ok"'],
      {
        parsed: { from: 'lines', ops: [{ op: 'map', fn: 'parseJson' }] },
        counts: { from: 'parsed', ops: [{ op: 'countByValue', partitions: 1 }] },
      },
      ['parsed', 'counts'],
    );
    // when two batches run
    const result = await runBatches(job, 2, { outputDir: dir });
    // then both outputs have the good records, and the deep line is one dead letter (per output), kept as it came
    expect(result.error).toBeUndefined();
    expect(await batchesOf(dir, 'parsed')).toEqual([[[1, 2], 'ok'], []]);
    expect(await batchesOf(dir, 'counts')).toEqual([
      [
        ['ok', 1],
        [[1, 2], 1],
      ],
      [],
    ]);
    expect(result.deadLetters.length).toBeGreaterThan(0);
    for (const letter of result.deadLetters) {
      expect(letter.record).toBe(deep);
      expect(letter.op).toBe('streams.parsed.ops[0] (map)');
      expect(letter.error).toMatch(/nested deeper than 1000 levels/);
    }
  });

  it('a number too large for a double is a dead letter naming its field, not a null in the output', async () => {
    // given lines whose numbers JSON.parse reads as Infinity, among good ones, parsed and written as jsonl
    const job = linesJob(
      ['{"v": 1e400}', '{"v": 2}', '{"w": [-1E309]}'],
      { parsed: { from: 'lines', ops: [{ op: 'map', fn: 'parseJson' }] } },
      ['parsed'],
    );
    // when the batch runs
    const result = await runBatches(job, 1, { outputDir: dir });
    // then the output has the good record only, and each bad line is a dead letter with the field at fault
    expect(result.error).toBeUndefined();
    expect(await batchesOf(dir, 'parsed')).toEqual([[{ v: 2 }]]);
    expect(result.deadLetters.map((l) => [l.record, l.error])).toEqual([
      ['{"v": 1e400}', expect.stringContaining('parseJson refuses the number at $.v: it is beyond ±1.8e308')],
      ['{"w": [-1E309]}', expect.stringContaining('the number at $.w[0]: it is beyond ±1.8e308')],
    ]);
  });

  it('records that are not pairs are dead letters of joins, cogroup, updateStateByKey and mapWithState', async () => {
    // given lines parsed and turned into pairs by an expression that makes `["u6"]` or `[]` of incomplete ones
    const lines = ['{"user":"u1","n":1}', '{"user":"u6"}', '{}', '{"user":"u1","n":2}'];
    const keyed = [
      { op: 'map', fn: 'parseJson' },
      { op: 'map', expr: '[user, n]' },
    ];
    const job = linesJob(
      lines,
      {
        pairs: { from: 'lines', ops: keyed },
        others: { from: 'lines', ops: keyed },
        joined: { from: 'pairs', ops: [{ op: 'join', with: 'others', partitions: 1 }] },
        left: { from: 'pairs', ops: [{ op: 'leftOuterJoin', with: 'others', partitions: 1 }] },
        grouped: { from: 'pairs', ops: [{ op: 'cogroup', with: 'others', partitions: 1 }] },
        sums: { from: 'pairs', ops: [{ op: 'updateStateByKey', fn: 'sumState', partitions: 1 }] },
        counts: { from: 'pairs', ops: [{ op: 'mapWithState', fn: 'runningCount', partitions: 1 }] },
      },
      ['joined', 'left', 'grouped', 'sums', 'counts'],
    );
    // when two batches run
    const result = await runBatches(job, 2, { outputDir: dir });
    // then only the good pairs count, and each bad line is a dead letter of each op it reached, kept as it came
    expect(result.error).toBeUndefined();
    expect(await batchesOf(dir, 'sums')).toEqual([[['u1', 3]], [['u1', 3]]]);
    expect((await batchesOf(dir, 'joined'))[0]).toHaveLength(4);
    expect((await batchesOf(dir, 'left'))[0]).toHaveLength(4);
    expect(await batchesOf(dir, 'counts')).toEqual([
      [
        ['u1', 1],
        ['u1', 2],
      ],
      [],
    ]);
    expect(await batchesOf(dir, 'grouped')).toEqual([
      [
        [
          'u1',
          [
            [1, 2],
            [1, 2],
          ],
        ],
      ],
      [],
    ]);
    const letters = result.deadLetters.map((l) => `${l.op}: ${String(l.record)}`).sort();
    const ops = ['joined.ops[0] (join)', 'left.ops[0] (leftOuterJoin)', 'grouped.ops[0] (cogroup)'];
    const expected = [
      ...ops.flatMap((op) => [`streams.${op}: {}`, `streams.${op}: {}`]),
      ...ops.flatMap((op) => [`streams.${op}: {"user":"u6"}`, `streams.${op}: {"user":"u6"}`]),
      'streams.sums.ops[0] (updateStateByKey): {}',
      'streams.sums.ops[0] (updateStateByKey): {"user":"u6"}',
      'streams.counts.ops[0] (mapWithState): {}',
      'streams.counts.ops[0] (mapWithState): {"user":"u6"}',
    ].sort();
    expect(letters).toEqual(expected);
    expect(result.deadLetters[0]!.error).toMatch(/expected a \[key, value\] pair/);
  });

  it('a value sumState refuses is a dead letter with its key; the state stays and later batches run', async () => {
    // given pairs of one key where one value is a string, in the first batch, and more in the second
    const job = {
      kind: 'document',
      baseDir: tmpdir(),
      document: {
        name: 'poison',
        batchIntervalMs: 1000,
        sources: {
          pairs: {
            type: 'queue',
            batches: [
              [
                ['k', 1],
                ['k', 'x'],
                ['k', 2],
                ['j', 'y'],
              ],
              [['k', 4]],
            ],
            partitions: 1,
          },
        },
        streams: {
          sums: { from: 'pairs', ops: [{ op: 'updateStateByKey', fn: 'sumState', partitions: 1 }] },
        },
        outputs: [{ stream: 'sums', type: 'collectBatches' }],
      },
    } as const;
    // when three batches run
    const result = await runBatches(job, 3, { outputDir: dir });
    // then the batch does not fail: the bad values are dead letters, the good ones are summed, j gets no state
    expect(result.error).toBeUndefined();
    expect(result.recordsOf('sums')).toEqual([[['k', 3]], [['k', 7]], [['k', 7]]]);
    const refused = expect.stringMatching(/sumState expects numbers/);
    expect(result.deadLetters.map((l) => [l.record, l.op, l.error])).toEqual([
      [['k', 'x'], 'streams.sums.ops[0] (updateStateByKey)', refused],
      [['j', 'y'], 'streams.sums.ops[0] (updateStateByKey)', refused],
    ]);
  });

  it('a dead letter holds the line as it came, not what an earlier op of the stage made of it', async () => {
    // given lines parsed, then split (a synchronous, fused pass) or upper-cased by an expression (materialized)
    const job = linesJob(
      ['"a b"', '{"a":1}', '5'],
      {
        words: {
          from: 'lines',
          ops: [
            { op: 'map', fn: 'parseJson' },
            { op: 'flatMap', fn: 'splitWords' },
          ],
        },
        upper: {
          from: 'lines',
          ops: [
            { op: 'map', fn: 'parseJson' },
            { op: 'map', expr: '$uppercase($)' },
          ],
        },
      },
      ['words', 'upper'],
    );
    // when a batch runs
    const result = await runBatches(job, 1, { outputDir: dir });
    // then the records the second op refused are dead letters holding the source's lines
    expect(result.error).toBeUndefined();
    expect(await batchesOf(dir, 'words')).toEqual([['a', 'b']]);
    expect(await batchesOf(dir, 'upper')).toEqual([['A B']]);
    const letters = result.deadLetters.map((l) => [l.op, l.record]);
    expect(letters).toEqual([
      ['streams.words.ops[1] (flatMap)', '{"a":1}'],
      ['streams.words.ops[1] (flatMap)', '5'],
      ['streams.upper.ops[1] (map)', '{"a":1}'],
      ['streams.upper.ops[1] (map)', '5'],
    ]);
  });

  it('a record refused after a union is dead-lettered as the source line it came from', async () => {
    // given parsed lines, unioned with themselves, then mapped by an op that refuses the object
    const job = linesJob(
      ['"a"', '{"a":1}'],
      {
        parsed: { from: 'lines', ops: [{ op: 'map', fn: 'parseJson' }] },
        doubled: {
          from: 'parsed',
          ops: [
            { op: 'union', with: 'parsed' },
            { op: 'map', expr: '$uppercase($)' },
          ],
        },
      },
      ['doubled'],
    );
    // when a batch runs
    const result = await runBatches(job, 1, { outputDir: dir });
    // then each refused record is the line, as it is without the union
    expect(result.error).toBeUndefined();
    expect(await batchesOf(dir, 'doubled')).toEqual([['A', 'A']]);
    expect(result.deadLetters.map((l) => [l.op, l.record])).toEqual([
      ['streams.doubled.ops[1] (map)', '{"a":1}'],
      ['streams.doubled.ops[1] (map)', '{"a":1}'],
    ]);
  });

  it('each per-record op of a fused pass dead-letters the line its function throws on, and the pass goes on', async () => {
    // given one stream through every per-record kind, each a built-in that throws on one of the lines (the
    // values' spaces are escaped no-break spaces, so splitting a whole line keeps it whole)
    const good = '{"text":"k","v":"1\\u00a02"}';
    const lines = [good, 7, 'oops', '8', '"k"', '{"text":"k","v":5}', '{"text":"k","v":"1\\u00a0x"}'];
    const job = linesJob(
      lines,
      {
        pairs: {
          from: 'lines',
          ops: [
            { op: 'flatMap', fn: 'splitWords' },
            { op: 'map', fn: 'parseJson' },
            { op: 'filter', fn: 'contains', args: { word: 'k' } },
            { op: 'map', fn: 'toPair', args: { key: 'text', value: 'v' } },
            { op: 'flatMapValues', fn: 'splitWords' },
            { op: 'mapValues', fn: 'parseJson' },
          ],
        },
      },
      ['pairs'],
    );
    // when a batch runs
    const result = await runBatches(job, 1, { outputDir: dir });
    // then each op refuses the line it throws on, holding the line (and the key where the op is per key)
    expect(result.error).toBeUndefined();
    expect(result.deadLetters.map((l) => [l.op, l.key, l.record])).toEqual([
      ['streams.pairs.ops[0] (flatMap)', undefined, 7],
      ['streams.pairs.ops[1] (map)', undefined, 'oops'],
      ['streams.pairs.ops[2] (filter)', undefined, '8'],
      ['streams.pairs.ops[3] (map)', undefined, '"k"'],
      ['streams.pairs.ops[4] (flatMapValues)', 'k', lines[5]],
      ['streams.pairs.ops[5] (mapValues)', 'k', lines[6]],
    ]);
    expect(await batchesOf(dir, 'pairs')).toEqual([
      [
        ['k', 1],
        ['k', 2],
        ['k', 1],
      ],
    ]);
  });

  it('input a source could not read is a dead letter of the batch, and no function sees it', async () => {
    // given a batch holding what the socket source hands on for an over-long line, between two lines
    const unreadable = unreadableRecord('line of 9 bytes is longer than maxLineBytes (8)', {
      bytes: 9,
      prefix: '123456789',
    });
    const job = linesJob(
      ['a', unreadable, 'b'],
      { upper: { from: 'lines', ops: [{ op: 'map', expr: '$uppercase($)' }] } },
      ['upper'],
    );
    // when a batch runs
    const result = await runBatches(job, 1, { outputDir: dir });
    // then the function saw only the lines, and the unreadable input is a dead letter with the source's reason
    expect(result.error).toBeUndefined();
    expect(await batchesOf(dir, 'upper')).toEqual([['A', 'B']]);
    expect(result.deadLetters.map((l) => [l.fn, l.record, l.error])).toEqual([
      ['source', { bytes: 9, prefix: '123456789' }, 'Error: line of 9 bytes is longer than maxLineBytes (8)'],
    ]);
  });

  it('print shows a record it cannot write as unprintable instead of failing', () => {
    // given pairs nested 100,000 deep, and a record holding a BigInt
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = [i, deep];
    // when they are formatted for print
    const shown = [formatRecord(deep), formatRecord({ n: 1n })];
    // then each says it is unprintable, and why
    expect(shown[0]).toMatch(/^<unprintable record: Maximum call stack size exceeded>$/);
    expect(shown[1]).toMatch(/^<unprintable record: .*BigInt/);
  });

  it("print shows a value its stream's shape does not fit as it is, and a deep one inside an Option as unprintable", () => {
    // given a left outer join's shape, and values a function of the user's could have put there
    const leftOuter: ValueShape = { tuple: ['plain', { option: { group: 'plain' } }] };
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = [i, deep];
    // when they are formatted for print
    const shown = [
      formatRecordOf(['k', 5], leftOuter),
      formatRecordOf(['k', [1, 2, 3]], leftOuter),
      formatRecordOf(['k', [1, 7]], leftOuter),
      formatRecordOf(['k', [1, [deep]]], leftOuter),
    ];
    // then a value that is not a pair, or a group that is not an array, prints as it is; a deep one as unprintable
    expect(shown.slice(0, 3)).toEqual(['(k,5)', '(k,[1,2,3])', '(k,(1,Some(7)))']);
    expect(shown[3]).toMatch(/^<unprintable record: Maximum call stack size exceeded>$/);
  });

  it('a reducer that refuses a value dead-letters the line it came from, with its key', async () => {
    // given lines made pairs by a built-in (a fused pass into the map-side combine) or by an expression
    const lines = ['{"user":"u1","n":1}', '{"user":"u1","n":"x"}', '{"user":"u1","n":2}'];
    const reduce = { op: 'reduceByKey', fn: 'sum', partitions: 1 };
    const job = linesJob(
      lines,
      {
        fused: {
          from: 'lines',
          ops: [
            { op: 'map', fn: 'parseJson' },
            { op: 'map', fn: 'toPair', args: { key: 'user', value: 'n' } },
            reduce,
          ],
        },
        expressed: {
          from: 'lines',
          ops: [{ op: 'map', fn: 'parseJson' }, { op: 'map', expr: '[user, n]' }, reduce],
        },
      },
      ['fused', 'expressed'],
    );
    // when a batch runs
    const result = await runBatches(job, 1, { outputDir: dir });
    // then the good values are summed, and the bad one is a dead letter of each reduce: its line and its key
    expect(result.error).toBeUndefined();
    expect(await batchesOf(dir, 'fused')).toEqual([[['u1', 3]]]);
    expect(await batchesOf(dir, 'expressed')).toEqual([[['u1', 3]]]);
    expect(result.deadLetters.map((l) => [l.op, l.key, l.record])).toEqual([
      ['streams.fused.ops[2] (reduceByKey)', 'u1', '{"user":"u1","n":"x"}'],
      ['streams.expressed.ops[2] (reduceByKey)', 'u1', '{"user":"u1","n":"x"}'],
    ]);
  });

  it('a reducer after a union dead-letters the line too: the map side reads through the union', async () => {
    // given pairs unioned with themselves before the reduce (as count() unions its zero), one value bad
    const lines = ['{"user":"u1","n":1}', '{"user":"u1","n":"x"}', '{"user":"u1","n":2}'];
    const job = linesJob(
      lines,
      {
        pairs: {
          from: 'lines',
          ops: [
            { op: 'map', fn: 'parseJson' },
            { op: 'map', fn: 'toPair', args: { key: 'user', value: 'n' } },
          ],
        },
        twice: {
          from: 'pairs',
          ops: [
            { op: 'union', with: 'pairs' },
            { op: 'reduceByKey', fn: 'sum', partitions: 1 },
          ],
        },
      },
      ['twice'],
    );
    // when a batch runs
    const result = await runBatches(job, 1, { outputDir: dir });
    // then each side's bad value is a dead letter holding its line, not the pair it had become
    expect(result.error).toBeUndefined();
    expect(await batchesOf(dir, 'twice')).toEqual([[['u1', 6]]]);
    expect(result.deadLetters.map((l) => [l.op, l.key, l.record])).toEqual([
      ['streams.twice.ops[1] (reduceByKey)', 'u1', '{"user":"u1","n":"x"}'],
      ['streams.twice.ops[1] (reduceByKey)', 'u1', '{"user":"u1","n":"x"}'],
    ]);
  });
});
