import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { StreamOp } from '../../lib/job/JobDocument';
import jobSchema from '../../lib/job/job.schema.json' with { type: 'json' };
import { DATASET_OPS, STREAM_OPS } from '../../lib/job/ops/opCatalogue';
import {
  OP_TABLES,
  type OpTableName,
  opTable,
  opTableIn,
  opTableMarkers,
  withOpTables,
} from '../../lib/job/ops/opReadmeTables';
import { opSchemaDefinitions } from '../../lib/job/ops/opSchema';
import { runBatches } from '../../lib/local/LocalRuntime';
import { fixturesDir, issuesOf, jobWithOps, minimalJob } from './fixtures/jobs';

describe('the op catalogue', () => {
  it('is what job.schema.json holds for stream and dataset ops (run `npm run schema` after editing an entry)', () => {
    // given the definitions the catalogue generates
    const generated = opSchemaDefinitions(STREAM_OPS, DATASET_OPS);
    // when they are compared with the committed schema, then they are the same
    expect(jobSchema.definitions.streamOp).toEqual(generated.streamOp);
    expect(jobSchema.definitions.datasetOp).toEqual(generated.datasetOp);
  });

  it("is what the README's ops tables hold (run `npm run schema` after editing an entry)", () => {
    // given the README as committed
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    // when each table between its markers is compared with the one the catalogue writes, then they are the same
    for (const table of Object.keys(OP_TABLES) as OpTableName[]) {
      expect(opTableIn(readme, table), table).toBe(opTable(OP_TABLES[table]));
    }
  });

  it("puts every stream op in exactly one README table, in the schema's order", () => {
    // given the ops of the tables, one after the other
    const tabled = Object.values(OP_TABLES).flatMap((entries) => entries.map((entry) => entry.name));
    // when compared with the catalogue, then they are its ops, each once
    expect(tabled).toEqual(STREAM_OPS.map((entry) => entry.name));
  });

  it('writes a row per op, sharing one where ops have the same fields and semantics', () => {
    // given ops as the tables show them: fields required, optional, noted, with args, an expression op's choice
    const table = opTable([
      ...STREAM_OPS.filter((e) => ['map', 'flatMap', 'filter', 'keyBy', 'count'].includes(e.name)),
      ...OP_TABLES.stream.filter((e) => e.name === 'union' || e.name === 'combineByKey'),
    ]);
    // when written, then map, flatMap and filter share a row, and each cell reads as the README's
    expect(table.split('\n')).toEqual([
      '| op | fields | Spark semantics |',
      '| --- | --- | --- |',
      '| `map`, `flatMap`, `filter` | `fn` (+`args`) or `expr` | per record |',
      '| `keyBy` | `fn` (+`args`) or `expr` | `[f(record), record]` |',
      '| `count` | none | one record per batch; an empty batch gives `0` |',
      '| `union` | `with` (a name or a list of names) | all streams must share the slide interval |',
      "| `combineByKey` | `createCombiner`, `mergeValue`, `mergeCombiners`, `partitions`?, `mapSideCombine`? (default true) | Spark's combineByKey |",
    ]);
  });

  it('rewrites only what lies between the markers, and twice the same as once', () => {
    // given a text with both tables' markers around stale rows
    const text = (Object.keys(OP_TABLES) as OpTableName[])
      .map(
        (t) => `Before ${t}.\n\n${opTableMarkers(t).start}\n| stale |\n${opTableMarkers(t).end}\n\nAfter.\n`,
      )
      .join('');
    // when the tables are written, twice
    const once = withOpTables(text);
    // then the stale rows are gone, the rest is kept, and a second run changes nothing
    expect(once).not.toContain('| stale |');
    expect(once).toContain('Before window.\n\n');
    expect(opTableIn(once, 'window')).toBe(opTable(OP_TABLES.window));
    expect(withOpTables(once)).toBe(once);
  });

  it('refuses a README whose markers are missing, naming them', () => {
    // given a README without the window table's markers
    const text = `${opTableMarkers('stream').start}\n${opTableMarkers('stream').end}\n`;
    // when the tables are written, then the error names the missing marker
    expect(() => withOpTables(text)).toThrow(
      `README.md has no window ops table between the lines ${opTableMarkers('window').start}`,
    );
  });

  it('refers only to definitions the hand-written part of the schema has', () => {
    // given every $ref of every entry's fields
    const refs = STREAM_OPS.flatMap((entry) =>
      Object.values(entry.fields as Record<string, { $ref?: string }>).flatMap((f) => f.$ref ?? []),
    );
    // when each is looked up, then it names an existing definition
    const definitions = jobSchema.definitions as Record<string, unknown>;
    for (const ref of refs) expect(definitions[ref.replace('#/definitions/', '')], ref).toBeDefined();
    expect(refs.length).toBeGreaterThan(STREAM_OPS.length);
  });

  it('gives the kind of every field that names a function, so that validation checks it', () => {
    // given the schema definitions of function names, and every entry field that refers to one
    const functionNames = [
      'fn',
      'reducer',
      'invFn',
      'partitionFn',
      'transformFn',
      'updateFn',
      'mapWithStateFn',
      'createCombiner',
      'mergeValue',
      'mergeCombiners',
      'windowFilter',
    ].map((definition) => `#/definitions/${definition}`);
    const undeclared: string[] = [];
    for (const entry of STREAM_OPS) {
      for (const [field, schema] of Object.entries(entry.fields as Record<string, { $ref?: string }>)) {
        if (!functionNames.includes(schema.$ref ?? '')) continue;
        const kinds: Record<string, unknown> = entry.functionFields ?? {};
        // An expression op's fn is a record function, checked with its expr.
        if (kinds[field] === undefined && !(entry.expression === true && field === 'fn')) {
          undeclared.push(`${entry.name}.${field}`);
        }
      }
    }
    // when they are compared with the entries' functionFields, then each field has its kind
    expect(undeclared).toEqual([]);
    const definitions = jobSchema.definitions as Record<string, unknown>;
    for (const ref of functionNames)
      expect(definitions[ref.replace('#/definitions/', '')], ref).toBeDefined();
  });

  it('lists as dataset ops exactly the entries that can build on a dataset', () => {
    // given the entries with buildDataset
    const buildable = STREAM_OPS.filter((entry) => 'buildDataset' in entry).map((entry) => entry.name);
    // when compared with the dataset ops, then they are the same, in the same order
    expect(DATASET_OPS.map((entry) => entry.name)).toEqual(buildable);
    expect(new Set(STREAM_OPS.map((entry) => entry.name)).size).toBe(STREAM_OPS.length);
  });

  it('types a document op from its entry: the fields it has and no other', () => {
    // given ops typed as the catalogue says; the compiler checks the lines marked as errors
    const ops: StreamOp[] = [
      { op: 'countByKey', partitions: 2 },
      { op: 'reduceByKeyAndWindow', fn: 'sum', invFn: 'subtract', windowMs: 3000, filter: 'positive' },
      // @ts-expect-error countByKey has no fn
      { op: 'countByKey', fn: 'sum' },
      // @ts-expect-error window needs windowMs
      { op: 'window', slideMs: 1000 },
    ];
    // when they are counted, then all four are there (the point is the type check)
    expect(ops).toHaveLength(4);
  });
});

