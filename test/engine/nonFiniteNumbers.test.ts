import { describe, expect, it } from 'vitest';
import {
  namedAsNull,
  nonFiniteNumbersIn,
  recordsFromJson,
  recordsToJson,
  valuesJsonLosesIn,
  withNonFiniteNumbers,
} from '../../lib/dataset/jsonNumber';
import { canonicalKey } from '../../lib/dataset/Partitioner';

/** A value as a Lambda worker's answer carries it: JSON, with its non-finite numbers named beside it. */
function throughJson(value: unknown): unknown {
  const named = nonFiniteNumbersIn(value);
  return withNonFiniteNumbers(JSON.parse(JSON.stringify(value)), JSON.parse(JSON.stringify(named)));
}

describe('numbers JSON cannot write, named beside a task result', () => {
  it('come back in place after JSON, nested in pairs, arrays and objects, and leave strings and nulls alone', () => {
    // given records with Infinity, -Infinity and NaN among names of them (strings), nulls and a date
    const records = [
      ['a', Number.POSITIVE_INFINITY],
      Number.NaN,
      { v: Number.NEGATIVE_INFINITY, name: 'Infinity', none: null, at: new Date(0) },
      [['k', [1, Number.NaN]], 'NaN'],
    ];
    // when they cross JSON with their named numbers
    // then they are as they were (the date as JSON writes it)
    expect(throughJson(records)).toEqual([
      ['a', Number.POSITIVE_INFINITY],
      Number.NaN,
      { v: Number.NEGATIVE_INFINITY, name: 'Infinity', none: null, at: '1970-01-01T00:00:00.000Z' },
      [['k', [1, Number.NaN]], 'NaN'],
    ]);
    // and a result that is itself such a number too
    expect(throughJson(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
  });

  it('names none in finite records, and walks a record nested thousands of levels deep', () => {
    expect(nonFiniteNumbersIn([['a', 1], { b: [null, 'x'] }])).toEqual([]);
    // given a record nested 5,000 levels deep around an Infinity (a recursive walk would overflow the stack)
    let deep: unknown = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 5000; i++) deep = [deep];
    // then its Infinity is found, at a path 5,000 steps long
    const [found] = nonFiniteNumbersIn(deep);
    expect(found?.[0]).toHaveLength(5000);
    expect(found?.[1]).toBe('Infinity');
  });
});

describe('records as a shuffle block writes them', () => {
  it('read back with their Infinity and NaN, and a record shaped as the marker itself as it was', () => {
    // given records with non-finite numbers, a null, and an object whose only key is the marker's
    const records = [
      ['a', Number.POSITIVE_INFINITY],
      Number.NaN,
      ['b', null],
      { '\u0000named': [1, []] },
      [
        [Number.NEGATIVE_INFINITY, 'k'],
        [1, Number.NaN],
      ],
    ];
    // when they are written and read back
    const text = recordsToJson(records);
    // then every record is as it was
    expect(recordsFromJson(text)).toEqual(records);
    // and two blocks spliced as the combining shuffle splices them read back too
    const spliced = `[${text.slice(1, -1)},${recordsToJson([[null, 1]]).slice(1, -1)}]`;
    expect(recordsFromJson(spliced)).toEqual([...records, [null, 1]]);
  });

  it('are plain JSON when no record holds such a number', () => {
    const records = [['a', 1], ['b', null], { c: [2, 'Infinity'] }];
    expect(recordsToJson(records)).toBe(JSON.stringify(records));
  });
});

describe('keys compared by value', () => {
  it('keep a pair key with Infinity or NaN apart from one with null in its place', () => {
    const keys = [
      ['x', null],
      ['x', Number.POSITIVE_INFINITY],
      ['x', Number.NEGATIVE_INFINITY],
      ['x', Number.NaN],
    ];
    expect(new Set(keys.map(canonicalKey)).size).toBe(4);
    // and equal keys stay equal, a plain one keeping the text it had
    expect(canonicalKey(['x', Number.NaN])).toBe(canonicalKey(['x', Number.NaN]));
    expect(canonicalKey(['x', null])).toBe('\u0000["x",null]');
  });
});

describe('values JSON loses, named beside a Lambda worker answer', () => {
  /** The records as a worker answers with them and the coordinator reads them back. */
  const throughAnswer = (records: unknown[]) => {
    const named = JSON.parse(JSON.stringify(valuesJsonLosesIn(records), namedAsNull));
    return withNonFiniteNumbers(JSON.parse(JSON.stringify(records, namedAsNull)), named);
  };

  it('come back as they were: undefined, Dates, Maps and Sets (with such values inside), BigInts', () => {
    const records = [
      ['u', undefined],
      { a: undefined, b: 1 },
      undefined,
      new Date(5),
      new Map<unknown, unknown>([[new Date(1), new Set([2n, Number.NaN])]]),
      [['big', 10n ** 30n]],
    ];
    const back = throughAnswer(records) as unknown[];
    expect(back).toEqual(records);
    // and an undefined field keeps its place among its object's keys
    expect(Object.keys(back[1] as object)).toEqual(['a', 'b']);
    expect((back[4] as Map<Date, Set<unknown>>).keys().next().value).toBeInstanceOf(Date);
  });

  it('names nothing for records JSON carries as they are', () => {
    expect(valuesJsonLosesIn([['a', 1], { b: [null, 'x'] }, 'Infinity'])).toEqual([]);
  });
});
