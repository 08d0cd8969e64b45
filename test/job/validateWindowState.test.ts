import { describe, expect, it } from 'vitest';
import { MapWithStateDStream } from '../../lib/dstream/MapWithStateDStream';
import { ReducedWindowedDStream } from '../../lib/dstream/ReducedWindowedDStream';
import { StateDStream } from '../../lib/dstream/StateDStream';
import { buildJob } from '../../lib/job/buildJob';
import { FunctionRegistry } from '../../lib/job/FunctionRegistry';
import { validateJob } from '../../lib/job/validateJob';
import { fixturesDir, issueAt, issuesOf, jobWithOps, minimalJob } from './fixtures/jobs';

/** A minimal job whose lines become `[word, 1]` pairs, then go through `ops`, in the stream `x`. */
function pairsWith(ops: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return jobWithOps([{ op: 'flatMap', fn: 'splitWords' }, { op: 'map', expr: '[$, 1]' }, ...ops], extra);
}

describe('validateJob checks windows against the slide of their input', () => {
  it('a window or slide that is not a multiple of the batch interval, with both numbers', () => {
    // given a 2.5 s window and a 1.5 s slide on 1 s batches
    const doc = minimalJob({
      streams: {
        counts: {
          from: 'lines',
          ops: [
            { op: 'flatMap', fn: 'splitWords' },
            { op: 'countByValueAndWindow', windowMs: 2500, slideMs: 1500 },
          ],
        },
      },
      outputs: [{ stream: 'counts', type: 'print' }],
    });
    // when it is validated
    const issues = issuesOf(doc);
    // then each field is reported at its path, with its value
    expect(issueAt(issues, 'streams.counts.ops[1].windowMs')).toEqual({
      path: 'streams.counts.ops[1].windowMs',
      message: 'window of 2500 ms must be a positive multiple of the batch interval of 1000 ms',
      value: 2500,
    });
    expect(issueAt(issues, 'streams.counts.ops[1].slideMs').message).toBe(
      'slide of 1500 ms must be a positive multiple of the batch interval of 1000 ms',
    );
    expect(issues).toHaveLength(2);
  });

  it.each([
    ['window', { op: 'window', windowMs: 1500 }],
    ['countByWindow', { op: 'countByWindow', windowMs: 1500, slideMs: 1000 }],
    ['reduceByWindow', { op: 'reduceByWindow', fn: 'concat', windowMs: 1500, slideMs: 1000 }],
    ['reduceByKeyAndWindow', { op: 'reduceByKeyAndWindow', fn: 'sum', invFn: 'subtract', windowMs: 1500 }],
    ['countByValueAndWindow', { op: 'countByValueAndWindow', windowMs: 1500 }],
    ['groupByKeyAndWindow', { op: 'groupByKeyAndWindow', windowMs: 1500 }],
  ])('the window of %s', (_, op) => {
    // given the op with a 1.5 s window on 1 s batches
    const doc = jobWithOps([op]);
    // when it is validated, then the window is reported
    expect(issueAt(issuesOf(doc), 'streams.x.ops[0].windowMs').message).toBe(
      'window of 1500 ms must be a positive multiple of the batch interval of 1000 ms',
    );
  });

  it('a window on a windowed stream against that stream’s slide, naming where it was set', () => {
    // given a stream sliding every 2 s, and windows on it, in the same stream and in a stream reading it
    const doc = minimalJob({
      streams: {
        w: { from: 'lines', ops: [{ op: 'window', windowMs: 4000, slideMs: 2000 }] },
        x: {
          from: 'w',
          ops: [
            { op: 'window', windowMs: 6000 },
            { op: 'countByWindow', windowMs: 3000, slideMs: 4000 },
          ],
        },
      },
      outputs: [{ stream: 'x', type: 'print' }],
    });
    // when it is validated
    const issues = issuesOf(doc);
    // then only the 3 s window is reported, against the 2 s slide
    expect(issues).toEqual([
      {
        path: 'streams.x.ops[1].windowMs',
        message:
          'window of 3000 ms must be a positive multiple of the slide of 2000 ms set by streams.w.ops[0] (window)',
        value: 3000,
      },
    ]);
  });

  it('a stream’s checkpoint interval against its slide', () => {
    // given a 1.5 s checkpoint on 1 s batches, and a 3 s one on a stream sliding every 2 s
    const doc = minimalJob({
      streams: {
        words: { from: 'lines', ops: [{ op: 'flatMap', fn: 'splitWords' }], checkpointIntervalMs: 1500 },
        w: {
          from: 'lines',
          ops: [{ op: 'window', windowMs: 4000, slideMs: 2000 }],
          checkpointIntervalMs: 3000,
        },
      },
    });
    // when it is validated
    const issues = issuesOf(doc);
    // then both are reported at the stream's field
    expect(issueAt(issues, 'streams.words.checkpointIntervalMs').message).toBe(
      'checkpoint interval of 1500 ms must be a positive multiple of the batch interval of 1000 ms',
    );
    expect(issueAt(issues, 'streams.w.checkpointIntervalMs').message).toBe(
      'checkpoint interval of 3000 ms must be a positive multiple of the slide of 2000 ms set by streams.w.ops[0] (window)',
    );
  });

  it('windows that are not positive whole numbers, and a missing slide, through the schema only', () => {
    // given a zero window, a fractional one, and countByWindow without its slide
    const doc = jobWithOps([
      { op: 'window', windowMs: 0 },
      { op: 'window', windowMs: 1000.5 },
      { op: 'countByWindow', windowMs: 2000 },
    ]);
    // when it is validated
    const issues = issuesOf(doc);
    // then each is reported once, by the schema
    expect(issueAt(issues, 'streams.x.ops[0].windowMs').message).toBe('must be at least 1');
    expect(issueAt(issues, 'streams.x.ops[1].windowMs').message).toBe('must be a whole number');
    expect(issueAt(issues, 'streams.x.ops[2].slideMs').message).toBe('is required by op "countByWindow"');
    expect(issues).toHaveLength(3);
  });

  it('no multiple when the batch interval itself is broken', () => {
    // given an invalid batch interval and a window
    const doc = jobWithOps([{ op: 'window', windowMs: 2500 }], { batchIntervalMs: 0 });
    // when it is validated, then only the interval is reported
    expect(issuesOf(doc).map((i) => i.path)).toEqual(['batchIntervalMs']);
  });

  it('inputs of different slides combined batch by batch', () => {
    // given a union of a stream sliding every 2 s with the 1 s lines
    const doc = minimalJob({
      streams: {
        w: { from: 'lines', ops: [{ op: 'window', windowMs: 2000, slideMs: 2000 }] },
        x: { from: 'w', ops: [{ op: 'union', with: ['w', 'lines'] }] },
      },
      outputs: [{ stream: 'x', type: 'print' }],
    });
    // when it is validated, then the union is reported, naming the input of the other slide
    expect(issuesOf(doc)).toEqual([
      {
        path: 'streams.x.ops[0]',
        message:
          'union combines its inputs batch by batch, so their slides must be equal; w slides every 2000 ms but lines every 1000 ms',
      },
    ]);
  });

  it('a join of inputs of different slides, once, though a stream reads it', () => {
    // given a join of a stream sliding every 2 s with the 1 s pairs, read by another stream
    const doc = minimalJob({
      streams: {
        x: { from: 'lines', ops: [{ op: 'map', expr: '[$, 1]' }] },
        w: {
          from: 'x',
          ops: [
            { op: 'window', windowMs: 2000, slideMs: 2000 },
            { op: 'join', with: 'x' },
          ],
        },
        y: { from: 'w', ops: [{ op: 'count' }] },
      },
      outputs: [{ stream: 'y', type: 'print' }],
    });
    // when it is validated, then the join alone is reported, at its op
    expect(issuesOf(doc)).toEqual([
      {
        path: 'streams.w.ops[1]',
        message:
          'transformWith, the joins and cogroup combine their inputs batch by batch, so their slides must be equal; w.ops[0]:window slides every 2000 ms but x every 1000 ms',
      },
    ]);
  });
});

