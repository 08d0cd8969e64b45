import { describe, expect, it } from 'vitest';
import { StreamGraphError } from '../../lib/errors';
import { runBatches } from '../../lib/local/LocalRuntime';
import { StreamingContext } from '../../lib/StreamingContext';
import { assertBatches } from '../helpers/operatorCase';
import { windowBatches, windowCases } from '../helpers/windowCases';

const casesModule = new URL('../helpers/windowCases.ts', import.meta.url).pathname;

for (const runner of [
  { name: 'in-process', workers: 0 },
  { name: 'worker threads', workers: 2 },
] as const) {
  describe(`window operations (${runner.name})`, () => {
    for (const [name, testCase] of Object.entries(windowCases)) {
      it(name, async () => {
        // given input batches and a windowed operation
        const job = { kind: 'module', path: casesModule, exportName: `windowCases.${name}` } as const;
        // when the stream runs long enough for every expected output
        const batches = windowBatches[name] ?? testCase.expected.length;
        const result = await runBatches(job, batches, { workers: runner.workers });
        // then each window holds exactly the batches in (t - window, t]
        expect(result.error).toBeUndefined();
        assertBatches(result.recordsOf('out'), testCase.expected, testCase.ordered);
      });
    }
  });
}

describe('window validation', () => {
  it('names both numbers when the window is not a multiple of the slide', () => {
    const ssc = new StreamingContext({ batchIntervalMs: 1000 });
    const s = ssc.queueStream([[1]]);
    expect(() => s.window(2500, 1000)).toThrow(StreamGraphError);
    expect(() => s.window(2500, 1000)).toThrow(
      /window of 2500 ms must be a positive multiple of the batch interval of 1000 ms/,
    );
    expect(() => s.window(2000, 1500)).toThrow(
      /slide of 1500 ms must be a positive multiple of the batch interval of 1000 ms/,
    );
    const pairs = ssc.queueStream<[string, number]>([[['a', 1]]]);
    expect(() =>
      pairs.reduceByKeyAndWindow(
        (a, b) => a + b,
        (a, b) => a - b,
        999,
      ),
    ).toThrow(/window of 999 ms/);
  });

  it('carries the origin of the window that refused its arguments, and each argument at fault', () => {
    // given a window of 2.5 s sliding every 1.5 s on 1 s batches, built in this file
    const ssc = new StreamingContext({ batchIntervalMs: 1000 });
    const s = ssc.queueStream([[1]]);
    // when it is built
    let error: unknown;
    try {
      s.window(2500, 1500);
    } catch (thrown) {
      error = thrown;
    }
    // then the error names this line's window, and both arguments
    expect(error).toBeInstanceOf(StreamGraphError);
    const graphError = error as StreamGraphError;
    expect(graphError.origin).toMatch(/windows\.test\.ts:\d+ \(window\)$/);
    expect(graphError.problems.map((p) => [p.field, p.value])).toEqual([
      ['windowMs', 2500],
      ['slideMs', 1500],
    ]);
  });

  it('refuses a union of a windowed stream with a stream of another slide', () => {
    const ssc = new StreamingContext({ batchIntervalMs: 1000 });
    const s = ssc.queueStream([[1]]);
    expect(() => s.union(s.window(2000, 2000))).toThrow(/so their slides must be equal/);
  });
});
