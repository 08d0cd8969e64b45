import { describe, expect, it } from 'vitest';
import { KeyState } from '../../lib/dataset/State';
import {
  builtinFactories,
  builtinFunctions,
  builtinKinds,
  concat,
  contains,
  count,
  countState,
  field,
  hashtags,
  identity,
  key,
  max,
  min,
  pair,
  parseJson,
  pick,
  rename,
  runningCount,
  sessionCount,
  splitWords,
  subtract,
  sum,
  sumState,
  toPair,
  value,
} from '../../lib/job/builtinFunctions';
import { runBatches } from '../../lib/local/LocalRuntime';

describe('built-in record functions', () => {
  it('splitWords splits on any whitespace and drops empty words', () => {
    // given a line with runs of spaces, tabs and newlines
    // when it is split, then only the words remain
    expect(splitWords('  to be\tor\n\nnot  ')).toEqual(['to', 'be', 'or', 'not']);
    expect(splitWords('')).toEqual([]);
    expect(() => splitWords(42)).toThrow(new TypeError('splitWords expects a string, got 42 (number)'));
  });

  it('hashtags reads a tweet’s text or a string, lowercased, in order', () => {
    // given a tweet and a plain string
    const tweet = { id: 1, user: 'u1', text: 'hello #AWS and #spark_2 #Ünïcode. no#tag? #', lang: 'en' };
    // when their hashtags are taken, then they are lowercased in order of appearance
    expect(hashtags(tweet)).toEqual(['#aws', '#spark_2', '#ünïcode', '#tag']);
    expect(hashtags('nothing here')).toEqual([]);
    expect(() => hashtags({ text: 3 })).toThrow(
      /hashtags expects a string or an object with a string "text"/,
    );
    expect(() => hashtags(null)).toThrow(TypeError);
  });

  it('parseJson parses a line and throws on malformed input', () => {
    // given a JSON line, a broken one and a number
    // when they are parsed, then only the first succeeds
    expect(parseJson('{"a":[1,null]}')).toEqual({ a: [1, null] });
    expect(() => parseJson('{"a":')).toThrow(SyntaxError);
    expect(() => parseJson(7)).toThrow(new TypeError('parseJson expects a string, got 7 (number)'));
  });

  it('parseJson refuses a number too large for a double, naming where it is, and keeps one that fits', () => {
    // given lines with numbers beyond ±1.8e308, which JSON.parse reads as ±Infinity (and outputs write as null)
    // when they are parsed, then each throws, naming the number's place
    expect(() => parseJson('{"v": 1e400}')).toThrow(
      new RangeError(
        'parseJson refuses the number at $.v: it is beyond ±1.8e308, too large for a double, and reads as Infinity',
      ),
    );
    expect(() => parseJson('{"a": {"odd key": [1, -2E+309]}}')).toThrow(
      'parseJson refuses the number at $.a["odd key"][1]: it is beyond ±1.8e308, too large for a double, and reads as -Infinity',
    );
    expect(() => parseJson(`[${'9'.repeat(310)}]`)).toThrow('the number at $[0]');
    expect(() => parseJson('1e999')).toThrow('the number at $:');
    // and the largest double, a tiny number, and a big exponent inside a string all parse
    expect(parseJson('{"max": 1.7976931348623157e308, "tiny": 1e-400, "s": "1e400"}')).toEqual({
      max: Number.MAX_VALUE,
      tiny: 0,
      s: '1e400',
    });
  });

  it('identity returns the record itself', () => {
    // given a record, when identity applies, then it is the same object
    const record = { a: 1 };
    expect(identity(record)).toBe(record);
  });

  it('key and value take a pair apart, and name what is not a pair', () => {
    // given a pair whose value is an object
    const tweet = { user: 'ann' };
    // when key and value apply, then they are its two sides
    expect(key(['ann', tweet])).toBe('ann');
    expect(value(['ann', tweet])).toBe(tweet);
    // and a record that is not a pair is refused, for the dead-letter output
    expect(() => value('ann')).toThrow(new TypeError('value needs a [key, value] pair, got "ann" (string)'));
    expect(() => key([1, 2, 3])).toThrow(/key needs a \[key, value\] pair, got \[1,2,3\] \(array\)/);
  });
});

/** Folds values with a reducer, as reduceByKey does within a partition. */
function fold(values: unknown[], reducer: (a: unknown, b: unknown) => unknown): unknown {
  return values.reduce((a, b) => reducer(a, b));
}