describe('validateJob checks the functions of window and state ops', () => {
  it('an invFn that names a function that is not a reducer', () => {
    // given the incremental reduceByKeyAndWindow with a record function as its inverse
    const doc = pairsWith([
      { op: 'reduceByKeyAndWindow', fn: 'sum', invFn: 'splitWords', windowMs: 3000, slideMs: 1000 },
    ]);
    // when it is validated
    const issue = issueAt(issuesOf(doc), 'streams.x.ops[2].invFn');
    // then the issue says what the name is and lists the reducers
    expect(issue).toEqual({
      path: 'streams.x.ops[2].invFn',
      message:
        '"splitWords" is a record function, but this field needs a reducer (a, b) => value, such as concat, count, max, min, subtract, sum',
      value: 'splitWords',
    });
  });

  it('an unknown invFn, a state function as a reducer, and a reducer as an update function', () => {
    // given three misnamed functions
    const doc = pairsWith([
      { op: 'reduceByWindow', fn: 'countState', invFn: 'substract', windowMs: 2000, slideMs: 1000 },
    ]);
    const state = pairsWith([{ op: 'updateStateByKey', fn: 'sum' }]);
    const mapped = pairsWith([{ op: 'mapWithState', fn: 'countState' }]);
    // when they are validated, then each is reported with what the field needs
    const issues = issuesOf(doc);
    expect(issueAt(issues, 'streams.x.ops[2].fn').message).toMatch(
      /^"countState" is an updateStateByKey function \(values, state\) => state, but this field needs a reducer/,
    );
    expect(issueAt(issues, 'streams.x.ops[2].invFn').message).toContain('did you mean "subtract"');
    expect(issueAt(issuesOf(state), 'streams.x.ops[2].fn').message).toBe(
      '"sum" is a reducer (a, b) => value, but this field needs an updateStateByKey function (values, state) => state, such as countState, sumState',
    );
    expect(issueAt(issuesOf(mapped), 'streams.x.ops[2].fn').message).toContain(
      'needs a mapWithState function (key, value, state, batchTime) => record, such as runningCount, sessionCount',
    );
  });

  it('a filter without invFn, both filter and filterExpr, and a broken filterExpr', () => {
    // given three misuses of the incremental form's filter
    const doc = pairsWith([
      { op: 'reduceByKeyAndWindow', fn: 'sum', windowMs: 2000, filter: 'identity' },
      {
        op: 'reduceByKeyAndWindow',
        fn: 'sum',
        invFn: 'subtract',
        windowMs: 2000,
        filter: 'identity',
        filterExpr: '$[1] > 0',
      },
      { op: 'reduceByKeyAndWindow', fn: 'sum', invFn: 'subtract', windowMs: 2000, filterExpr: '$[1' },
      { op: 'reduceByKeyAndWindow', fn: 'sum', invFn: 'subtract', windowMs: 2000, filter: 'sum' },
    ]);
    // when it is validated
    const issues = issuesOf(doc);
    // then each is at its path
    expect(issueAt(issues, 'streams.x.ops[2].filter')).toEqual({
      path: 'streams.x.ops[2].filter',
      message:
        'filter applies to the incremental form only, which needs invFn (the inverse of fn, such as "subtract" for "sum")',
      value: 'identity',
    });
    expect(issueAt(issues, 'streams.x.ops[3]').message).toBe(
      'op "reduceByKeyAndWindow" takes either filter (a function name) or filterExpr (a JSONata expression), not both',
    );
    expect(issueAt(issues, 'streams.x.ops[4].filterExpr').message).toMatch(/^JSONata syntax error/);
    expect(issueAt(issues, 'streams.x.ops[5].filter').message).toMatch(
      /^"sum" is a reducer .*, but this field needs a record function/,
    );
  });

  it('trusts functions of a module that registers no kind, and checks those that do', () => {
    // given a registry with a function of unknown kind and one registered as a record function
    const functions = new FunctionRegistry()
      .register('minus', (a: number, b: number) => a - b)
      .register('positive', ([, v]: [string, number]) => v > 0, 'record');
    const doc = (invFn: string) =>
      pairsWith([{ op: 'reduceByKeyAndWindow', fn: 'sum', invFn, windowMs: 2000, filter: 'positive' }], {
        functions: './module.ts',
      });
    // when they are validated, then the unknown kind passes and the record function is refused as invFn
    expect(() => validateJob(doc('minus'), { functions })).not.toThrow();
    expect(issueAt(issuesOf(doc('positive'), { functions }), 'streams.x.ops[2].invFn').message).toMatch(
      /^"positive" is a record function/,
    );
  });

  it('an initialState that is not a static dataset', () => {
    // given initial states naming a source and nothing
    const doc = pairsWith([
      { op: 'updateStateByKey', fn: 'countState', initialState: 'lines' },
      { op: 'map', expr: '$' },
      { op: 'mapWithState', fn: 'runningCount', initialState: 'strat' },
    ]);
    // when it is validated
    const issues = issuesOf({ ...doc, datasets: { start: { type: 'parallelize', records: [['a', 1]] } } });
    // then both are reported
    expect(issueAt(issues, 'streams.x.ops[2].initialState').message).toBe(
      '"lines" is a source, but initialState names a static dataset (in "datasets") of [key, state] pairs',
    );
    expect(issueAt(issues, 'streams.x.ops[4].initialState').message).toBe(
      'unknown dataset "strat"; did you mean "start"? Known: start.',
    );
  });

  it('sessionCount without a timeout, which it needs to end sessions', () => {
    // given mapWithState with sessionCount and no timeoutMs
    const doc = pairsWith([{ op: 'mapWithState', fn: 'sessionCount' }]);
    // when it is validated, then the missing timeout is reported
    expect(issueAt(issuesOf(doc), 'streams.x.ops[2].timeoutMs').message).toMatch(
      /^is required with fn "sessionCount"/,
    );
  });
});