describe('countByKey, added as one catalogue entry', () => {
  it('counts the records of every key per batch, an empty batch giving nothing', async () => {
    // given pairs in three batches, the second one empty
    const doc = minimalJob({
      sources: {
        pairs: {
          type: 'queue',
          batches: [
            [
              ['a', 1],
              ['b', 'x'],
              ['a', 3],
            ],
            [],
            [['c', null]],
          ],
        },
      },
      streams: { counts: { from: 'pairs', ops: [{ op: 'countByKey', partitions: 1 }] } },
      outputs: [{ stream: 'counts', type: 'collectBatches' }],
    });
    // when three batches run
    const result = await runBatches({ kind: 'document', document: doc, baseDir: fixturesDir }, 3);
    // then each batch holds [key, count] for its keys, whatever the values
    expect(result.error).toBeUndefined();
    expect(result.recordsOf('counts').map((batch) => [...batch].sort())).toEqual([
      [
        ['a', 2],
        ['b', 1],
      ],
      [],
      [['c', 1]],
    ]);
  });

  it('is refused with a field it does not take or partitions out of range, at the field', () => {
    // given countByKey with a reducer and with zero partitions
    const issues = issuesOf(
      jobWithOps([
        { op: 'map', expr: '[$, 1]' },
        { op: 'countByKey', fn: 'sum' },
        { op: 'countByKey', partitions: 0 },
      ]),
    );
    // when validated, then each problem is at its own path
    expect(issues).toEqual([
      expect.objectContaining({
        path: 'streams.x.ops[1].fn',
        message: 'is not a field of op "countByKey"; expected partitions',
      }),
      expect.objectContaining({ path: 'streams.x.ops[2].partitions' }),
    ]);
  });
});

