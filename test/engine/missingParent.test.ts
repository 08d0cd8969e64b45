import { describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';
import { cases } from '../helpers/missingParentCases';

const casesModule = new URL('../helpers/missingParentCases.ts', import.meta.url).pathname;

/**
 * Spark's TransformedDStream (and UnionDStream) fail a batch whose parent has no dataset for its time, rather
 * than skip it: a skipped batch would silently drop the other parent's records.
 */
describe('an operation over a parent that has no dataset for a batch time', () => {
  for (const name of Object.keys(cases)) {
    it(`${name} fails that batch, naming the parent and the time`, async () => {
      // given two streams, the second without a dataset at 2000 ms
      const job = { kind: 'module', path: casesModule, exportName: `cases.${name}` } as const;
      // when three batches run
      const result = await runBatches(job, 3, { workers: 0 });
      // then batch 1000 ms has output, and the job stops at batch 2000 ms with an error naming the gap
      expect(result.recordsOf('out')).toHaveLength(1);
      expect(result.recordsOf('out')[0]!.length).toBeGreaterThan(0);
      expect(result.error?.message).toMatch(/stream gappy has no dataset at 2000 ms/);
    });
  }
});
