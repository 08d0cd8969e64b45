import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as sharedLoops from '../../lib/dataset/RecordLoops';
import { loopsFor, MAX_STAGE_COPIES, stageCodeKey } from '../../lib/dataset/StageCode';
import type { StagePlan, TaskPlan } from '../../lib/plan/Plan';
import { StreamingContext } from '../../lib/StreamingContext';
import { LogicalClock } from '../../lib/scheduler/Clock';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import type { TaskRunner } from '../../lib/scheduler/TaskRunner';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { connectInProcess } from '../helpers/connectInProcess';

/** A stage plan with only what the key reads: its datasets' functions and its shuffle's aggregator. */
function stageWith(fns: Array<[kind: string, fn: string]>): StagePlan {
  return {
    stageId: 0,
    datasets: fns.map(([kind, fn], id) => ({ id, type: 'mapPartitions', args: { kind, fn }, deps: [] })),
    rootId: fns.length - 1,
    numPartitions: 1,
    parentStageIds: [],
    shuffleReads: [],
    runOn: 'any',
  } as unknown as StagePlan;
}

describe('each stage runs its own copy of the record loops', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-stagecode-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** WordCount with `count()` after it, two batches in this thread; every task plan it ran, and its outputs. */
  async function wordCountTasks(): Promise<{ tasks: TaskPlan[]; counts: unknown[] }> {
    const ssc = new StreamingContext({ batchIntervalMs: 1000 });
    ssc
      .generatorStream({ kind: 'lines', ratePerSec: 2000, lineBytes: 60, seed: 3 }, 2)
      .flatMap((line: string) => line.split(' '))
      .map((word: string): [string, number] => [word, 1])
      .reduceByKey((a: number, b: number) => a + b, 2)
      .count()
      .collectBatches('distinctWords');
    const tasks: TaskPlan[] = [];
    connectInProcess(ssc, new LocalFolderStore(join(dir, 'store')), dir, {
      wrapRunner: (inner): TaskRunner => ({
        name: inner.name,
        parallelism: inner.parallelism,
        run: (task, control) => {
          tasks.push(structuredClone(task));
          return inner.run(task, control);
        },
        close: () => inner.close(),
      }),
    });
    const counts: unknown[] = [];
    ssc.addListener({ onOutput: (e) => counts.push(...e.records) });
    const result = await new JobScheduler(ssc, new LogicalClock(), { name: 'stagecode' }).run({ batches: 2 });
    expect(result.error).toBeUndefined();
    return { tasks, counts };
  }

  it('gives the map side and the stages of count() copies of their own, the same batch after batch', async () => {
    // given the tasks of two batches of WordCount followed by count()
    const { tasks, counts } = await wordCountTasks();
    const mapSide = tasks.filter((t) => t.stage.datasets.some((d) => d.args.kind === 'flatMap'));
    const others = tasks.filter((t) => !mapSide.includes(t) && stageCodeKey(t.stage) !== '');
    const batches = [...new Set(mapSide.map((t) => t.batchTime))];

    // when each task's loops are looked up as its executor does
    const mapLoops = await Promise.all(mapSide.map((t) => loopsFor(t.stage)));
    const otherLoops = await Promise.all(others.map((t) => loopsFor(t.stage)));

    // then every map task of both batches shares one copy, which is not the shared module, and the stages of
    // count() (which call other functions) use other copies
    expect(batches).toHaveLength(2);
    expect(others.length).toBeGreaterThan(0);
    expect(new Set(mapSide.map((t) => stageCodeKey(t.stage))).size).toBe(1);
    expect(new Set(mapLoops).size).toBe(1);
    expect(mapLoops[0] === sharedLoops).toBe(false);
    expect(mapLoops[0]!.recordStep === sharedLoops.recordStep).toBe(false);
    expect(otherLoops.some((loops) => loops === mapLoops[0])).toBe(false);
    // and the job's answer came through those copies: one count per batch, of the distinct words
    expect(counts).toHaveLength(2);
    for (const count of counts) expect(count).toBeGreaterThan(0);
  });

  it('names a function a transform made at one batch time without the time', () => {
    // given the same op's function as a transform made it at two batch times, and another op's
    const at2000 = stageWith([['map', 'n7@2000/1']]);
    const at3000 = stageWith([['map', 'n7@3000/1']]);
    const other = stageWith([['map', 'n8@2000/1']]);

    // then the first two share a key, and the other op has its own
    expect(stageCodeKey(at2000)).toBe(stageCodeKey(at3000));
    expect(stageCodeKey(other)).not.toBe(stageCodeKey(at2000));
  });

  it('uses the shared loops for a stage without functions', () => {
    expect(loopsFor(stageWith([]))).toBe(sharedLoops);
  });

  it(`loads no more than ${MAX_STAGE_COPIES} copies, and the stages past them share the module`, async () => {
    // given more stages with distinct functions than the limit (some copies may exist from the tests above)
    const stages = Array.from({ length: MAX_STAGE_COPIES + 5 }, (_, i) =>
      stageWith([['map', `g/limit-${i}`]]),
    );

    // when their loops are looked up
    const loops = await Promise.all(stages.map((stage) => loopsFor(stage)));

    // then the copies are at most the limit, and the stages past it got the shared module
    const copies = new Set(loops.filter((l) => l !== sharedLoops));
    expect(copies.size).toBeLessThanOrEqual(MAX_STAGE_COPIES);
    expect(loops.at(-1)).toBe(sharedLoops);
  });
});