describe('validateJob checks where stateSnapshots may go', () => {
  it.each([
    ['after another op', [{ op: 'map', expr: '$' }, { op: 'stateSnapshots' }], 'here it follows "map"'],
    [
      'after updateStateByKey',
      [{ op: 'updateStateByKey', fn: 'countState' }, { op: 'stateSnapshots' }],
      'here it follows "updateStateByKey"',
    ],
    [
      'after an op that follows mapWithState',
      [{ op: 'mapWithState', fn: 'runningCount' }, { op: 'count' }, { op: 'stateSnapshots' }],
      'here it follows "count"',
    ],
  ])('not %s', (_, ops, found) => {
    // given stateSnapshots in the wrong place
    const doc = pairsWith(ops);
    // when it is validated
    const issues = issuesOf(doc);
    // then it is reported, saying what comes before it
    const path = `streams.x.ops[${ops.length + 1}]`;
    expect(issueAt(issues, path)).toEqual({
      path,
      message: `stateSnapshots must come right after mapWithState (or first in a stream whose "from" ends with mapWithState); ${found}`,
      value: 'stateSnapshots',
    });
  });

  it('not first in a stream reading a source or a stream that does not end with mapWithState', () => {
    // given two streams starting with stateSnapshots
    const doc = minimalJob({
      streams: {
        pairs: { from: 'lines', ops: [{ op: 'map', expr: '[$, 1]' }] },
        a: { from: 'lines', ops: [{ op: 'stateSnapshots' }] },
        b: { from: 'pairs', ops: [{ op: 'stateSnapshots' }] },
      },
      outputs: [{ stream: 'a', type: 'print' }],
    });
    // when it is validated
    const issues = issuesOf(doc);
    // then both are reported
    expect(issueAt(issues, 'streams.a.ops[0]').message).toMatch(/here it reads the source "lines"$/);
    expect(issueAt(issues, 'streams.b.ops[0]').message).toMatch(
      /here it reads "pairs", whose last op is "map"$/,
    );
  });

  it('right after mapWithState, in the same stream or first in a stream reading it', () => {
    // given both placements
    const doc = minimalJob({
      streams: {
        counts: {
          from: 'lines',
          ops: [
            { op: 'map', expr: '[$, 1]' },
            { op: 'mapWithState', fn: 'runningCount' },
            { op: 'stateSnapshots' },
          ],
        },
        mapped: {
          from: 'lines',
          ops: [
            { op: 'map', expr: '[$, 1]' },
            { op: 'mapWithState', fn: 'runningCount' },
          ],
        },
        snapshots: { from: 'mapped', ops: [{ op: 'stateSnapshots' }] },
      },
      outputs: [{ stream: 'snapshots', type: 'print' }],
    });
    // when it is validated, then nothing is reported
    expect(() => validateJob(doc)).not.toThrow();
  });
});

