import { canonicalKey } from './Partitioner';

/**
 * A total order over the values records hold, for `sortBy`. Spark sorts by the key's `Ordering` and fails on keys
 * that have none; a job document's keys are JSON values of any mix, so each kind has a rank (null, booleans,
 * numbers, strings, arrays, objects) and values of one kind compare as that kind does: numbers by value (NaN
 * last), strings by UTF-16 code units, arrays element by element, objects by their JSON text. The comparator has
 * to be consistent: `Array.prototype.sort` with one that is not leaves the order up to the engine.
 */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  const ra = rankOf(a);
  const rb = rankOf(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case Rank.Number:
      return compareNumbers(a as number, b as number);
    case Rank.String:
    case Rank.Boolean:
      return (a as string) < (b as string) ? -1 : 1;
    case Rank.Array:
      return compareArrays(a as unknown[], b as unknown[]);
    case Rank.Object: {
      const ka = canonicalKey(a);
      const kb = canonicalKey(b);
      return ka === kb ? 0 : ka < kb ? -1 : 1;
    }
    default:
      return 0; // null and undefined sort together
  }
}

/** The ranks of the kinds of value, in their order. */
const Rank = { Null: 0, Boolean: 1, Number: 2, String: 3, Array: 4, Object: 5 } as const;
type Rank = (typeof Rank)[keyof typeof Rank];

function rankOf(value: unknown): Rank {
  switch (typeof value) {
    case 'boolean':
      return Rank.Boolean;
    case 'number':
    case 'bigint':
      return Rank.Number;
    case 'string':
      return Rank.String;
    case 'object':
      return value === null ? Rank.Null : Array.isArray(value) ? Rank.Array : Rank.Object;
    case 'undefined':
      return Rank.Null;
    default:
      return Rank.Object; // functions and symbols: no record holds them, but the order must still be total
  }
}

function compareNumbers(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) return 0;
  return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : -1;
}

function compareArrays(a: unknown[], b: unknown[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareValues(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}
