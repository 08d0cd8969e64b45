import type { AggregatorSpec } from '../dataset/Dependency';
import type { AnyFn } from '../dataset/FnScope';
import type { KeyedMap } from '../dataset/KeyedMap';
import * as sharedLoops from '../dataset/RecordLoops';
import type { RecordLoops } from '../dataset/StageCode';

/**
 * Spark's Aggregator: combines `[key, value]` records into one combiner per key. A function that throws on a
 * record, or a record that is not a pair, reports it through `fail` (the dead-letter path) and the rest goes
 * on; the key's combiner stays as it was before that record. The loops themselves are the stage's own copy of
 * `RecordLoops` (see `StageCode`).
 */
export class Aggregator {
  private readonly createCombiner: AnyFn;
  private readonly mergeValue: AnyFn;
  private readonly mergeCombiners: AnyFn;

  constructor(
    spec: AggregatorSpec,
    resolve: (id: string) => AnyFn,
    private readonly loops: RecordLoops = sharedLoops,
  ) {
    this.createCombiner = resolve(spec.createCombiner);
    this.mergeValue = resolve(spec.mergeValue);
    this.mergeCombiners = resolve(spec.mergeCombiners);
  }

  /** Folds raw values into `into` (the map side, or the reduce side without map-side combine). */
  combineValues(
    records: readonly unknown[],
    into: KeyedMap<unknown>,
    fail: (r: unknown, e: unknown, index: number) => void,
  ): void {
    this.loops.combineValues(this.createCombiner, this.mergeValue, records, into, fail);
  }

  /** A function that folds one raw value at a time into `into` (the streaming map side), and counts them. */
  folder(
    into: KeyedMap<unknown>,
    fail: (r: unknown, e: unknown) => void,
  ): { readonly fold: (record: unknown) => undefined; readonly folded: () => number } {
    return this.loops.folder(this.createCombiner, this.mergeValue, into, fail);
  }

  /** Folds `[key, combiner]` records from map tasks into `into` (the reduce side). */
  combineCombiners(
    records: readonly unknown[],
    into: KeyedMap<unknown>,
    fail: (r: unknown, e: unknown) => void,
  ): void {
    this.loops.combineCombiners(this.mergeCombiners, records, into, fail);
  }
}
