import { describe, expect, it } from 'vitest';
import type { DatasetSpec } from '../../lib/dataset/Dataset';
import { MapWithStateDataset, type MapWithStateRecord } from '../../lib/dataset/MapWithStateDataset';
import type { State } from '../../lib/dataset/State';
import { StateMap } from '../../lib/dataset/StateMap';
import type { TaskContext } from '../../lib/dataset/TaskContext';
import { runBatches } from '../../lib/local/LocalRuntime';
import { StreamingContext } from '../../lib/StreamingContext';
import { touchedKeysInput } from '../helpers/stateCases';
import { describeStateOperations } from '../helpers/stateTable';

const casesModule = new URL('../helpers/stateCases.ts', import.meta.url).pathname;
const job = (exportName: string) => ({ kind: 'module', path: casesModule, exportName }) as const;

// Everything in the driver's thread; on worker threads, two cases here, so that `unit` runs the real worker-thread
// runner. Everything on worker threads: stateOnWorkerThreads.test.ts (`slow`).
describeStateOperations({ name: 'in-process', workers: 0 });
describeStateOperations({ name: 'worker threads', workers: 2 }, ['updateCounts', 'updateRemovesOnNull']);

describe('mapWithState cost', () => {
  it('visits about the touched entries per batch, not the whole state', async () => {
    // given 1,000 keys in state after the first batch and 10 touched keys per later batch, in this thread
    const visits: number[] = [];
    let last = StateMap.entryVisits;
    // when the batches run, counting the state-map entries visited per batch
    const result = await runBatches(job('touchedKeys'), touchedKeysInput.length, {
      workers: 0,
      listeners: [
        {
          onBatchCompleted: () => {
            visits.push(StateMap.entryVisits - last);
            last = StateMap.entryVisits;
          },
        },
      ],
    });
    // then the first batch visits the 1,000 new keys, and later batches a few per touched key, except the one
    // batch whose new generation flattens the delta chain (every 20 generations)
    expect(result.error).toBeUndefined();
    expect(visits[0]).toBeGreaterThanOrEqual(1000);
    const later = visits.slice(1);
    expect(later.filter((v) => v > 100)).toHaveLength(1);
    expect(later.filter((v) => v <= 100).every((v) => v >= 10)).toBe(true);
    expect(later.reduce((a, b) => a + b, 0)).toBeLessThan(5000);
  });
});

describe('state operations: validation', () => {
  const pairs = () => new StreamingContext({ batchIntervalMs: 1000 }).queueStream<[string, number]>([]);

  it('rejects what is not a function, a dataset or a positive timeout, naming the operation', () => {
    // given a keyed stream
    // when stateful operations get wrong settings
    // then they throw at once, saying what was expected
    expect(() => pairs().updateStateByKey(42 as never)).toThrow(
      /updateStateByKey needs a function, got number/,
    );
    expect(() => pairs().updateStateByKey(() => 1, { initialState: [['a', 1]] as never })).toThrow(
      /initial state of updateStateByKey must be a dataset/,
    );
    expect(() => pairs().mapWithState({ fn: () => 1, timeoutMs: -5 })).toThrow(
      /timeout of mapWithState must be a positive whole number of ms, got -5/,
    );
    expect(() => pairs().mapWithState({ fn: () => 1, partitions: 0 })).toThrow(/positive integer, got 0/);
  });

  it('checkpoints the state of mapWithState when its stream is checkpointed', () => {
    // given a mapWithState stream checkpointed every 3 s
    const ssc = new StreamingContext({ batchIntervalMs: 1000 });
    const mapped = ssc
      .queueStream<[string, number]>([])
      .mapWithState({ fn: () => 1 })
      .checkpoint(3000);
    // then the internal state stream carries the interval
    expect(mapped.dependencies[0]!.checkpointIntervalMs).toBe(3000);
  });
});