describe('built-in reducers', () => {
  it('sum adds numbers and names a value of the wrong type', () => {
    // given numbers and a string
    // when they are summed, then numbers add and the string is named in a TypeError
    expect(fold([1, 2, 3], sum)).toBe(6);
    expect(() => sum(1, 'abc')).toThrow(new TypeError('sum expects numbers, got "abc" (string)'));
    expect(() => sum(null, 1)).toThrow(new TypeError('sum expects numbers, got null (null)'));
  });

  it('subtract is the inverse of sum, for numbers only', () => {
    // given a window's sum and the sum of the values leaving it
    // when the leaving values are subtracted, then sum and subtract cancel, and a non-number is named
    expect(subtract(sum(10, 4), 4)).toBe(10);
    expect(subtract(1, 3)).toBe(-2);
    expect(() => subtract('5', 1)).toThrow(new TypeError('subtract expects numbers, got "5" (string)'));
    expect(() => subtract(5, null)).toThrow(new TypeError('subtract expects numbers, got null (null)'));
  });

  it('count adds the ones of records mapped to 1', () => {
    // given five records each counted as 1
    // when they are combined, then the count is 5, and a non-number is rejected
    expect(fold([1, 1, 1, 1, 1], count)).toBe(5);
    expect(() => count(1, [1])).toThrow(new TypeError('count expects numbers, got [1] (array)'));
  });

  it('min and max compare numbers, or strings, never both', () => {
    // given numbers and strings
    // when they are reduced, then each kind orders on its own
    expect(fold([3, -1, 2], min)).toBe(-1);
    expect(fold([3, -1, 2], max)).toBe(3);
    expect(fold(['b', 'a', 'c'], min)).toBe('a');
    expect(fold(['b', 'a', 'c'], max)).toBe('c');
    expect(() => min(1, '2')).toThrow(
      new TypeError('min expects two numbers or two strings, got 1 (number) and "2" (string)'),
    );
    expect(() => max({}, {})).toThrow(TypeError);
  });

  it('concat joins arrays or strings without changing its inputs', () => {
    // given two arrays
    const a = [1];
    const b = [2, 3];
    // when they are concatenated, then a new array holds both and the inputs are unchanged
    expect(concat(a, b)).toEqual([1, 2, 3]);
    expect(a).toEqual([1]);
    expect(concat('ab', 'c')).toBe('abc');
    expect(() => concat([1], 'x')).toThrow(
      new TypeError('concat expects two arrays or two strings, got [1] (array) and "x" (string)'),
    );
  });
});

