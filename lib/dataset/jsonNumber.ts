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
 * The numbers of `value` JSON would write as null, found by a walk of everything JSON.stringify writes (arrays,
 * objects without `toJSON`). An explicit stack, since a record may nest a thousand levels deep.
 */
export function nonFiniteNumbersIn(value: unknown): NonFiniteNumber[] {
  const found: NonFiniteNumber[] = [];
  const stack: Array<[object, (string | number)[]]> = [];
  // A path is made only for a number found or a container to walk: strings and finite numbers cost no garbage.
  const visit = (child: unknown, at: () => (string | number)[]) => {
    if (typeof child === 'number') {
      if (!Number.isFinite(child)) found.push([at(), toJsonNumber(child)]);
    } else if (typeof child === 'object' && child !== null) {
      if (typeof (child as { toJSON?: unknown }).toJSON !== 'function') stack.push([child, at()]);
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

/** `value` as JSON read it, with the numbers `nonFiniteNumbersIn` named put back in place of their nulls. */
export function withNonFiniteNumbers(value: unknown, numbers: readonly NonFiniteNumber[]): unknown {
  let whole = value;
  for (const [path, name] of numbers) {
    if (path.length === 0) {
      whole = fromJsonNumber(name);
      continue;
    }
    let holder = whole as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) holder = holder[key] as Record<string | number, unknown>;
    holder[path.at(-1)!] = fromJsonNumber(name);
  }
  return whole;
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
    if (!mayHoldNonFiniteNumber(record, 0) && !isNamed(record)) continue;
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
function mayHoldNonFiniteNumber(value: unknown, depth: number): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (typeof value !== 'object' || value === null) return false;
  if (depth > 32) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (mayHoldNonFiniteNumber(value[i], depth + 1)) return true;
    return false;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  for (const key of Object.keys(value)) {
    if (mayHoldNonFiniteNumber((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

function isNamed(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, NAMED);
}
