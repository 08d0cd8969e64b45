import { describe, expect, it } from 'vitest';
import { compareValues } from '../../lib/dataset/valueOrder';

describe('the order sortBy sorts keys by', () => {
  it('ranks kinds, then compares within a kind', () => {
    // given keys of every kind a record holds, shuffled
    const keys = [
      3,
      'b',
      null,
      [1, 2],
      'a',
      1,
      { z: 1 },
      true,
      Number.NaN,
      [1],
      false,
      { a: 2 },
      -1,
      'B',
      [0, 9],
    ];
    // when sorted
    const sorted = [...keys].sort(compareValues);
    // then null, booleans, numbers (NaN last), strings by code unit, arrays element by element, objects by JSON
    expect(sorted).toEqual([
      null,
      false,
      true,
      -1,
      1,
      3,
      Number.NaN,
      'B',
      'a',
      'b',
      [0, 9],
      [1],
      [1, 2],
      { a: 2 },
      { z: 1 },
    ]);
  });

  it('is a consistent order: antisymmetric and transitive over a mixed sample', () => {
    // given a sample mixing kinds, with equal values made apart
    const sample = [
      0,
      -0,
      2,
      'x',
      '',
      [],
      [[]],
      {},
      { k: [1] },
      { k: [1] },
      true,
      null,
      undefined,
      Number.NaN,
      1e9,
    ];
    for (const a of sample) {
      expect(compareValues(a, a)).toBe(0);
      for (const b of sample) {
        // then a < b exactly when b > a
        expect(Math.sign(compareValues(a, b)) + Math.sign(compareValues(b, a))).toBe(0);
        for (const c of sample) {
          if (compareValues(a, b) <= 0 && compareValues(b, c) <= 0)
            expect(compareValues(a, c)).toBeLessThanOrEqual(0);
        }
      }
    }
  });
});
