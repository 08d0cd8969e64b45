/**
 * A number as a task's result carries it to the driver. On Lambda that result is JSON, which writes Infinity,
 * -Infinity and NaN as null: a partition's sum that overflows (Spark's answer is Infinity) then reached the driver
 * as null and was added as 0. Those three travel as their names instead, which `fromJsonNumber` reads back.
 */
export type JsonNumber = number | 'Infinity' | '-Infinity' | 'NaN';

/** `n`, or its name when JSON cannot write it. */
export function toJsonNumber(n: number): JsonNumber {
  return Number.isFinite(n) ? n : (String(n) as JsonNumber);
}

/** The number `toJsonNumber` gave. */
export function fromJsonNumber(value: JsonNumber): number {
  return typeof value === 'number' ? value : Number(value);
}

/**
 * Where a value holds a number JSON cannot write: the path to it (array indexes and object keys) and its name. A
 * task's records travel from a Lambda worker as JSON, where these are null; the worker names them beside the
 * records, and the driver puts them back (`withNonFiniteNumbers`), so `take` and `collect` give what they give
 * locally, where records cross a thread by structured clone.
 */
export type NonFiniteNumber = readonly [path: readonly (string | number)[], name: JsonNumber];

/**
 * A value JSON writes as something else, as a Lambda worker's answer names it beside its records (see
 * `valuesJsonLosesIn`): a non-finite number by name, or a value structured clone keeps and JSON does not.
 * A Map or a Set carries its entries (with their own named values), since JSON writes it as `{}`.
 */
export type NamedValue = readonly [
  path: readonly (string | number)[],
  name:
    | JsonNumber
    | { readonly undefined: true }
    | { readonly date: JsonNumber }
    | { readonly bigint: string }
    | { readonly map: ValueWithNames }
    | { readonly set: ValueWithNames },
];

/** A value with the values JSON would lose in it named (see `valuesJsonLosesIn`). */
export interface ValueWithNames {
  readonly value: unknown;
  readonly named: readonly NamedValue[];
}

/**
 * The numbers of `value` JSON would write as null, found by a walk of everything JSON.stringify writes (arrays,
 * objects without `toJSON`). An explicit stack, since a record may nest a thousand levels deep.
 */
export function nonFiniteNumbersIn(value: unknown): NonFiniteNumber[] {
  return namedIn(value, false) as NonFiniteNumber[];
}

/**
 * Every value in `value` that JSON loses and a worker thread's structured clone keeps, so that records a Lambda
 * worker answers with reach the driver as they reach it locally: Infinity, -Infinity and NaN (JSON's null),
 * `undefined` (null in an array, gone from an object), a `Date` (a string), a `Map` or a `Set` (`{}`), a BigInt
 * (which JSON refuses): write the answer with `namedAsNull`. A function or a symbol, which a worker thread
 * refuses to send, throws `UnsendableValueError`. An allocation-free check of each record comes first,
 * so records holding none of them cost a walk and no garbage.
 */
export function valuesJsonLosesIn(value: unknown): NamedValue[] {
  return mayLoseInJson(value, 0, true) ? namedIn(value, true) : [];
}

/** A value `valuesJsonLosesIn` found that no answer can carry (a function, a symbol), as structured clone words it. */
export class UnsendableValueError extends Error {}

/**
 * A `JSON.stringify` replacer for an answer whose values `valuesJsonLosesIn` named: null for a BigInt, which JSON
 * refuses, and for undefined, whose key JSON would drop, moving it to the end of its object once put back.
 */
export function namedAsNull(_key: string, value: unknown): unknown {
  return value === undefined || typeof value === 'bigint' ? null : value;
}

function namedIn(value: unknown, everything: boolean): NamedValue[] {
  const found: NamedValue[] = [];
  const stack: Array<[object, (string | number)[]]> = [];
  const withNames = (inner: unknown): ValueWithNames => ({ value: inner, named: namedIn(inner, true) });
  // A path is made only for a value found or a container to walk: strings and finite numbers cost no garbage.
  const visit = (child: unknown, at: () => (string | number)[]) => {
    if (typeof child === 'number') {
      if (!Number.isFinite(child)) found.push([at(), toJsonNumber(child)]);
    } else if (typeof child === 'object' && child !== null) {
      if (everything && child instanceof Date) found.push([at(), { date: toJsonNumber(child.getTime()) }]);
      else if (everything && child instanceof Map) found.push([at(), { map: withNames([...child]) }]);
      else if (everything && child instanceof Set) found.push([at(), { set: withNames([...child]) }]);
      else if (typeof (child as { toJSON?: unknown }).toJSON !== 'function') stack.push([child, at()]);
    } else if (everything && child === undefined) {
      found.push([at(), { undefined: true }]);
    } else if (everything && typeof child === 'bigint') {
      found.push([at(), { bigint: String(child) }]);
    } else if (everything && (typeof child === 'function' || typeof child === 'symbol')) {
      // What a worker thread's structured clone refuses, JSON would drop: refused here too, in the same words.
      throw new UnsendableValueError(`${String(child)} could not be cloned.`);
    }
  };
  visit(value, () => []);
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [container, path] = next;
    if (Array.isArray(container)) {
      for (let i = 0; i < container.length; i++) visit(container[i], () => [...path, i]);
    } else {
      for (const key of Object.keys(container)) {
        visit((container as Record<string, unknown>)[key], () => [...path, key]);
      }
    }
  }
  return found;
}

