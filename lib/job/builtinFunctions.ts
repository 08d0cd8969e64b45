/**
 * The functions a JSON job can name without a module of its own. Each is small and pure. A function given a
 * record of the wrong type throws a `TypeError` that names the value: the engine then sends that record to the
 * dead-letter output instead of producing garbage. Reducers behave the same for the values they combine.
 *
 * Record functions take a record; factories take the op's `args` and return a record function.
 */
import { preview } from '../errors';
import type { FnArgs } from './JobDocument';

/** A function a job names: a record function, a reducer, or a dataset function for `transform`. */
export type JobFunction = (...args: any[]) => any;

/** Makes a function from an op's `args`; throws a `TypeError` naming the bad argument. */
export type FunctionFactory = (args: FnArgs) => JobFunction;

// ---- record functions ---------------------------------------------------------------------------------------

/** The words of a line: split on any whitespace, empty strings dropped. `"a  b\n"` → `["a", "b"]`. */
export function splitWords(line: unknown): string[] {
  if (typeof line !== 'string') throw new TypeError(`splitWords expects a string, got ${describe(line)}`);
  return line.split(/\s+/).filter((word) => word !== '');
}

/**
 * The hashtags of a tweet (an object with a string `text`) or of a string, lowercased, in order of appearance:
 * `{ text: "Hi #AWS #spark" }` → `["#aws", "#spark"]`.
 */