describe('validateJob checks stream-level persist and checkpoints', () => {
  it('an unknown storage level, suggesting the closest', () => {
    // given two bad levels
    const doc = minimalJob({
      streams: {
        words: { from: 'lines', ops: [{ op: 'flatMap', fn: 'splitWords' }], persist: 'memroy' },
        disk: { from: 'lines', ops: [{ op: 'count' }], persist: 'disk' },
      },
    });
    // when it is validated
    const issues = issuesOf(doc);
    // then both are reported with the known levels
    expect(issueAt(issues, 'streams.words.persist')).toEqual({
      path: 'streams.words.persist',
      message:
        'unknown storage level "memroy"; did you mean "memory"? Known: memory, memorySer, blockStore, memoryAndBlockStore.',
      value: 'memroy',
    });
    expect(issueAt(issues, 'streams.disk.persist').message).toBe(
      'unknown storage level "disk". Known: memory, memorySer, blockStore, memoryAndBlockStore.',
    );
  });

  it('checkpoint intervals that are not positive whole numbers', () => {
    // given a zero top-level interval and a fractional stream interval
    const doc = minimalJob({
      checkpointIntervalMs: 0,
      streams: { words: { from: 'lines', ops: [{ op: 'count' }], checkpointIntervalMs: 1.5 } },
    });
    // when it is validated, then both are reported
    const issues = issuesOf(doc);
    expect(issueAt(issues, 'checkpointIntervalMs').message).toBe('must be at least 1');
    expect(issueAt(issues, 'streams.words.checkpointIntervalMs').message).toBe('must be a whole number');
  });
});