/** `value` as JSON read it, with the values `nonFiniteNumbersIn` or `valuesJsonLosesIn` named put back in place. */
export function withNonFiniteNumbers(value: unknown, named: readonly NamedValue[]): unknown {
  let whole = value;
  for (const [path, name] of named) {
    const restored = namedValue(name);
    if (path.length === 0) {
      whole = restored;
      continue;
    }
    let holder = whole as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) holder = holder[key] as Record<string | number, unknown>;
    holder[path.at(-1)!] = restored;
  }
  return whole;
}

function namedValue(name: NamedValue[1]): unknown {
  if (typeof name !== 'object') return fromJsonNumber(name);
  if ('undefined' in name) return undefined;
  if ('date' in name) return new Date(fromJsonNumber(name.date));
  if ('bigint' in name) return BigInt(name.bigint);
  const inner = 'map' in name ? name.map : name.set;
  const entries = withNonFiniteNumbers(inner.value, inner.named) as unknown[];
  return 'map' in name ? new Map(entries as [unknown, unknown][]) : new Set(entries);
}

/**
 * The key under which `recordsToJson` writes a record that holds numbers JSON cannot write: `{"\u0000named":
 * [record, numbers]}`. A control character, so no job's own field name is it by chance; a record that is such an
 * object anyway is written the same way, so that reading it back gives it as it was.
 */
const NAMED = '\u0000named';
/** `NAMED` as it stands in JSON text, which a reader searches for before it looks at any record. */
const NAMED_TEXT = JSON.stringify(NAMED);

/**
 * Records as a JSON array, each record that holds Infinity, -Infinity or NaN written with those numbers named
 * (`nonFiniteNumbersIn`), so that `recordsFromJson` gives them back where plain JSON gives null: a shuffle, whose
 * blocks are JSON, then keeps them as Spark's does. Each record is written on its own, so arrays of records
 * spliced together (`ShuffleMerger`) still read back. The records are walked only when their JSON holds a `null`
 * (one native search of the text): a shuffle of records without one costs that search and nothing more.
 */
export function recordsToJson(records: readonly unknown[]): string {
  const text = JSON.stringify(records);
  if (!text.includes('null') && !text.includes(NAMED_TEXT)) return text;
  let named: unknown[] | undefined;
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    // A check that allocates nothing first: most records of a block with a null hold a plain null.
    if (!mayHoldNonFiniteNumber(record) && !isNamed(record)) continue;
    const numbers = nonFiniteNumbersIn(record);
    if (numbers.length > 0 || isNamed(record)) {
      named ??= records.slice();
      named[i] = { [NAMED]: [record, numbers] };
    }
  }
  return named === undefined ? text : JSON.stringify(named);
}

/** The records of JSON text `recordsToJson` wrote (or plain JSON), their named numbers back in place. */
export function recordsFromJson(text: string): unknown[] {
  const records = JSON.parse(text) as unknown[];
  if (!text.includes(NAMED_TEXT) || !Array.isArray(records)) return records;
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    if (isNamed(record)) {
      const [value, numbers] = record[NAMED] as [unknown, NonFiniteNumber[]];
      records[i] = withNonFiniteNumbers(value, numbers);
    }
  }
  return records;
}

/**
 * Whether `value` holds Infinity, -Infinity or NaN where JSON.stringify would write it; true as well for a value
 * nested deeper than 32 levels, which `nonFiniteNumbersIn` (with its own stack) then walks.
 */
function mayHoldNonFiniteNumber(value: unknown): boolean {
  return mayLoseInJson(value, 0, false);
}

/**
 * `mayHoldNonFiniteNumber`, and with `everything` the other values `valuesJsonLosesIn` names too (a `Date` and any
 * other object with `toJSON` counts only if it is one of those).
 */
function mayLoseInJson(value: unknown, depth: number, everything: boolean): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (typeof value !== 'object' || value === null) {
    return everything && value !== null && typeof value !== 'string' && typeof value !== 'boolean';
  }
  if (depth > 32) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (mayLoseInJson(value[i], depth + 1, everything)) return true;
    return false;
  }
  if (everything && (value instanceof Date || value instanceof Map || value instanceof Set)) return true;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  for (const key of Object.keys(value)) {
    if (mayLoseInJson((value as Record<string, unknown>)[key], depth + 1, everything)) return true;
  }
  return false;
}

function isNamed(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, NAMED);
}
