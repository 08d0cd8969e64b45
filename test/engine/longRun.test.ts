import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../lib/local/LocalRuntime';
import { RETAINED_BATCHES } from '../../lib/scheduler/JobScheduler';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';

const jobs = new URL('../helpers/runtimeJobs.ts', import.meta.url).pathname;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-long-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a stateful stream over 1,000 batches', () => {
  it('keeps the plan size and the memory held per batch flat', async () => {
    // given an incremental windowed count, whose every window depends on the previous one, checkpointed
    // every 5 batches
    const infos: BatchInfo[] = [];
    const sizes: Array<{ batch: number; tracked: number; functions: number; remembered: number }> = [];
    const runtime = await LocalRuntime.start(
      { kind: 'module', path: jobs, exportName: 'thousandBatches' },
      {
        clock: 'logical',
        batches: 1000,
        workers: 0,
        storeDir: dir,
        write: () => {},
        listeners: [
          {
            onBatchCompleted: (info) => {
              infos.push(info);
              const ssc = runtime.ssc;
              let remembered = 0;
              for (let i = 1; ssc.graph.node(`n${i}`); i++)
                remembered += ssc.graph.node(`n${i}`)!.rememberedTimes.length;
              sizes.push({
                batch: infos.length,
                tracked: ssc.persistence.size,
                functions: ssc.functions.size,
                remembered,
              });
            },
          },
        ],
      },
    );
    // when it runs 1,000 batches
    const summary = await runtime.run();
    expect(summary.error).toBeUndefined();
    expect(infos).toHaveLength(1000);
    // then the plan of a late batch is no bigger than the plan of an early one once the window is full (but
    // for batch times with more digits: 900000 is longer than 20000, hence the 10%)
    const planAt = (from: number, to: number) => Math.max(...infos.slice(from, to).map((i) => i.planBytes));
    expect(planAt(900, 1000)).toBeLessThanOrEqual(planAt(20, 40) * 1.1);
    // and what the driver holds per batch stays bounded: datasets remembered, persisted datasets tracked,
    // dynamic functions
    const late = sizes.slice(900);
    const early = sizes.slice(20, 40);
    for (const key of ['tracked', 'functions', 'remembered'] as const) {
      expect(Math.max(...late.map((s) => s[key]))).toBeLessThanOrEqual(Math.max(...early.map((s) => s[key])));
    }
    // and the live lineage the driver holds is cut at checkpoints: walking the parents of the last window
    // reaches a bounded number of datasets, not one chain per batch since the start
    const ssc = runtime.ssc;
    let windowed: import('../../lib/dstream/DStream').DStream<any> | undefined;
    for (let i = 1; ssc.graph.node(`n${i}`); i++) {
      if (ssc.graph.node(`n${i}`)!.constructor.name === 'ReducedWindowedDStream')
        windowed = ssc.graph.node(`n${i}`);
    }
    const last = await windowed!.getOrCompute(1_000_000);
    const reachable = new Set<number>();
    const stack = [last!];
    while (stack.length > 0) {
      const ds = stack.pop()!;
      if (reachable.has(ds.id)) continue;
      reachable.add(ds.id);
      for (const dep of ds.dependencies) stack.push(dep.parent);
    }
    expect(reachable.size).toBeLessThan(300);
    // and the store keeps only the blocks that remembered batches need
    const files = await readdir(dir, { recursive: true, withFileTypes: true });
    expect(files.filter((f) => f.isFile()).length).toBeLessThan(200);
  }, 120_000);
});

describe('a run of more batches than the summary keeps', () => {
  it('keeps only the newest 1,000 batches in its summary, so its memory does not grow with the run', async () => {
    // given the windowed count of the test above, for 1,200 batches
    const runtime = await LocalRuntime.start(
      { kind: 'module', path: jobs, exportName: 'thousandBatches' },
      { clock: 'logical', batches: 1200, workers: 0, storeDir: dir, write: () => {} },
    );
    // when it runs
    const summary = await runtime.run();
    // then the summary holds the newest 1,000 batches, in order
    expect(summary.error).toBeUndefined();
    expect(summary.batches).toHaveLength(RETAINED_BATCHES);
    expect(summary.batches[0]?.batchTime).toBe(201_000);
    expect(summary.batches.at(-1)?.batchTime).toBe(1_200_000);
  }, 120_000);
});