describe('StateMap', () => {
  it('layers a generation over the previous one without changing it', () => {
    // given a map with 1,000 keys
    const base = StateMap.fromPairs(
      Array.from({ length: 1000 }, (_, i) => [`k${i}`, i] as [string, number]),
      1000,
    );
    // when the next generation updates one key, removes one and adds one
    const next = base.nextGeneration();
    next.put('k1', -1, 2000);
    next.remove('k2');
    next.put('new', 7, 2000);
    // then the new generation sees the changes and the old one does not
    expect(next.get('k1')).toEqual({ state: -1, updatedMs: 2000 });
    expect(next.get('k2')).toBeUndefined();
    expect(next.pairs()).toHaveLength(1000);
    expect(base.get('k1')).toEqual({ state: 1, updatedMs: 1000 });
    expect(base.get('k2')).toEqual({ state: 2, updatedMs: 1000 });
    expect(base.get('new')).toBeUndefined();
    expect(next.depth).toBe(1);
  });

  it('flattens the chain after 20 generations, keeping every entry', () => {
    // given a chain of generations, each changing one key
    let map = StateMap.empty<string, number>();
    const depths: number[] = [];
    const expected = new Map<string, number>();
    for (let g = 1; g <= 25; g++) {
      map = map.nextGeneration();
      map.put(`k${g % 7}`, g, g * 1000);
      expected.set(`k${g % 7}`, g);
      depths.push(map.depth);
    }
    // then the depth went back to 0 once, and the entries are the last ones written
    expect(Math.max(...depths)).toBe(19);
    expect(depths.filter((d) => d === 0)).toHaveLength(1);
    expect(new Map(map.pairs())).toEqual(expected);
  });

  it('round-trips through JSON as [key, state, lastUpdatedMs] records', () => {
    // given a layered map with a removal and a composite key
    const map = StateMap.fromPairs<unknown, number>(
      [
        ['a', 1],
        [['x', 1], 2],
      ],
      1000,
    ).nextGeneration();
    map.remove('a');
    map.put('b', 3, 2000);
    // when it is written as JSON and rebuilt
    const json = JSON.parse(JSON.stringify(map));
    const rebuilt = StateMap.fromRecords(json);
    // then the records are plain triples and the rebuilt map has the same entries
    expect(json).toEqual(
      expect.arrayContaining([
        [['x', 1], 2, 1000],
        ['b', 3, 2000],
      ]),
    );
    expect(json).toHaveLength(2);
    expect(rebuilt.get(['x', 1])).toEqual({ state: 2, updatedMs: 1000 });
    expect(rebuilt.get('a')).toBeUndefined();
  });

  it('lists timeout candidates by update time without scanning older keys twice', () => {
    // given keys updated at 1000, 2000 and 3000, one of them updated again later
    const map = StateMap.empty<string, number>().nextGeneration();
    map.put('a', 1, 1000);
    map.put('b', 1, 1000);
    const next = map.nextGeneration();
    next.put('b', 2, 2000);
    next.put('c', 1, 3000);
    // when asking for the keys last updated before 2500
    const stale = next.updatedBetween(Number.NEGATIVE_INFINITY, 2500).map(([k]) => k);
    // then a (1000) and b (2000) are listed once each, c (3000) is not
    expect(stale.sort()).toEqual(['a', 'b']);
  });
});

describe('MapWithStateDataset', () => {
  /** Batch 2000 of a mapWithState with a 1 s timeout: dataset 0 is the previous state, dataset 1 the records. */
  const spec: DatasetSpec = {
    id: 2,
    type: 'mapWithState',
    numPartitions: 1,
    deps: [
      { type: 'oneToOne', parent: 0 },
      { type: 'oneToOne', parent: 1 },
    ],
    args: { fn: 'f', batchTime: 2000, previous: 'state', timeoutMs: 1000 },
  };
  /** The task's view of that batch: the previous state and the records as its partitions, and the function. */
  const taskContext = (
    previous: unknown[],
    records: unknown[],
    fn: unknown,
    deadLetter: (...args: any[]) => unknown,
  ) =>
    ({
      batchTime: 2000,
      partitionOf: async (id: number) => (id === 0 ? previous : records),
      fn: () => fn,
      deadLetter,
    }) as unknown as TaskContext;

  it('rebuilds the previous state from a checkpoint read back as JSON', async () => {
    // given a previous partition that crossed as JSON (a checkpoint in the block store)
    const previous: MapWithStateRecord = {
      stateMap: StateMap.fromRecords([
        ['a', 1, 1000],
        ['old', 5, 500],
      ]),
      mapped: [],
    };
    const fromJson = JSON.parse(JSON.stringify([previous])) as unknown[];
    const fn = (key: string, value: number | undefined, state: State<number>) => {
      if (state.isTimingOut()) return ['timeout', key];
      state.update((state.exists() ? state.get() : 0) + value!);
      return [key, state.get()];
    };
    const tc = taskContext(fromJson, [['a', 2]], fn, () => {
      throw new Error('no record should fail');
    });
    // when the next batch's partition is computed from it
    const [record] = await MapWithStateDataset.fromSpec(spec).compute(0, tc);
    // then the state map was rebuilt, the new record applied, and the stale key timed out
    expect(record!.mapped).toEqual([
      ['a', 3],
      ['timeout', 'old'],
    ]);
    expect(record!.stateMap.pairs()).toEqual([['a', 3]]);
    expect(MapWithStateDataset.recordOf(fromJson).stateMap.pairs()).toEqual([
      ['a', 1],
      ['old', 5],
    ]);
  });
  it('refuses, as Spark does, to remove a key that is timing out or one already removed', async () => {
    // given a previous state with a live key and a stale one, and a function that removes in every call, twice
    // for the live key
    const previous = [
      {
        stateMap: StateMap.fromRecords([
          ['a', 1, 1500],
          ['old', 5, 500],
        ]),
        mapped: [],
      },
    ];
    const fn = (key: string, _value: number | undefined, state: State<number>) => {
      state.remove();
      if (!state.isTimingOut()) state.remove();
      return key;
    };
    const letters: Array<[unknown, string]> = [];
    const tc = taskContext(
      previous,
      [['a', 2]],
      fn,
      (_label: string, _partition: number, _fn: string, record: unknown, error: Error) =>
        letters.push([record, error.message]),
    );
    // when the batch's partition is computed
    const [record] = await MapWithStateDataset.fromSpec(spec).compute(0, tc);
    // then both calls failed with a reason (dead letters), the timed-out key is gone all the same, and the
    // live key keeps its state, since its call failed before returning
    expect(letters).toEqual([
      [['a', 2], 'the state of this key was already removed in this call'],
      [
        ['old', undefined],
        'the state of a key that is timing out cannot be removed; it is removed after this call',
      ],
    ]);
    expect(record!.mapped).toEqual([]);
    expect(record!.stateMap.pairs()).toEqual([['a', 1]]);
  });
});
