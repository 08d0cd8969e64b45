import { preview } from '../errors';

/**
 * A record as the `[key, value]` pair a keyed op needs. Anything else throws an error naming what came instead,
 * so the op dead-letters the record: destructuring a string would silently take its first two characters as
 * key and value, and a number or an object is "not iterable".
 */
export function pairOf(record: unknown): [unknown, unknown] {
  if (Array.isArray(record) && record.length === 2) return record as [unknown, unknown];
  throw new TypeError(`expected a [key, value] pair (an array of two), got ${preview(record)}`);
}

/** The key of a record that is a `[key, value]` pair, else undefined (a dead letter names it when it can). */
export function keyOfPair(record: unknown): unknown {
  return Array.isArray(record) && record.length === 2 ? record[0] : undefined;
}

/**
 * The key a dead letter names beside the record it holds (the stage input): the refused pair's key when the
 * stage made that pair out of the record, none when the record itself was refused.
 */
export function letterKey(stageInput: unknown, refused: unknown): unknown {
  return stageInput === refused ? undefined : keyOfPair(refused);
}