describe('buildJob builds window and state ops', () => {
  it('applies persist and checkpointIntervalMs to the last node, and the context option', async () => {
    // given a stateful and a windowed stream with stream-level settings
    const doc = pairsWith([{ op: 'mapWithState', fn: 'runningCount', timeoutMs: 3000, partitions: 3 }], {
      checkpointIntervalMs: 4000,
      datasets: { start: { type: 'parallelize', records: [['a', 1]] } },
    });
    const streams = doc.streams as Record<string, Record<string, unknown>>;
    streams.x = { ...streams.x, persist: 'memoryAndBlockStore', checkpointIntervalMs: 2000 };
    streams.s = {
      from: 'x',
      ops: [
        { op: 'stateSnapshots' },
        { op: 'reduceByKeyAndWindow', fn: 'sum', invFn: 'subtract', windowMs: 2000 },
      ],
      persist: 'blockStore',
    };
    streams.u = { from: 'x', ops: [{ op: 'updateStateByKey', fn: 'countState', initialState: 'start' }] };
    // when it is built
    const ssc = await buildJob(doc, { baseDir: fixturesDir });
    // then the settings sit on the streams' last nodes, and the context has the interval
    expect(ssc.checkpointIntervalMs).toBe(4000);
    const nodes = ['x', 's', 'u'].map((name) => {
      for (let i = 1; ; i++) {
        const node = ssc.graph.node(`n${i}`);
        if (node === undefined) throw new Error(`no node ${name}`);
        if (node.name === name) return node;
      }
    });
    const [x, s, u] = nodes;
    expect(x).toBeInstanceOf(MapWithStateDStream);
    expect(x?.storageLevel).toBe('memoryAndBlockStore');
    expect(s).toBeInstanceOf(ReducedWindowedDStream);
    expect(s?.storageLevel).toBe('blockStore');
    expect(u).toBeInstanceOf(StateDStream);
  });
});