export function hashtags(tweet: unknown): string[] {
  const text = textOf('hashtags', tweet);
  return Array.from(text.matchAll(/#[\p{L}\p{N}_]+/gu), (match) => match[0].toLowerCase());
}

/** Parses a JSON line; malformed input throws, so the engine dead-letters the record. */
export function parseJson(line: unknown): unknown {
  if (typeof line !== 'string') throw new TypeError(`parseJson expects a string, got ${describe(line)}`);
  return JSON.parse(line);
}

/** The record itself. */
export function identity<T>(record: T): T {
  return record;
}

// ---- reducers -----------------------------------------------------------------------------------------------

/** Adds two numbers. */
export function sum(a: unknown, b: unknown): number {
  const [x, y] = numbers('sum', a, b);
  return x + y;
}

/**
 * Counts records whose value is 1: the same addition as `sum`, named for what it means. Map each record to
 * `[key, 1]` first (`{"op":"map","expr":"[$, 1]"}`), then `reduceByKey` with `count`.
 */
export function count(a: unknown, b: unknown): number {
  const [x, y] = numbers('count', a, b);
  return x + y;
}

/** The smaller of two numbers, or of two strings by code units. Mixing the two throws. */
export function min(a: unknown, b: unknown): number | string {
  const [x, y] = comparable('min', a, b);
  // biome-ignore lint/complexity/useMathMinMax: strings are compared too, which Math.min cannot do
  return y < x ? y : x;
}

/** The larger of two numbers, or of two strings by code units. Mixing the two throws. */
export function max(a: unknown, b: unknown): number | string {
  const [x, y] = comparable('max', a, b);
  // biome-ignore lint/complexity/useMathMinMax: strings are compared too, which Math.max cannot do
  return y > x ? y : x;
}

/**
 * Two arrays or two strings, joined. Arrays are copied rather than extended in place, because with
 * `reduceByKey` the first value is the record's own array, which an input block may still hold.
 */
export function concat(a: unknown, b: unknown): unknown[] | string {
  if (Array.isArray(a) && Array.isArray(b)) return a.concat(b);
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  throw new TypeError(`concat expects two arrays or two strings, got ${describe(a)} and ${describe(b)}`);
}

// ---- factories ----------------------------------------------------------------------------------------------

/** `args.fields`: an object with only those fields of the record (missing ones left out). */
export function pick(args: FnArgs): JobFunction {
  onlyArgs('pick', args, ['fields']);
  const fields = stringList('pick', 'fields', args.fields);
  return (record: unknown) => {
    const source = objectRecord('pick', record);
    const out: Record<string, unknown> = {};
    for (const field of fields) if (Object.hasOwn(source, field)) out[field] = source[field];
    return out;
  };
}

/** `args` maps old field names to new ones, `{ "user": "author" }`; other fields are kept as they are. */
export function rename(args: FnArgs): JobFunction {
  const entries = Object.entries(args);
  if (entries.length === 0) throw new TypeError('rename needs args mapping old field names to new ones');
  for (const [from, to] of entries) {
    if (typeof to !== 'string' || to === '') {
      throw new TypeError(
        `rename: the new name for field "${from}" must be a non-empty string, got ${describe(to)}`,
      );
    }
  }
  const renames = new Map(entries as [string, string][]);
  return (record: unknown) => {
    const source = objectRecord('rename', record);
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(source)) out[renames.get(key) ?? key] = value;
    return out;
  };
}

/** `args.field`: the value of that field, or null when the record lacks it. */
export function field(args: FnArgs): JobFunction {
  onlyArgs('field', args, ['field']);
  const name = fieldName('field', 'field', args.field);
  return (record: unknown) => objectRecord('field', record)[name] ?? null;
}

/** `args.field`: the pair `[record[field], record]`, keying a record by one of its fields. */
export function pair(args: FnArgs): JobFunction {
  onlyArgs('pair', args, ['field']);
  const name = fieldName('pair', 'field', args.field);
  return (record: unknown) => [objectRecord('pair', record)[name] ?? null, record];
}

/** `args.key` and `args.value`: the pair `[record[key], record[value]]`, missing fields as null. */
export function toPair(args: FnArgs): JobFunction {
  onlyArgs('toPair', args, ['key', 'value']);
  const key = fieldName('toPair', 'key', args.key);
  const value = fieldName('toPair', 'value', args.value);
  return (record: unknown) => {
    const source = objectRecord('toPair', record);
    return [source[key] ?? null, source[value] ?? null];
  };
}

/** `args.word`: true when a line (or a tweet's `text`) contains it, as Spark's Grep example filters. */
export function contains(args: FnArgs): JobFunction {
  onlyArgs('contains', args, ['word']);
  const word = args.word;
  if (typeof word !== 'string' || word === '') {
    throw new TypeError(`contains needs args.word, a non-empty string, got ${describe(word)}`);
  }
  return (record: unknown) => textOf('contains', record).includes(word);
}

/** The built-in record functions and reducers, by the name a job uses. */
export const builtinFunctions: Readonly<Record<string, JobFunction>> = {
  splitWords,
  hashtags,
  parseJson,
  identity,
  sum,
  count,
  min,
  max,
  concat,
};

/** The built-in parameterised functions, by name; each takes the op's `args`. */
export const builtinFactories: Readonly<Record<string, FunctionFactory>> = {
  pick,
  rename,
  field,
  pair,
  toPair,
  contains,
};

// ---- checks -------------------------------------------------------------------------------------------------

/** A value and its type for messages: `"abc" (string)`. */
function describe(value: unknown): string {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `${preview(value)} (${type})`;
}

function numbers(name: string, a: unknown, b: unknown): [number, number] {
  for (const value of [a, b]) {
    if (typeof value !== 'number') throw new TypeError(`${name} expects numbers, got ${describe(value)}`);
  }
  return [a as number, b as number];
}

/** Rejects args a factory does not know, so a typo such as `"feild"` fails at build time. */
function onlyArgs(name: string, args: FnArgs, known: readonly string[]): void {
  for (const key of Object.keys(args)) {
    if (!known.includes(key)) {
      throw new TypeError(`${name} takes args ${known.map((k) => `"${k}"`).join(', ')}, not "${key}"`);
    }
  }
}

function comparable(name: string, a: unknown, b: unknown): [number, number] | [string, string] {
  if (typeof a === 'number' && typeof b === 'number') return [a, b];
  if (typeof a === 'string' && typeof b === 'string') return [a, b];
  throw new TypeError(`${name} expects two numbers or two strings, got ${describe(a)} and ${describe(b)}`);
}

function objectRecord(name: string, record: unknown): Record<string, unknown> {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new TypeError(`${name} expects an object record, got ${describe(record)}`);
  }
  return record as Record<string, unknown>;
}

function textOf(name: string, record: unknown): string {
  if (typeof record === 'string') return record;
  const text =
    record !== null && typeof record === 'object' ? (record as { text?: unknown }).text : undefined;
  if (typeof text === 'string') return text;
  throw new TypeError(`${name} expects a string or an object with a string "text", got ${describe(record)}`);
}

function fieldName(name: string, arg: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`${name} needs args.${arg}, a field name, got ${describe(value)}`);
  }
  return value;
}

function stringList(name: string, arg: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string')) {
    throw new TypeError(
      `${name} needs args.${arg}, a non-empty array of field names, got ${describe(value)}`,
    );
  }
  return value as string[];
}
