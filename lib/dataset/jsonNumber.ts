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