describe('distinct, added as one catalogue entry', () => {
  it('keeps each record of a batch once, compared by value, an empty batch giving nothing', async () => {
    // given records with repeats in three batches, the second one empty
    const doc = minimalJob({
      sources: { events: { type: 'queue', batches: [['a', 'b', 'a', ['k', 1], ['k', 1]], [], ['a']] } },
      streams: { unique: { from: 'events', ops: [{ op: 'distinct', partitions: 2 }] } },
      outputs: [{ stream: 'unique', type: 'collectBatches' }],
    });
    // when three batches run
    const result = await runBatches({ kind: 'document', document: doc, baseDir: fixturesDir }, 3);
    // then each batch holds its distinct records, and 'a' of the third batch is not a repeat of the first's
    expect(result.error).toBeUndefined();
    expect(result.recordsOf('unique').map((batch) => batch.map((r) => JSON.stringify(r)).sort())).toEqual([
      ['"a"', '"b"', '["k",1]'],
      [],
      ['"a"'],
    ]);
  });

  it('is refused with a field it does not take or partitions out of range, at the field', () => {
    // given distinct with a function and with zero partitions
    const issues = issuesOf(
      jobWithOps([
        { op: 'distinct', expr: '$' },
        { op: 'distinct', partitions: 0 },
      ]),
    );
    // when validated, then each problem is at its own path
    expect(issues).toEqual([
      expect.objectContaining({
        path: 'streams.x.ops[0].expr',
        message: 'is not a field of op "distinct"; expected partitions',
      }),
      expect.objectContaining({ path: 'streams.x.ops[1].partitions' }),
    ]);
  });
});

describe('foldByKey and aggregateByKey, added as catalogue entries', () => {
  it('fold and aggregate the values of each key from the zero, a refused value being a dead letter', async () => {
    // given pairs in three batches, the second one empty, one value a string the sum refuses
    const doc = minimalJob({
      sources: {
        pairs: {
          type: 'queue',
          batches: [
            [
              ['a', 1],
              ['b', -2],
              ['a', 'x'],
              ['a', 3],
              ['b', -5],
            ],
            [],
            [['c', 4]],
          ],
        },
      },
      streams: {
        sums: { from: 'pairs', ops: [{ op: 'foldByKey', zero: 0, fn: 'sum', partitions: 1 }] },
        maxima: {
          from: 'pairs',
          ops: [
            { op: 'filter', expr: '$type($[1]) = "number"' },
            { op: 'aggregateByKey', zero: 0, seqOp: 'max', combOp: 'max', partitions: 2 },
          ],
        },
      },
      outputs: [
        { stream: 'sums', type: 'collectBatches' },
        { stream: 'maxima', type: 'collectBatches' },
      ],
    });
    // when three batches run
    const result = await runBatches({ kind: 'document', document: doc, baseDir: fixturesDir }, 3);
    // then each key folds from 0 (b's maximum is the zero, above its values), and 'x' is a dead letter
    expect(result.error).toBeUndefined();
    const sorted = (batches: readonly (readonly unknown[])[]) => batches.map((b) => [...b].sort());
    expect(sorted(result.recordsOf('sums'))).toEqual([
      [
        ['a', 4],
        ['b', -7],
      ],
      [],
      [['c', 4]],
    ]);
    expect(sorted(result.recordsOf('maxima'))).toEqual([
      [
        ['a', 3],
        ['b', 0],
      ],
      [],
      [['c', 4]],
    ]);
    expect(result.deadLetters.map((d) => d.record)).toEqual([['a', 'x']]);
  });

  it('are refused without their zero or with a function of another kind, at the field', () => {
    // given foldByKey without zero, and aggregateByKey whose combOp is a record function
    const issues = issuesOf(
      jobWithOps([
        { op: 'map', expr: '[$, 1]' },
        { op: 'foldByKey', fn: 'sum' },
        { op: 'aggregateByKey', zero: 0, seqOp: 'sum', combOp: 'splitWords' },
      ]),
    );
    // when validated, then each problem is at its own path
    expect(issues).toEqual([
      expect.objectContaining({ path: 'streams.x.ops[1].zero', message: 'is required by op "foldByKey"' }),
      expect.objectContaining({ path: 'streams.x.ops[2].combOp' }),
    ]);
  });
});

