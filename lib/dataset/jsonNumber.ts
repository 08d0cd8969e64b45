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
