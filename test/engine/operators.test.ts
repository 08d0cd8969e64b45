import { describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';
import { assertBatches } from '../helpers/operatorCase';
import { cases } from '../helpers/operatorCases';
import { describeOperatorTable } from '../helpers/operatorTable';

const casesModule = new URL('../helpers/operatorCases.ts', import.meta.url).pathname;

// Every case in the driver's thread; on worker threads, one narrow and one shuffling case here, so that `unit`
// runs the real worker-thread runner. Every case on worker threads: operatorsOnWorkerThreads.test.ts (`slow`).
describeOperatorTable({ name: 'in-process', workers: 0 });
describeOperatorTable({ name: 'worker threads', workers: 2 }, ['map', 'reduceByKey']);

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