describe('built-in factories', () => {
  const tweet = { id: 7, user: 'u1', text: 'grep me', lang: 'en' };

  it('pick keeps only the listed fields that exist', () => {
    // given pick of two fields, one missing
    const f = pick({ fields: ['user', 'missing'] });
    // when it applies, then only the present field remains
    expect(f(tweet)).toEqual({ user: 'u1' });
    expect(() => f('a string')).toThrow(
      new TypeError('pick expects an object record, got "a string" (string)'),
    );
    expect(() => pick({})).toThrow(/pick needs args.fields, a non-empty array of field names/);
    expect(() => pick({ fields: [1] })).toThrow(TypeError);
  });

  it('rename maps old field names to new ones and keeps the rest', () => {
    // given a rename of user to author
    const f = rename({ user: 'author' });
    // when it applies, then the field has its new name
    expect(f(tweet)).toEqual({ id: 7, author: 'u1', text: 'grep me', lang: 'en' });
    expect(() => rename({})).toThrow(/rename needs args/);
    expect(() => rename({ user: 3 })).toThrow(/the new name for field "user" must be a non-empty string/);
    expect(() => rename({ user: 'who', name: 'who' })).toThrow(
      /rename: fields "user" and "name" would both become "who"; give each its own name/,
    );
    expect(() => f([1])).toThrow(/rename expects an object record/);
  });

  it('field takes one field’s value, null when missing', () => {
    // given field user
    const f = field({ field: 'user' });
    // when it applies, then the value comes out, or null
    expect(f(tweet)).toBe('u1');
    expect(f({})).toBeNull();
    expect(() => f(5)).toThrow(new TypeError('field expects an object record, got 5 (number)'));
    expect(() => field({ feild: 'user' })).toThrow('field takes args "field", not "feild"');
  });

  it('pair keys a record by a field', () => {
    // given pair on user
    const f = pair({ field: 'user' });
    // when it applies, then the record is the value
    expect(f(tweet)).toEqual(['u1', tweet]);
    expect(f({ other: 1 })).toEqual([null, { other: 1 }]);
    expect(() => pair({})).toThrow(/pair needs args.field/);
  });

  it('toPair makes [record[key], record[value]]', () => {
    // given toPair of user and lang
    const f = toPair({ key: 'user', value: 'lang' });
    // when it applies, then both fields form the pair
    expect(f(tweet)).toEqual(['u1', 'en']);
    expect(f({ user: 'u2' })).toEqual(['u2', null]);
    expect(() => toPair({ key: 'user' })).toThrow(/toPair needs args.value/);
    expect(() => f(null)).toThrow(TypeError);
  });

  it('pick and rename keep a record’s own "__proto__" field as a field', () => {
    // given parsed records whose "__proto__" and "constructor" are their own fields, as JSON.parse makes them
    const record = JSON.parse('{"a":1,"__proto__":{"x":1},"constructor":5}');
    // when fields are renamed onto, from and past "__proto__", and "__proto__" is picked
    const renamedOnto = rename({ a: '__proto__' })(JSON.parse('{"a":1,"constructor":5}'));
    const renamedFrom = rename(JSON.parse('{"__proto__":"p"}'))(record);
    const renamedPast = rename({ a: 'b' })(record);
    const picked = pick({ fields: ['__proto__', 'a'] })(record);
    // then "__proto__" is an own field like any other, and no prototype is changed
    expect(JSON.stringify(renamedOnto)).toBe('{"__proto__":1,"constructor":5}');
    expect(JSON.stringify(renamedFrom)).toBe('{"a":1,"p":{"x":1},"constructor":5}');
    expect(JSON.stringify(renamedPast)).toBe('{"b":1,"__proto__":{"x":1},"constructor":5}');
    expect(JSON.stringify(picked)).toBe('{"__proto__":{"x":1},"a":1}');
    for (const result of [renamedOnto, renamedPast, picked]) {
      expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    }
  });

  it('field, pair and toPair give null for a field the record only inherits', () => {
    // given a record without "valueOf", "constructor" or "__proto__" fields of its own
    const record = { a: 1 };
    // when those fields are read, then each is missing: null, never what every object inherits
    expect(field({ field: 'valueOf' })(record)).toBeNull();
    expect(field({ field: '__proto__' })(record)).toBeNull();
    expect(pair({ field: 'toString' })(record)).toEqual([null, record]);
    expect(toPair({ key: 'constructor', value: 'hasOwnProperty' })(record)).toEqual([null, null]);
    // and a record's own "__proto__" field is read as any other field
    expect(field({ field: '__proto__' })(JSON.parse('{"__proto__":7}'))).toBe(7);
  });

  it('contains tests a line or a tweet’s text for a word', () => {
    // given contains "grep"
    const f = contains({ word: 'grep' });
    // when it applies, then lines and tweets are tested
    expect(f('please grep this')).toBe(true);
    expect(f('nothing')).toBe(false);
    expect(f(tweet)).toBe(true);
    expect(() => f(12)).toThrow(/contains expects a string or an object with a string "text", got 12/);
    expect(() => contains({ word: '' })).toThrow(/contains needs args.word/);
  });

  it('are all listed by the names jobs use', () => {
    // given the two tables, when their names are read, then every built-in is there once
    expect(Object.keys(builtinFunctions).sort()).toEqual(
      [
        'concat',
        'count',
        'countState',
        'hashtags',
        'identity',
        'key',
        'max',
        'min',
        'parseJson',
        'runningCount',
        'sessionCount',
        'splitWords',
        'subtract',
        'sum',
        'sumState',
        'value',
      ].sort(),
    );
    expect(Object.keys(builtinKinds).sort()).toEqual(
      [...Object.keys(builtinFunctions), ...Object.keys(builtinFactories)].sort(),
    );
    expect(Object.keys(builtinFactories).sort()).toEqual([
      'contains',
      'field',
      'pair',
      'pick',
      'rename',
      'toPair',
    ]);
  });
});

/** Runs a mapWithState function over records as the engine does: one KeyState per key, kept between calls. */
class StateDriver {
  private readonly states = new Map<string, unknown>();

  call(fn: typeof runningCount | typeof sessionCount, key: string, batchTime: number, timingOut = false) {
    const state = new KeyState<unknown>().wrap(this.states.has(key), this.states.get(key), timingOut);
    const out = fn(key, timingOut ? undefined : 1, state, batchTime);
    if (state.removed || timingOut) this.states.delete(key);
    else if (state.updated) this.states.set(key, state.get());
    return out;
  }

  stateOf(key: string): unknown {
    return this.states.get(key);
  }
}

