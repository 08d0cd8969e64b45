import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobValidationError } from '../../lib/errors';
import { buildJob, datasetPath } from '../../lib/job/buildJob';
import type { StreamingContext } from '../../lib/StreamingContext';
import { TextFileSource } from '../../lib/source/TextFileSource';
import { fixturesDir, jobWithOps, minimalJob, seedJob } from './fixtures/jobs';

/** Every node of the graph as `id name (class)`, in id order. */
function nodesOf(ssc: StreamingContext): string[] {
  const nodes: string[] = [];
  for (let i = 1; ; i++) {
    const node = ssc.graph.node(`n${i}`);
    if (node === undefined) return nodes;
    nodes.push(`${node.id} ${node.name} (${node.constructor.name})`);
  }
}

/** The graph scope's functions as `id: source text`, in id order. */
function graphFunctionsOf(ssc: StreamingContext): string[] {
  const functions: string[] = [];
  for (let i = 0; ; i++) {
    let fn: (...args: any[]) => unknown;
    try {
      fn = ssc.functions.get(`g/${i}`);
    } catch {
      return functions;
    }
    functions.push(`g/${i}: ${fn.toString()}`);
  }
}

describe('buildJob', () => {
  it('builds the example job: one input per source, named streams, four outputs', async () => {
    // given the example document
    const doc = seedJob();
    // when it is built
    const ssc = await buildJob(doc, { baseDir: fixturesDir });
    // then the graph holds the sources, the streams under their JSON names, and the outputs
    expect(ssc.batchIntervalMs).toBe(1000);
    expect(ssc.graph.inputs.map((input) => input.name)).toEqual(['tweets', 'q', 'files', 'sock']);
    expect(ssc.graph.outputs).toHaveLength(4);
    expect(ssc.graph.outputs.map((output) => output.name)).toEqual(['counts', 'counts', 'counts', 'others']);
    expect(nodesOf(ssc)).toEqual([
      'n1 tweets (InputDStream)',
      'n2 q (InputDStream)',
      'n3 files (InputDStream)',
      'n4 sock (InputDStream)',
      'n5 tags (MappedDStream)',
      'n6 map (MappedDStream)', // countByValue's own map to [value, 1]
      'n7 counts (ShuffledDStream)',
      'n8 clean.ops[0]:keyBy (MappedDStream)',
      'n9 clean.ops[1]:leftOuterJoin (TransformedDStream)',
      'n10 clean (MappedDStream)',
      'n11 others (UnionDStream)',
      'n12 counts (ForEachDStream)',
      'n13 counts (ForEachDStream)',
      'n14 counts (ForEachDStream)',
      'n15 others (ForEachDStream)',
    ]);
  });

  it('builds the same document twice into the same nodes, names and function ids', async () => {
    // given a document using built-ins, factories, expressions, a static dataset and a user module
    const doc = {
      ...seedJob(),
      functions: './userFunctions.ts',
      datasets: {
        spam: { type: 'textFile', path: './spam.txt', ops: [{ op: 'map', expr: '[$, true]' }] },
      },
      outputs: [
        { stream: 'counts', type: 'print' },
        { stream: 'clean', type: 'collectBatches', name: 'clean' },
        { stream: 'others', type: 'jsonl' },
      ],
    };
    // when it is built twice
    const first = await buildJob(doc, { baseDir: fixturesDir });
    const second = await buildJob(doc, { baseDir: fixturesDir });
    // then both graphs have the same nodes in the same order, and the same functions under the same ids
    expect(nodesOf(second)).toEqual(nodesOf(first));
    expect(second.graph.node('n1')?.name).toBe('tweets');
    expect(second.graph.node('n5')?.name).toBe(first.graph.node('n5')?.name);
    expect(graphFunctionsOf(first).length).toBeGreaterThan(5);
    expect(graphFunctionsOf(second)).toEqual(graphFunctionsOf(first));
    expect(second.functions.size).toBe(first.functions.size);
  });

  it('builds streams in dependency order, whatever their order in the document', async () => {
    // given a stream listed before the stream it reads
    const doc = minimalJob({
      streams: {
        counts: { from: 'words', ops: [{ op: 'countByValue' }] },
        words: { from: 'lines', ops: [{ op: 'flatMap', fn: 'splitWords' }] },
      },
      outputs: [{ stream: 'counts', type: 'print' }],
    });
    // when it is built
    const ssc = await buildJob(doc, { baseDir: fixturesDir });
    // then words exists once, before counts
    expect(nodesOf(ssc).filter((n) => / (words|counts) /.test(n))).toEqual([
      'n2 words (MappedDStream)',
      'n4 counts (ShuffledDStream)',
      'n5 counts (ForEachDStream)',
    ]);
  });

  it('names outputs after their stream unless they have a name', async () => {
    // given two outputs of one stream, one named
    const doc = minimalJob({
      outputs: [
        { stream: 'words', type: 'jsonl' },
        { stream: 'words', type: 'collectBatches', name: 'collected' },
      ],
    });
    // when it is built, then the outputs carry those names
    const ssc = await buildJob(doc, { baseDir: fixturesDir });
    expect(ssc.graph.outputs.map((o) => o.name)).toEqual(['words', 'collected']);
  });

  it('resolves directory paths against baseDir', async () => {
    // given a folder source with a relative directory
    const doc = minimalJob({ sources: { lines: { type: 'textFileStream', directory: 'in' } } });
    // when it is built
    const ssc = await buildJob(doc, { baseDir: '/jobs/here' });
    // then the source watches the folder beside the job file
    const source = ssc.graph.inputs[0]?.source;
    expect(source).toBeInstanceOf(TextFileSource);
    expect((source as TextFileSource).directory).toBe(join('/jobs/here', 'in'));
  });

  it('builds every op of the catalogue, joins with streams and with static datasets', async () => {
    // given a stream using every op, some against a stream and some against a dataset
    const doc = jobWithOps(
      [
        { op: 'map', expr: '$' },
        { op: 'filter', fn: 'contains', args: { word: 'a' } },
        { op: 'flatMap', fn: 'splitWords' },
        { op: 'mapPartitions', fn: 'identity' },
        { op: 'union', with: ['lines', 'static'] },
        { op: 'repartition', partitions: 3 },
        { op: 'transform', fn: 'onlyStrings' },
        { op: 'keyBy', expr: '$length($)' },
        { op: 'mapValues', fn: 'shout' },
        { op: 'flatMapValues', expr: '[$, $]' },
        { op: 'join', with: 'lines' },
        { op: 'leftOuterJoin', with: 'pairs' },
        { op: 'rightOuterJoin', with: 'pairs' },
        { op: 'fullOuterJoin', with: 'pairs', partitions: 2 },
        { op: 'cogroup', with: 'pairs' },
        { op: 'transformWith', with: 'pairs', fn: 'identity' },
        { op: 'groupByKey' },
        { op: 'combineByKey', createCombiner: 'identity', mergeValue: 'concat', mergeCombiners: 'concat' },
        { op: 'glom' },
        { op: 'countByValue' },
        { op: 'map', expr: '$[1]' },
        { op: 'reduce', fn: 'sum' },
        { op: 'count' },
        { op: 'map', expr: '[$, 1]' },
        { op: 'reduceByKey', fn: 'sum' },
      ],
      {
        functions: './userFunctions.ts',
        datasets: {
          static: { type: 'parallelize', records: ['s'] },
          pairs: { type: 'parallelize', records: [[1, 'one']], ops: [{ op: 'keyBy', expr: '$[0]' }] },
        },
      },
    );
    // when it is built
    const ssc = await buildJob(doc, { baseDir: fixturesDir });
    // then the last op's node carries the stream's name and the output reads it
    const names = nodesOf(ssc);
    expect(names.some((n) => n.endsWith(' x.ops[4]:union (TransformedDStream)'))).toBe(true);
    expect(names.some((n) => n.endsWith(' x.ops[10]:join (TransformedDStream)'))).toBe(true);
    expect(names.some((n) => n.endsWith(' x (ShuffledDStream)'))).toBe(true);
    expect(ssc.graph.outputs).toHaveLength(1);
  });

  it('rejects an invalid document with every issue', async () => {
    // given a document with a bad interval and an unknown op
    const doc = jobWithOps([{ op: 'slidingWindow', windowMs: 3000 }], { batchIntervalMs: 0 });
    // when it is built
    const error = await buildJob(doc, { baseDir: fixturesDir }).catch((e: unknown) => e);
    // then both issues are reported
    expect(error).toBeInstanceOf(JobValidationError);
    expect((error as JobValidationError).issues.map((i) => i.path)).toEqual([
      'batchIntervalMs',
      'streams.x.ops[0].op',
    ]);
  });

  it('checks function names against the loaded module', async () => {
    // given a job with a module and a name neither it nor the built-ins have
    const doc = jobWithOps([{ op: 'map', fn: 'shuot' }], { functions: './userFunctions.ts' });
    // when it is built
    const error = await buildJob(doc, { baseDir: fixturesDir }).catch((e: unknown) => e);
    // then the issue suggests the module's function
    expect(error).toBeInstanceOf(JobValidationError);
    const issue = (error as JobValidationError).issues[0];
    expect(issue?.path).toBe('streams.x.ops[0].fn');
    expect(issue?.message).toContain('did you mean "shout"');
  });

  it('reports a functions module that does not exist, relative to baseDir', async () => {
    // given a job naming a missing module
    const doc = minimalJob({ functions: './nope.ts' });
    // when it is built
    const error = await buildJob(doc, { baseDir: fixturesDir }).catch((e: unknown) => e);
    // then the functions field is at fault, with the resolved file in the message
    expect(error).toBeInstanceOf(JobValidationError);
    expect((error as JobValidationError).issues[0]?.path).toBe('functions');
    expect((error as JobValidationError).issues[0]?.message).toContain(join(fixturesDir, 'nope.ts'));
  });
});

