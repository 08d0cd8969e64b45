import { describe, expect, it } from 'vitest';
import { STORAGE_LEVELS } from '../../lib/dataset/StorageLevel';
import { JobValidationError } from '../../lib/errors';
import { FunctionRegistry } from '../../lib/job/FunctionRegistry';
import { DATASET_OP_NAMES, STREAM_OP_NAMES } from '../../lib/job/JobDocument';
import jobSchema from '../../lib/job/job.schema.json' with { type: 'json' };
import { STREAM_OPS } from '../../lib/job/ops/opCatalogue';
import { validateJob } from '../../lib/job/validateJob';
import { issueAt, issuesOf, jobWithOps, minimalJob, seedJob } from './fixtures/jobs';

/** One op of every kind with all its fields, each in a stream of its own. */
const everyOp: Record<string, unknown[]> = {
  map: [{ op: 'map', expr: '$ & "!"' }],
  flatMap: [{ op: 'flatMap', fn: 'splitWords' }],
  filter: [{ op: 'filter', fn: 'contains', args: { word: 'a' } }],
  mapPartitions: [{ op: 'mapPartitions', fn: 'identity' }],
  glom: [{ op: 'glom' }],
  keyBy: [{ op: 'keyBy', expr: '$length($)' }],
  mapValues: [
    { op: 'keyBy', fn: 'identity' },
    { op: 'mapValues', expr: '$uppercase($)' },
  ],
  flatMapValues: [
    { op: 'keyBy', fn: 'identity' },
    { op: 'flatMapValues', fn: 'splitWords' },
  ],
  sortBy: [{ op: 'sortBy', expr: '$', ascending: false }],
  union: [{ op: 'union', with: ['lines', 'words'] }],
  repartition: [{ op: 'repartition', partitions: 4 }],
  count: [{ op: 'count' }],
  reduce: [{ op: 'reduce', fn: 'concat' }],
  countByValue: [{ op: 'countByValue', partitions: 3 }],
  distinct: [{ op: 'distinct', partitions: 3 }],
  subtract: [{ op: 'subtract', with: 'lines', partitions: 2 }],
  intersection: [{ op: 'intersection', with: 'spam' }],
  transform: [{ op: 'transform', fn: 'identity' }],
  transformWith: [{ op: 'transformWith', with: 'words', fn: 'identity' }],
  groupByKey: [{ op: 'keyBy', fn: 'identity' }, { op: 'groupByKey' }],
  reduceByKey: [
    { op: 'map', expr: '[$, 1]' },
    { op: 'reduceByKey', fn: 'sum', partitions: 2 },
  ],
  foldByKey: [
    { op: 'map', expr: '[$, 1]' },
    { op: 'foldByKey', zero: 0, fn: 'sum', partitions: 2 },
  ],
  countByKey: [
    { op: 'map', expr: '[$, 1]' },
    { op: 'countByKey', partitions: 3 },
  ],
  aggregateByKey: [
    { op: 'map', expr: '[$, 1]' },
    { op: 'aggregateByKey', zero: 0, seqOp: 'sum', combOp: 'sum', partitions: 2 },
  ],
  combineByKey: [
    { op: 'map', expr: '[$, 1]' },
    {
      op: 'combineByKey',
      createCombiner: 'identity',
      mergeValue: 'sum',
      mergeCombiners: 'sum',
      partitions: 2,
      mapSideCombine: false,
    },
  ],
  join: [
    { op: 'keyBy', fn: 'identity' },
    { op: 'join', with: 'pairs' },
  ],
  leftOuterJoin: [
    { op: 'keyBy', fn: 'identity' },
    { op: 'leftOuterJoin', with: 'spam', partitions: 1 },
  ],
  rightOuterJoin: [
    { op: 'keyBy', fn: 'identity' },
    { op: 'rightOuterJoin', with: 'pairs' },
  ],
  fullOuterJoin: [
    { op: 'keyBy', fn: 'identity' },
    { op: 'fullOuterJoin', with: 'spam' },
  ],
  subtractByKey: [
    { op: 'keyBy', fn: 'identity' },
    { op: 'subtractByKey', with: 'spam', partitions: 2 },
    { op: 'map', fn: 'value' },
    { op: 'map', fn: 'key' },
  ],
  cogroup: [
    { op: 'keyBy', fn: 'identity' },
    { op: 'cogroup', with: 'pairs' },
  ],
  window: [{ op: 'window', windowMs: 3000, slideMs: 2000 }],
  countByWindow: [{ op: 'countByWindow', windowMs: 3000, slideMs: 1000 }],
  reduceByWindow: [
    { op: 'map', expr: '1' },
    { op: 'reduceByWindow', fn: 'sum', invFn: 'subtract', windowMs: 2000, slideMs: 1000 },
  ],
  reduceByKeyAndWindow: [
    { op: 'map', expr: '[$, 1]' },
    {
      op: 'reduceByKeyAndWindow',
      fn: 'sum',
      invFn: 'subtract',
      windowMs: 4000,
      slideMs: 2000,
      partitions: 2,
      filterExpr: '$[1] > 0',
    },
  ],
  countByValueAndWindow: [{ op: 'countByValueAndWindow', windowMs: 2000, slideMs: 1000, partitions: 2 }],
  groupByKeyAndWindow: [
    { op: 'keyBy', fn: 'identity' },
    { op: 'groupByKeyAndWindow', windowMs: 2000, slideMs: 2000, partitions: 1 },
  ],
  updateStateByKey: [
    { op: 'map', expr: '[$, 1]' },
    { op: 'updateStateByKey', fn: 'countState', partitions: 2, initialState: 'pairs', timeAware: true },
  ],
  mapWithState: [
    { op: 'map', expr: '[$, 1]' },
    { op: 'mapWithState', fn: 'sessionCount', partitions: 2, initialState: 'pairs', timeoutMs: 5000 },
  ],
  stateSnapshots: [
    { op: 'map', expr: '[$, 1]' },
    { op: 'mapWithState', fn: 'runningCount' },
    { op: 'stateSnapshots' },
  ],
};