describe('the set ops of a JSON job, naming no partitions', () => {
  it("hash into the job's defaultPartitions, as its schema says, not the batch's partition count", async () => {
    // given sources of 3 partitions, defaultPartitions 2, and distinct, subtract and a static subtract naming none
    const doc = minimalJob({
      defaultPartitions: 2,
      sources: {
        mine: { type: 'queue', partitions: 3, batches: [['a', 'b', 'c', 'd', 'e', 'f']] },
        theirs: { type: 'queue', partitions: 3, batches: [['b']] },
      },
      datasets: { blocked: { type: 'parallelize', records: ['a'] } },
      streams: {
        unique: { from: 'mine', ops: [{ op: 'distinct' }, { op: 'glom' }] },
        left: { from: 'mine', ops: [{ op: 'subtract', with: 'theirs' }, { op: 'glom' }] },
        allowed: { from: 'mine', ops: [{ op: 'subtract', with: 'blocked' }, { op: 'glom' }] },
      },
      outputs: ['unique', 'left', 'allowed'].map((stream) => ({ stream, type: 'collectBatches' })),
    });
    // when the batch runs
    const result = await runBatches({ kind: 'document', document: doc, baseDir: fixturesDir }, 1);
    // then each result has 2 partitions (a Dataset op in a TypeScript body would keep the batch's 3)
    expect(result.error).toBeUndefined();
    for (const name of ['unique', 'left', 'allowed']) expect(result.recordsOf(name)[0], name).toHaveLength(2);
  });
});

describe('subtract and intersection, added as catalogue entries', () => {
  it('compare records by value with another stream batch by batch, and with a static dataset every batch', async () => {
    // given two queues and a static dataset, the second batch empty
    const doc = minimalJob({
      sources: {
        mine: { type: 'queue', batches: [['a', 'b', 'b', ['k', 1], 'c'], [], ['a', 'd']] },
        theirs: { type: 'queue', batches: [['b', ['k', 1], 'z'], ['a'], []] },
      },
      datasets: { blocked: { type: 'parallelize', records: ['a', 'c'] } },
      streams: {
        left: { from: 'mine', ops: [{ op: 'subtract', with: 'theirs', partitions: 2 }] },
        both: { from: 'mine', ops: [{ op: 'intersection', with: 'theirs' }] },
        allowed: { from: 'mine', ops: [{ op: 'subtract', with: 'blocked' }] },
        blockedSeen: { from: 'mine', ops: [{ op: 'intersection', with: 'blocked' }] },
      },
      outputs: ['left', 'both', 'allowed', 'blockedSeen'].map((stream) => ({
        stream,
        type: 'collectBatches',
      })),
    });
    // when three batches run
    const result = await runBatches({ kind: 'document', document: doc, baseDir: fixturesDir }, 3);
    // then subtract keeps every copy the other side lacks and intersection the distinct records on both sides
    expect(result.error).toBeUndefined();
    const texts = (name: string) =>
      result.recordsOf(name).map((batch) => batch.map((r) => JSON.stringify(r)).sort());
    expect(texts('left')).toEqual([['"a"', '"c"'], [], ['"a"', '"d"']]);
    expect(texts('both')).toEqual([['"b"', '["k",1]'], [], []]);
    expect(texts('allowed')).toEqual([['"b"', '"b"', '["k",1]'], [], ['"d"']]);
    expect(texts('blockedSeen')).toEqual([['"a"', '"c"'], [], ['"a"']]);
  });

  it('are refused without `with` or naming an input the job lacks, at the field', () => {
    // given subtract without `with`, and intersection with a name no input has
    const issues = issuesOf(jobWithOps([{ op: 'subtract' }, { op: 'intersection', with: 'nowhere' }]));
    // when validated, then each problem is at its own path
    expect(issues).toEqual([
      expect.objectContaining({ path: 'streams.x.ops[0].with', message: 'is required by op "subtract"' }),
      expect.objectContaining({ path: 'streams.x.ops[1].with' }),
    ]);
  });
});
