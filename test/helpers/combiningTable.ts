import { describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';
import { combining } from './combiningCases';
import { assertBatches } from './operatorCase';
import type { TableRunner } from './operatorTable';
import { windowBatches } from './windowCases';

const casesModule = new URL('./combiningCases.ts', import.meta.url).pathname;

/** Every shuffling table's cases, named `<table>.<case>`. */
export const combiningTables = (['cases', 'windowCases', 'stateCases'] as const).flatMap((table) =>
  Object.entries(combining[table]).map(([name, testCase]) => ({
    table,
    name,
    testCase,
    batches: (table === 'windowCases' ? windowBatches[name] : undefined) ?? testCase.expected.length,
  })),
);

/**
 * Every operator table run with the combining shuffle and directly, on one runner: the combined output must be
 * the expected table and, record for record, the direct one. With `only`, just the cases named `<table>.<case>`:
 * the `unit` file runs every case in-process and a few on worker threads, the `slow` file every case on worker
 * threads (each case starts two pools whose threads load the engine).
 */
export function describeCombiningTable(runner: TableRunner, only?: readonly string[]): void {
  const selected = only
    ? combiningTables.filter(({ table, name }) => only.includes(`${table}.${name}`))
    : combiningTables;
  if (only && selected.length !== only.length) throw new Error(`no combining case among ${only.join(', ')}`);
  describe(`the combining shuffle on every operator table (${runner.name})`, () => {
    let mergeTasks = 0;

    for (const { table, name, testCase, batches } of selected) {
      it(`${table}.${name}`, async () => {
        // given an operator table, with every shuffle stored and combined
        const job = (mode: string) =>
          ({ kind: 'module', path: casesModule, exportName: `${mode}.${table}.${name}` }) as const;
        const tasks = { combining: 0, direct: 0 };
        const counting = (mode: 'combining' | 'direct') => ({
          onBatchCompleted: (info: { tasks: number }) => {
            tasks[mode] += info.tasks;
          },
        });
        // when it runs combining, and directly
        const combined = await runBatches(job('combining'), batches, {
          workers: runner.workers,
          listeners: [counting('combining')],
        });
        const direct = await runBatches(job('direct'), batches, {
          workers: runner.workers,
          listeners: [counting('direct')],
        });
        // then the combined output is the expected table, and record for record, in order, the direct one
        expect(combined.error).toBeUndefined();
        expect(direct.error).toBeUndefined();
        assertBatches(combined.recordsOf('out'), testCase.expected, testCase.ordered);
        assertBatches(combined.recordsOf('out'), direct.recordsOf('out'), true);
        mergeTasks += tasks.combining - tasks.direct;
      });
    }

    // A few cases merge a few times; the whole table more than ten.
    it('ran merge tasks in the tables above (the combining path was taken)', () => {
      expect(mergeTasks).toBeGreaterThan(only ? 0 : 10);
    });
  });
}
