import { describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';
import { assertBatches } from '../helpers/operatorCase';
import { cases } from '../helpers/operatorCases';

const casesModule = new URL('../helpers/operatorCases.ts', import.meta.url).pathname;

/** The same tables on both executors: tasks in the driver's thread, and tasks on a pool of worker threads. */
const runners = [
  { name: 'in-process', workers: 0 },
  { name: 'worker threads', workers: 2 },
] as const;

for (const runner of runners) {
  describe(`stateless operations (${runner.name})`, () => {
    for (const [name, testCase] of Object.entries(cases)) {
      it(name, async () => {
        // given a queue of input batches and an operation
        const job = { kind: 'module', path: casesModule, exportName: `cases.${name}` } as const;
        // when it runs one batch per expected output batch on the logical clock
        const result = await runBatches(job, testCase.expected.length, { workers: runner.workers });
        // then every output batch is as expected
        expect(result.error).toBeUndefined();
        assertBatches(result.recordsOf('out'), testCase.expected, testCase.ordered);
      });
    }
  });
}

describe('the harness', () => {
  it('catches a wrong answer', async () => {
    // given a case whose expected table is deliberately wrong in one record
    const testCase = cases.reduceByKey;
    const wrong = testCase.expected.map((batch) => batch.map((r) => r));
    wrong[0] = [
      ['a', 5],
      ['b', 2],
    ];
    // when the real output is compared with it
    const job = { kind: 'module', path: casesModule, exportName: 'cases.reduceByKey' } as const;
    const result = await runBatches(job, testCase.expected.length);
    // then the comparison fails, and it passes with the right table
    expect(() => assertBatches(result.recordsOf('out'), wrong, false)).toThrow(/batch 1 differs/);
    expect(() => assertBatches(result.recordsOf('out'), testCase.expected, false)).not.toThrow();
    expect(() => assertBatches(result.recordsOf('out').slice(1), testCase.expected, false)).toThrow(
      /expected 3/,
    );
  });
});
