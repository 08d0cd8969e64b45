import { describe, expect, it } from 'vitest';
import type { StreamOp } from '../../lib/job/JobDocument';
import jobSchema from '../../lib/job/job.schema.json' with { type: 'json' };
import { DATASET_OPS, STREAM_OPS } from '../../lib/job/ops/opCatalogue';
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
        message: 'is not a field by op "countByKey"; expected partitions',
      }),
      expect.objectContaining({ path: 'streams.x.ops[2].partitions' }),
    ]);
  });
});
