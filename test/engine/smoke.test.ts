import { describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';

const job = { kind: 'module', path: new URL('../helpers/jobs.ts', import.meta.url).pathname, exportName: 'wordCount' } as const;

describe('smoke', () => {
  for (const workers of [0, 2]) {
    it(`counts words with ${workers} workers`, async () => {
      const result = await runBatches(job, 4, { workers });
      expect(result.error).toBeUndefined();
      const sorted = result.recordsOf('counts').map((b) => [...b].sort());
      expect(sorted).toEqual([[['a', 1], ['b', 2], ['c', 1]], [], [['c', 2]], []]);
    });
  }
});