describe('static dataset paths', () => {
  it('keep s3:// URLs, resolve against the job folder locally, and against static/ on the serverless runtime', () => {
    const local = { baseDir: '/jobs/spam' };
    const serverless = { baseDir: '/', staticBase: 's3://bucket/static/' };
    expect(datasetPath('s3://other/list.txt', serverless, 'spam')).toBe('s3://other/list.txt');
    expect(datasetPath('spam.txt', local, 'spam')).toBe('/jobs/spam/spam.txt');
    expect(datasetPath('spam.txt', serverless, 'spam')).toBe('s3://bucket/static/spam.txt');
    expect(datasetPath('lists/./spam.txt', serverless, 'spam')).toBe('s3://bucket/static/lists/spam.txt');
  });

  it('may not climb out of static/ on the serverless runtime, and the error names the field', () => {
    const serverless = { baseDir: '/', staticBase: 's3://bucket/static/' };
    for (const path of ['../jobs/x/job.json', 'a/../../b', '/etc/passwd']) {
      try {
        datasetPath(path, serverless, 'spam');
        expect.unreachable(path);
      } catch (error) {
        expect(error).toBeInstanceOf(JobValidationError);
        expect((error as JobValidationError).issues[0]!.path).toBe('datasets.spam.path');
      }
    }
  });
});
