import { describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';
import { assertBatches } from './operatorCase';
import { cases } from './operatorCases';

const casesModule = new URL('./operatorCases.ts', import.meta.url).pathname;

/** Where the tasks run: in the driver's thread (0 workers), or on a pool of that many worker threads. */
export interface TableRunner {
  readonly name: string;
  readonly workers: number;
}

/**
 * The stateless operator table on one runner, one test per case (all of them, or the ones named). Shared by the
 * `unit` file, which runs every case in-process and a few on worker threads, and the `slow` file, which runs every
 * case on worker threads: each worker-thread case starts a pool whose threads load the engine.
 */
export function describeOperatorTable(
  runner: TableRunner,
  names: readonly (keyof typeof cases)[] = Object.keys(cases) as (keyof typeof cases)[],
): void {
  describe(`stateless operations (${runner.name})`, () => {
    for (const name of names) {
      const testCase = cases[name];
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
