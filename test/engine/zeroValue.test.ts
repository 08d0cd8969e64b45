import { describe, expect, it } from 'vitest';
import { zeroCopier } from '../../lib/dataset/zeroValue';

describe('the zero value of a fold', () => {
  it('is copied afresh for every key, deeply, Maps and Sets included', () => {
    // given a zero holding an array, a Map and a Set
    const zero = { tags: [] as string[], byUser: new Map<string, number>(), seen: new Set<string>() };
    // when two copies are made and one is mutated
    const copy = zeroCopier(zero, 'foldByKey');
    const first = copy();
    first.tags.push('#a');
    first.byUser.set('ann', 1);
    first.seen.add('x');
    const second = copy();
    // then neither the zero nor the next copy sees the change, and each copy keeps its kinds
    expect(zero.tags).toEqual([]);
    expect(second.tags).toEqual([]);
    expect(second.byUser).toBeInstanceOf(Map);
    expect(second.byUser.size).toBe(0);
    expect(second.seen).toBeInstanceOf(Set);
  });

  it('is refused where the call is made when structuredClone would lose its methods or cannot copy it', () => {
    // given a class instance and a function as zeros
    class Counter {
      n = 0;
      add(): this {
        this.n++;
        return this;
      }
    }
    // when a fold is given them, then it throws at once with a sentence that names the op and what to pass
    expect(() => zeroCopier(new Counter(), 'aggregateByKey')).toThrow(
      /aggregateByKey's zero value is a Counter, .*without its methods; pass plain data/,
    );
    expect(() => zeroCopier({ f: () => 1 }, 'foldByKey')).toThrow(
      /foldByKey's zero value must be copyable by structuredClone/,
    );
  });
});
