import type { AggregatorSpec } from '../dataset/Dependency';
import type { AnyFn } from '../dataset/FnScope';
import type { KeyedMap } from '../dataset/KeyedMap';
import { pairOf } from '../dataset/pairOf';

/**
 * Spark's Aggregator: combines `[key, value]` records into one combiner per key. A function that throws on a
 * record, or a record that is not a pair, reports it through `fail` (the dead-letter path) and the rest goes
 * on; the key's combiner stays as it was before that record.
 */
export class Aggregator {
  private readonly createCombiner: AnyFn;
  private readonly mergeValue: AnyFn;
  private readonly mergeCombiners: AnyFn;

  constructor(spec: AggregatorSpec, resolve: (id: string) => AnyFn) {
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
    const { createCombiner, mergeValue } = this;
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      try {
        const [key, value] = pairOf(record);
        const current = into.get(key);
        into.set(key, current === undefined ? createCombiner(value) : mergeValue(current, value));
      } catch (error) {
        fail(record, error, i);
      }
    }
  }

  /**
   * A function that folds one raw value at a time into `into` (the streaming map side), and counts them. It is the
   * pass's last step, called once per word in WordCount: one closure, with the functions in its own variables,
   * rather than a method behind another closure, is one call fewer per record.
   */
  folder(
    into: KeyedMap<unknown>,
    fail: (r: unknown, e: unknown) => void,
  ): { readonly fold: (record: unknown) => undefined; readonly folded: () => number } {
    const { createCombiner, mergeValue } = this;
    let folded = 0;
    const fold = (record: unknown): undefined => {
      folded++;
      try {
        const pair = pairOf(record);
        const key = pair[0];
        const current = into.get(key);
        into.set(key, current === undefined ? createCombiner(pair[1]) : mergeValue(current, pair[1]));
      } catch (error) {
        fail(record, error);
      }
      return undefined;
    };
    return { fold, folded: () => folded };
  }

  /** Folds `[key, combiner]` records from map tasks into `into` (the reduce side). */
  combineCombiners(
    records: readonly unknown[],
    into: KeyedMap<unknown>,
    fail: (r: unknown, e: unknown) => void,
  ): void {
    const { mergeCombiners } = this;
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      try {
        const [key, combiner] = pairOf(record);
        const current = into.get(key);
        into.set(key, current === undefined ? combiner : mergeCombiners(current, combiner));
      } catch (error) {
        fail(record, error);
      }
    }
  }
}