describe('built-in state functions', () => {
  it('countState adds the number of new values to the count, whatever they are', () => {
    // given a key without state, then with a count
    // when values arrive, then each counts one; no values keep the count
    expect(countState(['x', null, 3], undefined)).toBe(3);
    expect(countState([], 3)).toBe(3);
    expect(countState([1], 3)).toBe(4);
    expect(() => countState([1], 'three')).toThrow(
      new TypeError('countState expects a numeric state, got "three" (string)'),
    );
  });

  it('sumState adds numeric values to the state and names anything else', () => {
    // given values and a state
    // when they are summed, then the state grows by their sum
    expect(sumState([1, 2, 3], undefined)).toBe(6);
    expect(sumState([], 10)).toBe(10);
    expect(sumState([-1, 0.5], 10)).toBe(9.5);
    expect(() => sumState([1, 'two'], 0)).toThrow(
      new TypeError('sumState expects numbers, got "two" (string)'),
    );
    expect(() => sumState([1], { n: 1 })).toThrow(/sumState expects a numeric state/);
  });

  it('runningCount counts the records of each key and returns [key, count so far]', () => {
    // given records of two keys
    const driver = new StateDriver();
    // when they arrive, then each returns its key's running count
    expect(driver.call(runningCount, 'a', 1000)).toEqual(['a', 1]);
    expect(driver.call(runningCount, 'a', 1000)).toEqual(['a', 2]);
    expect(driver.call(runningCount, 'b', 2000)).toEqual(['b', 1]);
    expect(driver.stateOf('a')).toBe(2);
    // and a key that times out goes silently, then counts from 1 again
    expect(driver.call(runningCount, 'a', 5000, true)).toBeUndefined();
    expect(driver.call(runningCount, 'a', 6000)).toEqual(['a', 1]);
    // and a non-numeric initial state is named
    const state = new KeyState<unknown>().wrap(true, 'x');
    expect(() => runningCount('k', 1, state)).toThrow(/runningCount expects a numeric state, got "x"/);
  });

  it('sessionCount keeps the open session and yields it once, when the key times out', () => {
    // given records of a key in two batches
    const driver = new StateDriver();
    // when they arrive, then nothing is yielded and the state is the open session
    expect(driver.call(sessionCount, 'u', 1000)).toBeUndefined();
    expect(driver.call(sessionCount, 'u', 1000)).toBeUndefined();
    expect(driver.call(sessionCount, 'u', 3000)).toBeUndefined();
    expect(driver.stateOf('u')).toEqual({ count: 3, startMs: 1000, endMs: 3000 });
    // and when the key times out, then the closed session comes out, and the next record opens a new one
    expect(driver.call(sessionCount, 'u', 6000, true)).toEqual([
      'u',
      { count: 3, startMs: 1000, endMs: 3000 },
    ]);
    expect(driver.stateOf('u')).toBeUndefined();
    expect(driver.call(sessionCount, 'u', 7000)).toBeUndefined();
    expect(driver.stateOf('u')).toEqual({ count: 1, startMs: 7000, endMs: 7000 });
    // and a state of another shape is named
    const state = new KeyState<unknown>().wrap(true, 5);
    expect(() => sessionCount('k', 1, state, 1000)).toThrow(
      'sessionCount expects a state {count, startMs, endMs}, got 5 (number)',
    );
  });

  it('replace the state instead of changing it in place', () => {
    // given an open session
    const driver = new StateDriver();
    driver.call(sessionCount, 'u', 1000);
    const before = driver.stateOf('u');
    // when another record arrives, then the previous state object is unchanged
    driver.call(sessionCount, 'u', 2000);
    expect(before).toEqual({ count: 1, startMs: 1000, endMs: 1000 });
  });
});

describe('reduceByKey with a built-in reducer', () => {
  it('dead-letters a bad first value instead of taking it as the running value', async () => {
    // given one partition whose first value for k is a string among numbers, and a key whose only value is bad
    const document = {
      name: 'first-value',
      batchIntervalMs: 1000,
      sources: {
        values: {
          type: 'queue',
          batches: [
            [
              ['k', 'two'],
              ['k', 1],
              ['k', 3],
              ['m', null],
              ['s', 'b'],
              ['s', 'a'],
            ],
          ],
          partitions: 1,
        },
      },
      streams: {
        sums: {
          from: 'values',
          ops: [
            { op: 'filter', expr: '$[0] != "s"' },
            { op: 'reduceByKey', fn: 'sum' },
          ],
        },
        least: {
          from: 'values',
          ops: [
            { op: 'filter', expr: '$[0] = "s"' },
            { op: 'reduceByKey', fn: 'min' },
          ],
        },
      },
      outputs: [
        { stream: 'sums', type: 'print' },
        { stream: 'least', type: 'print' },
      ],
    };
    // when the batch runs
    const result = await runBatches({ kind: 'document', document, baseDir: '/' }, 1, { workers: 0 });
    // then the good values are summed, and the bad ones are the dead letters, with the reducer's reason
    expect(result.recordsOf('sums')).toEqual([[['k', 4]]]);
    expect(result.recordsOf('least')).toEqual([[['s', 'a']]]);
    expect(result.deadLetters.map((d) => [d.record, d.error])).toEqual([
      [['k', 'two'], expect.stringContaining('sum expects numbers, got "two" (string)')],
      [['m', null], expect.stringContaining('sum expects numbers, got null (null)')],
    ]);
  });
});