describe('validateJob accepts', () => {
  it('the example job of the brief and returns it unchanged', () => {
    // given the example document
    const doc = seedJob();
    // when it is validated
    const job = validateJob(doc);
    // then it is the same document, typed
    expect(job).toBe(doc);
    expect(job.streams?.clean?.ops).toHaveLength(3);
  });

  it('every op with all of its fields, every source, dataset and output type', () => {
    // given a stream per op, and every kind of source, dataset and output
    const doc = minimalJob({
      checkpointIntervalMs: 5000,
      sources: {
        lines: { type: 'queue', batches: [['a b']], oneAtATime: false, partitions: 1 },
        gen: {
          type: 'generator',
          kind: 'kv',
          ratePerSec: 2.5,
          seed: 7,
          users: 3,
          hashtags: 4,
          keys: 5,
          lineBytes: 6,
          partitions: 2,
        },
        folder: { type: 'textFileStream', directory: 'in', partitions: 1, maxPartBytes: 1_048_576 },
        sock: { type: 'socket', host: 'localhost', port: 9999, partitions: 1 },
      },
      datasets: {
        spam: { type: 'textFile', path: 'spam.txt', partitions: 2, ops: [{ op: 'map', expr: '[$, true]' }] },
        pairs: {
          type: 'parallelize',
          records: [['a', 1]],
          ops: [{ op: 'glom' }, { op: 'flatMap', fn: 'identity' }],
        },
      },
      streams: {
        words: {
          from: 'lines',
          ops: [{ op: 'flatMap', fn: 'splitWords' }],
          persist: 'memorySer',
          checkpointIntervalMs: 3000,
        },
        ...Object.fromEntries(
          Object.entries(everyOp).map(([op, ops]) => [`s_${op}`, { from: 'words', ops }]),
        ),
      },
      outputs: [
        { stream: 'words', type: 'print', num: 3, name: 'p' },
        { stream: 'words', type: 'jsonl', path: 'out/w.jsonl' },
        { stream: 'words', type: 'jsonl' },
        { stream: 'lines', type: 'saveAsTextFiles', prefix: 'out/w', suffix: 'txt' },
        { stream: 'words', type: 'foreachRDD', fn: 'identity' },
        { stream: 'words', type: 'collectBatches', name: 'c' },
        { stream: 'gen', type: 'print' },
        { stream: 'folder', type: 'print' },
        { stream: 'sock', type: 'print' },
      ],
    });
    // when it is validated, then nothing is reported
    expect(() => validateJob(doc)).not.toThrow();
    expect(Object.keys(everyOp)).toEqual([...STREAM_OP_NAMES]);
  });
});

