import type { TaskPlan } from '../../lib/plan/Plan';
import type { TaskRunner } from '../../lib/scheduler/TaskRunner';
import { isStored } from '../../lib/shuffle/ShuffleMerger';

/** Which map outputs a {@link losingRunner} deletes: the first time a task reads one, or every time. */
export type Losing = 'once' | 'always';

/**
 * A task runner that deletes a stored map output (with `remove`) just before a task that reads it (bytes of it) starts: the map
 * stage is done, its output is named in the task's statuses, and the store no longer has it, as when something
 * deletes shuffle data between the map and the reduce side (Spark's lost executor). `picks` chooses the outputs
 * to delete by their key (`shuffle/1000/0/1`, `shuffle/1000/0/merged-0`); `losing` whether only the first read
 * of each finds it gone (a recomputed one stays), or every read. `lost` lists each deletion, `ran` each task run
 * as `<stageId>/<partition>`.
 */
export function losingRunner(
  inner: TaskRunner,
  remove: (key: string) => Promise<void>,
  picks: (key: string) => boolean,
  losing: Losing = 'once',
): TaskRunner & { readonly lost: string[]; readonly ran: string[] } {
  const lost: string[] = [];
  const ran: string[] = [];
  const wanted = (task: TaskPlan) =>
    Object.values(task.shuffleInputs)
      .flat()
      // Only what the task reads: a merge task reads its outputs whole, a reduce task its own partition's bytes.
      .filter(
        (status) =>
          isStored(status) &&
          picks(status.key) &&
          (task.stage.shuffleMerge !== undefined ||
            status.offsets[task.partition + 1]! > status.offsets[task.partition]!),
      )
      .map((status) => status.key)
      .filter((key) => losing === 'always' || !lost.includes(key));
  return {
    name: inner.name,
    parallelism: inner.parallelism,
    lost,
    ran,
    async run(task, control) {
      ran.push(`${task.stage.stageId}/${task.partition}`);
      // Noted before the first await: tasks starting together must not each delete a key lost `once`.
      const keys = wanted(task);
      lost.push(...keys);
      await Promise.all(keys.map(remove));
      return inner.run(task, control);
    },
    close: () => inner.close(),
  };
}
