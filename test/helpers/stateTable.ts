import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';
import { assertBatches } from './operatorCase';
import type { TableRunner } from './operatorTable';
import { failingCases, longRunExpected, stateCases, touchedKeysInput } from './stateCases';

const casesModule = new URL('./stateCases.ts', import.meta.url).pathname;
const job = (exportName: string) => ({ kind: 'module', path: casesModule, exportName }) as const;

/**
 * The state operations' table and their dead-letter, touched-keys and checkpoint runs, on one runner. With `only`,
 * just those table cases and none of the other runs: the `unit` file runs everything in-process and a case on
 * worker threads, the `slow` file everything on worker threads (each run starts a pool whose threads load the
 * engine).
 */
export function describeStateOperations(
  runner: TableRunner,
  only?: readonly (keyof typeof stateCases)[],
): void {
  describe(`state operations (${runner.name})`, () => {
    for (const [name, testCase] of Object.entries(stateCases).filter(
      ([name]) => !only || (only as readonly string[]).includes(name),
    )) {
      it(name, async () => {
        // given a queue of input batches and a stateful operation
        // when it runs one batch per expected output batch on the logical clock
        const result = await runBatches(job(`stateCases.${name}`), testCase.expected.length, {
          workers: runner.workers,
        });
        // then every output batch is as expected
        expect(result.error).toBeUndefined();
        assertBatches(result.recordsOf('out'), testCase.expected, testCase.ordered);
      });
    }

    if (only) return;

    it("updateStateByKey: a value the function throws on is dead-lettered and the key's state stays", async () => {
      // given an update function that throws on negative values, and a key with a good and a negative value
      const testCase = failingCases.updateThrows;
      // when two batches run
      const result = await runBatches(job('failingCases.updateThrows'), 2, { workers: runner.workers });
      // then the batches succeed, the good value counts, and the negative one is a dead letter with its key
      expect(result.error).toBeUndefined();
      assertBatches(result.recordsOf('out'), testCase.expected, false);
      expect(result.deadLetters.map((l) => [l.batchTime, l.record, l.error])).toEqual([
        [1000, ['a', -1], 'Error: update failed on purpose'],
      ]);
    });

    it('mapWithState: a record the function throws on is dead-lettered and leaves the state as it was', async () => {
      // given a mapping function that throws for one key
      const testCase = failingCases.mapWithStateThrows;
      // when two batches run
      const result = await runBatches(job('failingCases.mapWithStateThrows'), 2, { workers: runner.workers });
      // then the other records are mapped, and each failing record is a dead letter
      expect(result.error).toBeUndefined();
      assertBatches(result.recordsOf('out'), testCase.expected, false);
      assertBatches(result.recordsOf('snapshots'), testCase.expectedSnapshots, false);
      expect(result.deadLetters.map((l) => [l.batchTime, l.record, l.error])).toEqual([
        [1000, ['bad', 1], 'Error: cannot map bad'],
        [2000, ['bad', 3], 'Error: cannot map bad'],
      ]);
    });

    it('mapWithState: the function runs for the touched keys only, with 1,000 keys in state', async () => {
      // given 1,000 keys in the first batch, then 10 keys per batch
      const batches = touchedKeysInput.length;
      // when the batches run
      const result = await runBatches(job('touchedKeys'), batches, { workers: runner.workers });
      // then the function ran 1,000 times in the first batch and 10 times in each later one
      expect(result.error).toBeUndefined();
      const calls = result.recordsOf('calls').map((b) => b.length);
      expect(calls).toEqual([1000, ...Array(batches - 1).fill(10)]);
    });

    it('state survives 35 batches with checkpoints every 3 batches, as without checkpoints', async () => {
      // given a job with both operations, checkpointing every 3 s of 1 s batches, and the same job that never
      // checkpoints in 35 batches
      const expected = longRunExpected();
      const storeDir = await mkdtemp(join(tmpdir(), 'sluice-state-'));
      try {
        // when both run 35 batches
        const checkpointed = await runBatches(job('longRunJobs.checkpointEvery3s'), 35, {
          workers: runner.workers,
          storeDir,
        });
        const plain = await runBatches(job('longRunJobs.neverCheckpointing'), 35, {
          workers: runner.workers,
        });
        // then both match the reference implementation batch for batch
        for (const result of [checkpointed, plain]) {
          expect(result.error).toBeUndefined();
          assertBatches(result.recordsOf('update'), expected.update, false);
          assertBatches(result.recordsOf('mapped'), expected.mapped, false);
          assertBatches(result.recordsOf('snapshots'), expected.snapshots, false);
        }
        // and the checkpointed run did write its state to the block store
        expect((await readdir(join(storeDir, 'persist'))).length).toBeGreaterThan(0);
      } finally {
        await rm(storeDir, { recursive: true, force: true });
      }
    });
  });
}