describe('the schema', () => {
  it('lists exactly the ops the builder knows, for streams and for datasets', () => {
    // given the schema's op enums
    const defs = jobSchema.definitions;
    // when they are compared with the op catalogue, then they are the same lists in the same order
    expect(defs.streamOp.properties.op.enum).toEqual([...STREAM_OP_NAMES]);
    expect(defs.datasetOp.properties.op.enum).toEqual([...DATASET_OP_NAMES]);
  });

  it('lists exactly the storage levels persist accepts, and describes every op and level', () => {
    // given the schema's storage levels and op descriptions
    const defs = jobSchema.definitions;
    // when they are compared with the engine's, then they match one for one
    expect(defs.storageLevel.enum).toEqual([...STORAGE_LEVELS]);
    expect(defs.storageLevel.enumDescriptions).toHaveLength(STORAGE_LEVELS.length);
    expect(defs.streamOp.properties.op.enumDescriptions).toHaveLength(STREAM_OP_NAMES.length);
  });
});

describe('validateJob reports, at the path of the field and with the value found there', () => {
  it('an unknown op, listing the valid ones and the closest', () => {
    // given an op name with the wrong case
    const doc = jobWithOps([{ op: 'flatmap', fn: 'splitWords' }]);
    // when it is validated
    const issue = issueAt(issuesOf(doc), 'streams.x.ops[0].op');
    // then the issue names the value, suggests flatMap and lists every op
    expect(issue.value).toBe('flatmap');
    expect(issue.message).toContain('did you mean "flatMap"');
    for (const op of STREAM_OP_NAMES) expect(issue.message).toContain(op);
  });

  it('a missing from', () => {
    // given a stream without its input
    const doc = minimalJob({ streams: { words: { ops: [{ op: 'count' }] } } });
    // when it is validated, then the missing field's path is reported
    expect(issueAt(issuesOf(doc), 'streams.words.from').message).toBe('is required');
  });

  it.each([
    ['a string', '1000', 'must be a whole number'],
    ['a fraction', 2.5, 'must be a whole number'],
    ['zero', 0, 'must be at least 1'],
    ['negative', -1000, 'must be at least 1'],
  ])('batchIntervalMs given as %s', (_, value, message) => {
    // given a batch interval that is not a positive whole number
    const doc = minimalJob({ batchIntervalMs: value });
    // when it is validated
    const issue = issueAt(issuesOf(doc), 'batchIntervalMs');
    // then the issue says so and carries the value
    expect(issue).toEqual({ path: 'batchIntervalMs', message, value });
  });

  it('a print num of 0, as Spark allows, but not below', () => {
    // given print outputs showing 0 and -1 records
    const printing = (num: number) => minimalJob({ outputs: [{ stream: 'words', type: 'print', num }] });
    // when they are validated, then 0 passes and -1 is refused at its path
    expect(() => validateJob(printing(0))).not.toThrow();
    expect(issueAt(issuesOf(printing(-1)), 'outputs[0].num').message).toBe('must be at least 0');
  });

  it("a stream with no ops, in words rather than the schema library's", () => {
    // given a stream whose ops list is empty
    const doc = minimalJob({ streams: { words: { from: 'lines', ops: [] } } });
    // when it is validated, then the issue says how many it needs
    expect(issueAt(issuesOf(doc), 'streams.words.ops').message).toBe('must list at least 1 item');
  });

  it("a job with no source, in words rather than the schema library's", () => {
    // given a job whose sources object is empty
    const doc = minimalJob({ sources: {} });
    // when it is validated, then the issue says how many it needs, not "must NOT have fewer than 1 properties"
    expect(issueAt(issuesOf(doc), 'sources').message).toBe('must name at least 1 entry');
  });

  it('a with naming an unknown stream, listing the names that exist', () => {
    // given a join with a stream that does not exist
    const doc = jobWithOps([
      { op: 'keyBy', fn: 'identity' },
      { op: 'join', with: 'word' },
    ]);
    // when it is validated
    const issue = issueAt(issuesOf(doc), 'streams.x.ops[1].with');
    // then the known names are listed
    expect(issue.value).toBe('word');
    // (x, the stream itself, is left out: a stream cannot read itself)
    expect(issue.message).toBe('unknown source, stream or dataset "word". Known: lines.');
  });

  it('an unknown name inside union’s list of with', () => {
    // given a union with one good and one unknown name
    const doc = jobWithOps([{ op: 'union', with: ['words', 'nope'] }]);
    // when it is validated, then the second element is reported
    expect(issueAt(issuesOf(doc), 'streams.x.ops[0].with[1]').value).toBe('nope');
  });

  it('a JSONata syntax error at its expr path', () => {
    // given an expression with an unclosed bracket
    const doc = jobWithOps([{ op: 'map', expr: '$[1' }]);
    // when it is validated
    const issue = issueAt(issuesOf(doc), 'streams.x.ops[0].expr');
    // then the message says it is a JSONata syntax error and the value is the expression
    expect(issue.message).toMatch(/^JSONata syntax error at character 3: Expected "\]"/);
    expect(issue.value).toBe('$[1');
  });

  it('an unknown function name, suggesting a close one', () => {
    // given a typo in a built-in's name
    const doc = jobWithOps([{ op: 'flatMap', fn: 'splitword' }]);
    // when it is validated
    const issue = issueAt(issuesOf(doc), 'streams.x.ops[0].fn');
    // then the close name and the available ones are listed
    expect(issue.value).toBe('splitword');
    expect(issue.message).toContain('did you mean "splitWords"');
    expect(issue.message).toContain('Known: concat, contains, count');
  });

  it('a built-in of the kind a field does not take, as the tester met them', () => {
    // given a reduce of hashtags, reduceByKey of a record and an update function, mapPartitions of splitWords
    // (in a stream and in a static dataset), and a foreachRDD of a record function
    const doc = minimalJob({
      datasets: { d: { type: 'parallelize', records: [], ops: [{ op: 'mapPartitions', fn: 'splitWords' }] } },
      streams: {
        words: {
          from: 'lines',
          ops: [
            { op: 'flatMap', fn: 'splitWords' },
            { op: 'reduce', fn: 'hashtags' },
            { op: 'map', expr: '[$, 1]' },
            { op: 'reduceByKey', fn: 'splitWords' },
            { op: 'reduceByKey', fn: 'countState' },
            { op: 'mapPartitions', fn: 'splitWords' },
          ],
        },
      },
      outputs: [{ stream: 'words', type: 'foreachRDD', fn: 'hashtags' }],
    });
    // when it is validated
    const issues = issuesOf(doc);
    // then each is reported at its field, saying what the name is and what the field needs
    const reducers = 'a reducer (a, b) => value, such as concat, count, max, min, subtract, sum';
    expect(issueAt(issues, 'streams.words.ops[1].fn')).toEqual({
      path: 'streams.words.ops[1].fn',
      message: `"hashtags" is a record function, but this field needs ${reducers}`,
      value: 'hashtags',
    });
    expect(issueAt(issues, 'streams.words.ops[3].fn').message).toBe(
      `"splitWords" is a record function, but this field needs ${reducers}`,
    );
    expect(issueAt(issues, 'streams.words.ops[4].fn').message).toBe(
      `"countState" is an updateStateByKey function (values, state) => state, but this field needs ${reducers}`,
    );
    const partitionFn =
      '"splitWords" is a record function, but this field needs a mapPartitions function (records, partition, fail) => records; export one from the job\'s "functions" module';
    expect(issueAt(issues, 'streams.words.ops[5].fn').message).toBe(partitionFn);
    expect(issueAt(issues, 'datasets.d.ops[0].fn').message).toBe(partitionFn);
    expect(issueAt(issues, 'outputs[0].fn').message).toMatch(
      /^"hashtags" is a record function, but this field needs a foreachRDD function \(dataset, batchTime\)/,
    );
  });

  it('a built-in of another kind in any field of any op that names a function', () => {
    // given every op that names functions, each such field in a stream of its own, set to a built-in of another kind
    const streams: Record<string, unknown> = {};
    const expected: string[] = [];
    for (const entry of STREAM_OPS) {
      const kinds = { ...entry.functionFields, ...(entry.expression === true ? { fn: 'record' } : {}) };
      for (const [field, kind] of Object.entries(kinds)) {
        const ops = structuredClone(everyOp[entry.name]) as Record<string, unknown>[];
        const index = ops.findLastIndex((op) => op.op === entry.name);
        const op = ops[index]!; // everyOp has every op
        delete op.expr;
        delete op.args;
        if (field === 'filter') delete op.filterExpr;
        op[field] = kind === 'record' ? 'sum' : 'splitWords';
        const name = `s_${entry.name}_${field}`;
        streams[name] = { from: 'words', ops };
        expected.push(`streams.${name}.ops[${index}].${field}`);
      }
    }
    const doc = minimalJob({
      datasets: {
        pairs: { type: 'parallelize', records: [['a', 1]] },
        spam: { type: 'parallelize', records: [] },
      },
      streams: { words: { from: 'lines', ops: [{ op: 'flatMap', fn: 'splitWords' }] }, ...streams },
    });
    // when it is validated
    const issues = issuesOf(doc);
    // then every one of those fields, and nothing else, is reported as naming a function of the wrong kind
    expect(issues.map((issue) => issue.path)).toEqual(expected);
    for (const issue of issues)
      expect(issue.message).toMatch(/^"(sum|splitWords)" is .*, but this field needs /);
    expect(expected).toHaveLength(25);
  });

  it('args a built-in factory rejects', () => {
    // given pick without its fields
    const doc = jobWithOps([{ op: 'map', fn: 'pick', args: { field: 'user' } }]);
    // when it is validated, then the fn is reported with the args as its value
    const issue = issueAt(issuesOf(doc), 'streams.x.ops[0].fn');
    expect(issue.message).toContain('pick takes args "fields", not "field"');
    expect(issue.value).toEqual({ field: 'user' });
  });

  it('a field the op does not take, listing the ones it does', () => {
    // given a window length on a reduceByKey
    const doc = jobWithOps([
      { op: 'map', expr: '[$, 1]' },
      { op: 'reduceByKey', fn: 'sum', windowMs: 3000 },
    ]);
    // when it is validated
    const issue = issueAt(issuesOf(doc), 'streams.x.ops[1].windowMs');
    // then the issue names the op's fields and the stray value
    expect(issue.message).toBe('is not a field of op "reduceByKey"; expected fn, args, partitions');
    expect(issue.value).toBe(3000);
  });

  it('a misspelt field, with the field it is close to first', () => {
    // given a document whose interval and window length are misspelt, and a field nothing is close to
    const doc = jobWithOps([{ op: 'window', windowMS: 2000, slideMs: 1000 }], {
      batchInterval: 1000,
      colour: 'red',
    });
    delete doc.batchIntervalMs;
    // when it is validated
    const issues = issuesOf(doc);
    // then each misspelt field is answered with the one meant, before the list; the other gets the list alone
    expect(issueAt(issues, 'batchInterval').message).toMatch(
      /^is not a field; did you mean "batchIntervalMs"\? \(expected \$schema, name, /,
    );
    expect(issueAt(issues, 'streams.x.ops[0].windowMS').message).toBe(
      'is not a field of op "window"; did you mean "windowMs"? (expected windowMs, slideMs)',
    );
    expect(issueAt(issues, 'colour').message).toMatch(/^is not a field; expected \$schema, name, /);
  });

  it('a required field of an op', () => {
    // given a reduceByKey without a reducer and a repartition without partitions
    const doc = jobWithOps([{ op: 'reduceByKey' }, { op: 'repartition' }]);
    // when it is validated
    const issues = issuesOf(doc);
    // then both missing fields are reported by path
    expect(issueAt(issues, 'streams.x.ops[0].fn').message).toBe('is required by op "reduceByKey"');
    expect(issueAt(issues, 'streams.x.ops[1].partitions').message).toBe('is required by op "repartition"');
  });

  it('a record op with both fn and expr, with neither, and args beside an expr', () => {
    // given three malformed record ops
    const doc = jobWithOps([
      { op: 'map', fn: 'identity', expr: '$' },
      { op: 'filter' },
      { op: 'keyBy', expr: 'user', args: { field: 'user' } },
    ]);
    // when it is validated
    const issues = issuesOf(doc);
    // then each is reported
    expect(issueAt(issues, 'streams.x.ops[0]').message).toBe('op "map" takes either fn or expr, not both');
    expect(issueAt(issues, 'streams.x.ops[1]').message).toMatch(/needs fn .* or expr/);
    expect(issueAt(issues, 'streams.x.ops[2].args').value).toEqual({ field: 'user' });
  });

  it('a source of the wrong kind and a socket without a port', () => {
    // given a generator of an unknown kind and an incomplete socket
    const doc = minimalJob({
      sources: {
        lines: { type: 'generator', kind: 'tweet', ratePerSec: 10 },
        sock: { type: 'socket', host: 'localhost' },
      },
    });
    // when it is validated
    const issues = issuesOf(doc);
    // then both are located
    expect(issueAt(issues, 'sources.lines.kind').message).toContain('did you mean "tweets"');
    expect(issueAt(issues, 'sources.sock.port').message).toBe('is required for type "socket"');
  });

  it('a string shorter than its field allows, with the real rule', () => {
    // given a bucket name of one character (S3's are at least 3) and an empty function name
    const doc = minimalJob({
      sources: { lines: { type: 's3Prefix', bucket: 'b', prefix: 'in/' } },
      streams: { words: { from: 'lines', ops: [{ op: 'flatMap', fn: '' }] } },
    });
    // when it is validated
    const issues = issuesOf(doc);
    // then each says the rule of its field
    expect(issueAt(issues, 'sources.lines.bucket')).toEqual({
      path: 'sources.lines.bucket',
      message: 'must be at least 3 characters long',
      value: 'b',
    });
    expect(issueAt(issues, 'streams.words.ops[0].fn').message).toBe('must not be empty');
  });

  it('a task part too small to be worth a task', () => {
    // given a folder whose tasks would read 100 bytes each
    const doc = minimalJob({
      sources: { folder: { type: 'textFileStream', directory: 'in', maxPartBytes: 100 } },
    });
    // when it is validated, then the field is named with its bound
    expect(issueAt(issuesOf(doc), 'sources.folder.maxPartBytes').message).toContain('65536');
  });

  it('streams that depend on each other in a cycle', () => {
    // given a and b each reading the other
    const doc = minimalJob({
      streams: {
        a: { from: 'b', ops: [{ op: 'count' }] },
        b: { from: 'lines', ops: [{ op: 'union', with: 'a' }] },
      },
      outputs: [{ stream: 'a', type: 'print' }],
    });
    // when it is validated
    const issues = issuesOf(doc);
    // then the cycle is reported once, naming the streams in order
    const cycles = issues.filter((i) => i.message.includes('cycle'));
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toEqual({
      path: 'streams.b.ops[0].with',
      message: 'streams depend on each other in a cycle: a → b → a',
      value: 'a',
    });
  });

  it('a stream reading itself', () => {
    // given a stream whose from is its own name
    const doc = minimalJob({ streams: { words: { from: 'words', ops: [{ op: 'count' }] } } });
    // when it is validated, then it is a cycle of one
    expect(issueAt(issuesOf(doc), 'streams.words.from').message).toContain('words → words');
  });

  it('a name used twice, a stream from a dataset, and an output of an unknown stream', () => {
    // given three reference mistakes
    const doc = minimalJob({
      datasets: { lines: { type: 'parallelize', records: [] }, spam: { type: 'parallelize', records: [] } },
      streams: { words: { from: 'spam', ops: [{ op: 'count' }] } },
      outputs: [{ stream: 'wrods', type: 'print' }],
    });
    // when it is validated
    const issues = issuesOf(doc);
    // then each is at its own path
    expect(issueAt(issues, 'datasets.lines').message).toContain('already the name of a source');
    expect(issueAt(issues, 'streams.words.from').message).toContain('"spam" is a static dataset');
    expect(issueAt(issues, 'outputs[0].stream').message).toContain('did you mean "words"');
  });

  it('an output of the wrong shape', () => {
    // given saveAsTextFiles without a prefix and print with a path
    const doc = minimalJob({
      outputs: [
        { stream: 'words', type: 'saveAsTextFiles' },
        { stream: 'words', type: 'print', path: 'x' },
      ],
    });
    // when it is validated
    const issues = issuesOf(doc);
    // then both fields are located
    expect(issueAt(issues, 'outputs[0].prefix').message).toBe('is required for type "saveAsTextFiles"');
    expect(issueAt(issues, 'outputs[1].path').message).toContain('expected stream, name, num');
  });

  it('names that would make paths ambiguous, quoting them in the path', () => {
    // given a stream name with a dot
    const doc = minimalJob({ streams: { 'a.b': { from: 'lines', ops: [{ op: 'count' }] } } });
    // when it is validated, then the name is reported, quoted
    expect(issueAt(issuesOf(doc), 'streams["a.b"]').value).toBe('a.b');
  });

  it('something that is not a job at all', () => {
    // given an array
    // when it is validated, then the root is reported
    expect(issuesOf([1, 2])).toEqual([{ path: '', message: 'must be an object', value: [1, 2] }]);
  });

  it('every problem at once, in a message that names paths and values', () => {
    // given two independent mistakes
    const doc = minimalJob({ batchIntervalMs: 'soon', outputs: [{ stream: 'nope', type: 'print' }] });
    // when it is validated
    let error: unknown;
    try {
      validateJob(doc);
    } catch (e) {
      error = e;
    }
    // then one error lists both, each with its value
    expect(error).toBeInstanceOf(JobValidationError);
    const message = (error as Error).message;
    expect(message).toContain('batchIntervalMs: must be a whole number (got "soon")');
    expect(message).toContain(
      'outputs[0].stream: unknown source or stream "nope". Known: lines, words. (got "nope")',
    );
  });
});

describe('validateJob with a functions module', () => {
  it('leaves function names unchecked until the module is loaded', () => {
    // given a job naming a function its module provides
    const doc = jobWithOps([{ op: 'map', fn: 'shout' }], { functions: './userFunctions.ts' });
    // when it is validated without a registry, then the name is not reported
    expect(() => validateJob(doc)).not.toThrow();
    // and when a registry without that name is given, then it is
    const issue = issueAt(issuesOf(doc, { functions: new FunctionRegistry() }), 'streams.x.ops[0].fn');
    expect(issue.value).toBe('shout');
  });

  it('accepts names the given registry knows', () => {
    // given a registry holding the function
    const functions = new FunctionRegistry().register('shout', (s: string) => s.toUpperCase());
    const doc = jobWithOps([{ op: 'map', fn: 'shout' }], { functions: './userFunctions.ts' });
    // when it is validated with it, then nothing is reported
    expect(() => validateJob(doc, { functions })).not.toThrow();
  });
});
