import { preview } from '../errors';

/**
 * A maker of fresh copies of a fold's zero value (`foldByKey`, `aggregateByKey`, `fold`, `aggregate`). Spark
 * serializes the zero once and deserializes a copy for every key and partition, so a function that mutates its
 * accumulator (`(set, v) => set.add(v)`) never shares one object between two keys. Here a copy is
 * `structuredClone`'s: plain objects, arrays, `Map`, `Set` and `Date` copy deeply; a primitive is its own copy,
 * so the common zero, `0` or `''`, costs nothing per key. The zero is copied once here, so a value
 * `structuredClone` refuses (a function) or would turn into another kind (a class instance, which would lose
 * its methods) fails the call that passed it, not a task later.
 */
export function zeroCopier<Z>(zero: Z, op: string): () => Z {
  if (zero === null || (typeof zero !== 'object' && typeof zero !== 'function')) return () => zero;
  let copy: Z;
  try {
    copy = structuredClone(zero);
  } catch (error) {
    throw new TypeError(
      `${op}'s zero value must be copyable by structuredClone (plain data, arrays, Map, Set, Date), got ${preview(zero)}: ${(error as Error).message}`,
    );
  }
  if (Object.getPrototypeOf(copy) !== Object.getPrototypeOf(zero)) {
    const kind = (zero as object).constructor?.name ?? 'an object without a prototype';
    throw new TypeError(
      `${op}'s zero value is a ${kind}, which structuredClone copies as a plain object without its methods; pass plain data (an object, array, Map or Set) instead`,
    );
  }
  return () => structuredClone(zero);
}
