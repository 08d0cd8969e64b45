/**
 * The functions a JSON job can name without a module of its own. Each is small and pure. A function given a
 * record of the wrong type throws a `TypeError` that names the value: the engine then sends that record to the
 * dead-letter output instead of producing garbage. Reducers behave the same for the values they combine.
 *
 * Record functions take a record; factories take the op's `args` and return a record function.
 */
import { withFirstValue } from '../dataset/checkedReducer';
import type { State } from '../dataset/State';
import { preview } from '../errors';
import type { FnArgs } from './JobDocument';

/** A function a job names: a record function, a reducer, or a dataset function for `transform`. */
export type JobFunction = (...args: any[]) => any;

/**
 * What a registered function is for, when the registry knows it; validation rejects a name of another kind
 * where a field needs one kind (`invFn` naming `splitWords`). Functions registered without a kind are trusted.
 *
 * - `record`: one record in, one value out (map, flatMap, filter, keyBy, combineByKey's createCombiner, …)
 * - `reducer`: `(a, b) => value`, associative (reduce, reduceByKey, a window's `fn` and `invFn`, combineByKey's
 *   mergeValue and mergeCombiners)
 * - `update`: updateStateByKey's `(values, state) => state | undefined | null` (both remove the key)
 * - `mapWithState`: mapWithState's `(key, value, state, batchTime) => record | undefined`
 * - `partition`: mapPartitions' `(records, partition, fail) => records`
 * - `transform`: transform's `(dataset, batchTime) => dataset`
 * - `transformWith`: transformWith's `(mine, theirs, batchTime) => dataset`
 * - `foreachRDD`: a foreachRDD output's `(dataset, batchTime) => void`
 */
export type FunctionKind =
  | 'record'
  | 'reducer'
  | 'update'
  | 'mapWithState'
  | 'partition'
  | 'transform'
  | 'transformWith'
  | 'foreachRDD';

/** How messages name each kind. */
export const FUNCTION_KIND_NAMES: Readonly<Record<FunctionKind, string>> = {
  record: 'a record function',
  reducer: 'a reducer (a, b) => value',
  update: 'an updateStateByKey function (values, state) => state',
  mapWithState: 'a mapWithState function (key, value, state, batchTime) => record',
  partition: 'a mapPartitions function (records, partition, fail) => records',
  transform: 'a transform function (dataset, batchTime) => dataset',
  transformWith: 'a transformWith function (mine, theirs, batchTime) => dataset',
  foreachRDD: 'a foreachRDD function (dataset, batchTime) => void',
};

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

/**
 * How deep a parsed value may nest. JSON.parse itself takes any depth, but everything recursive after it
 * (writing a shuffle, hashing a key, printing) overflows the stack a few thousand levels down, and a task that
 * overflows on a record fails on every retry; real records nest a few levels.
 */
export const MAX_JSON_DEPTH = 1000;

/**
 * Parses a JSON line; malformed input, a value nested deeper than {@link MAX_JSON_DEPTH} levels, or a number too large
 * for a double (`1e400`, which JSON.parse reads as Infinity and every output then writes as null) throws, so the
 * engine dead-letters the record with the reason.
 */
export function parseJson(line: unknown): unknown {
  if (typeof line !== 'string') throw new TypeError(`parseJson expects a string, got ${describe(line)}`);
  const value: unknown = JSON.parse(line);
  // A value n levels deep takes at least 2n characters, and a number beyond a double's range an exponent of three
  // digits or two hundred digits in a row: short plain lines, nearly all, need no walk.
  if (line.length > 2 * MAX_JSON_DEPTH || MAYBE_TOO_LARGE.test(line)) {
    const problem = unparsable(value, MAX_JSON_DEPTH);
    if (problem !== undefined) throw new RangeError(`parseJson refuses ${problem}`);
  }
  return value;
}

/** Text that may hold a number beyond ±1.8e308: a three-digit exponent, or as many digits as no such number lacks. */
const MAYBE_TOO_LARGE = /[eE]\+?\d{3}|\d{200}/;

/** A value met while walking a parsed record, with the step from its parent; the path is made only when needed. */
interface Walked {
  readonly value: unknown;
  readonly depth: number;
  readonly parent?: Walked;
  readonly step?: string | number;
}

/**
 * Why a parsed value cannot be a record (it nests deeper than `limit` arrays and objects, or holds ±Infinity),
 * completing "parseJson refuses …", or undefined; an explicit stack, never recursion.
 */
function unparsable(value: unknown, limit: number): string | undefined {
  const stack: Walked[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const walked = stack.pop()!;
    const { value: v, depth } = walked;
    if (typeof v === 'number' && !Number.isFinite(v)) {
      return `the number at ${pathOf(walked)}: it is beyond ±1.8e308, too large for a double, and reads as ${v}`;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > limit) return `a value nested deeper than ${limit} levels`;
    const entries: Iterable<[string | number, unknown]> = Array.isArray(v) ? v.entries() : Object.entries(v);
    for (const [step, child] of entries) stack.push({ value: child, depth: depth + 1, parent: walked, step });
  }
  return undefined;
}

/** Where a walked value is in its record: `$.user.scores[2]`, `$["odd name"]`. */
function pathOf(walked: Walked): string {
  const steps: string[] = [];
  for (let at: Walked | undefined = walked; at?.parent !== undefined; at = at.parent) {
    const step = at.step!; // Every value but the record itself has a step from its parent.
    steps.push(
      typeof step === 'number'
        ? `[${step}]`
        : /^[A-Za-z_$][\w$]*$/.test(step)
          ? `.${step}`
          : `[${JSON.stringify(step)}]`,
    );
  }
  return `$${steps.reverse().join('')}`;
}

/** The record itself. */
export function identity<T>(record: T): T {
  return record;
}

/** The key of a `[key, value]` pair (Spark's `rdd.keys`, as a map). */
export function key(record: unknown): unknown {
  return pairOf('key', record)[0];
}

/** The value of a `[key, value]` pair (Spark's `rdd.values`, as a map). */
export function value(record: unknown): unknown {
  return pairOf('value', record)[1];
}

/** The record as a pair, or a TypeError naming the function and the record. */
function pairOf(name: string, record: unknown): readonly [unknown, unknown] {
  if (Array.isArray(record) && record.length === 2) return record as [unknown, unknown];
  throw new TypeError(`${name} needs a [key, value] pair, got ${describe(record)}`);
}

// ---- reducers -----------------------------------------------------------------------------------------------

/**
 * A reducer over two operands of the kinds `operands` accepts (it throws, naming the reducer, on any other), which
 * checks a key's first value with the same rule.
 */
function reducer<T>(
  name: string,
  operands: (name: string, a: unknown, b: unknown) => [T, T],
  reduce: (x: T, y: T) => T,
) {
  const fn = (a: unknown, b: unknown): T => {
    const [x, y] = operands(name, a, b);
    return reduce(x, y);
  };
  Object.defineProperty(fn, 'name', { value: name });
  return withFirstValue(fn, (v) => operands(name, v, v)[0]);
}

/** Adds two numbers. */
export const sum = reducer('sum', numbers, (x, y) => x + y);

/**
 * `a − b` for two numbers: the inverse of `sum` and `count`, as the `invFn` of an incremental window
 * (`reduceByKeyAndWindow` with `"fn": "sum", "invFn": "subtract"`), which takes the values of the batches that
 * left the window out of the previous window's result.
 */
export const subtract = reducer('subtract', numbers, (x, y) => x - y);

/**
 * Counts records whose value is 1: the same addition as `sum`, named for what it means. Map each record to
 * `[key, 1]` first (`{"op":"map","expr":"[$, 1]"}`), then `reduceByKey` with `count`.
 */
export const count = reducer('count', numbers, (x, y) => x + y);

/** The smaller of two numbers, or of two strings by code units. Mixing the two throws. */
// biome-ignore lint/complexity/useMathMinMax: strings are compared too, which Math.min cannot do
export const min = reducer<number | string>('min', comparable, (x, y) => (y < x ? y : x));

/** The larger of two numbers, or of two strings by code units. Mixing the two throws. */
// biome-ignore lint/complexity/useMathMinMax: strings are compared too, which Math.max cannot do
export const max = reducer<number | string>('max', comparable, (x, y) => (y > x ? y : x));

/**
 * Two arrays or two strings, joined. Arrays are copied rather than extended in place, because with
 * `reduceByKey` the first value is the record's own array, which an input block may still hold.
 */
export const concat = withFirstValue(
  function concat(a: unknown, b: unknown): unknown[] | string {
    if (Array.isArray(a) && Array.isArray(b)) return a.concat(b);
    if (typeof a === 'string' && typeof b === 'string') return a + b;
    throw new TypeError(`concat expects two arrays or two strings, got ${describe(a)} and ${describe(b)}`);
  },
  (v) => {
    if (Array.isArray(v) || typeof v === 'string') return v;
    throw new TypeError(`concat expects arrays or strings, got ${describe(v)}`);
  },
);

// ---- state functions --------------------------------------------------------------------------------------

/**
 * updateStateByKey: how many records each key has received, `(state ?? 0) + values.length`, whatever the
 * values are. A key without new values keeps its count; keys are never removed. An initial state must be a
 * number (a `TypeError` otherwise: as with any error of an update function, the key's records are
 * dead-lettered and its state stays as it was).
 */
export function countState(values: unknown, state: unknown): number {
  const list = valueList('countState', values);
  return numericState('countState', state) + list.length;
}

/**
 * updateStateByKey: the running sum of each key's numeric values, `(state ?? 0) + Σ values`. A non-numeric
 * value or state throws a `TypeError` naming it (the record is dead-lettered). A key without new values keeps its
 * sum; keys are never removed.
 */
export function sumState(values: unknown, state: unknown): number {
  let total = numericState('sumState', state);
  for (const value of valueList('sumState', values)) {
    if (typeof value !== 'number') throw new TypeError(`sumState expects numbers, got ${describe(value)}`);
    total += value;
  }
  return total;
}

/**
 * mapWithState: counts the records of each key. Every record `[key, value]` (any value) adds one to the key's
 * state and yields `[key, countSoFar]`, so the stream says, per record, how many records its key has seen up
 * to and including this one; `stateSnapshots` gives every key's count. With `timeoutMs`, a key idle that long
 * is dropped silently (no record) and counts from 1 again when it comes back. A non-numeric state (from
 * `initialState`) throws a `TypeError`, and the record is dead-lettered.
 */
export function runningCount(
  key: unknown,
  _value: unknown,
  state: State<unknown>,
): [unknown, number] | undefined {
  if (state.isTimingOut()) return undefined;
  const count = (state.exists() ? numericState('runningCount', state.get()) : 0) + 1;
  state.update(count);
  return [key, count];
}

/** The state of {@link sessionCount}: the open session of one key. */
export interface SessionState {
  /** Records received in the session. */
  readonly count: number;
  /** The batch time of its first record. */
  readonly startMs: number;
  /** The batch time of its latest record. */
  readonly endMs: number;
}

/**
 * mapWithState, for sessions: counts each key's records per session, and outputs a session when it ends.
 * A session ends when the key times out (mapWithState's `timeoutMs`, which this function needs; validation
 * insists on it): at the first batch that brings the key no record while its latest record is more than
 * `timeoutMs` old. While a session is open each record only updates the state `{ count, startMs, endMs }`
 * (the batch times of its first and latest records) and yields nothing; when it ends the function yields
 * `[key, { count, startMs, endMs }]` once and the state is dropped, so the key's next record opens a new
 * session. The stream holds the closed sessions, `stateSnapshots` the open ones. With 1 s batches and
 * `timeoutMs` 1000, records at 1000 and 2000 and none at 3000 give `[key, { count: 2, startMs: 1000, endMs:
 * 2000 }]` at 4000. A state of another shape (from `initialState`) throws a `TypeError`, and the record is
 * dead-lettered.
 */
export function sessionCount(
  key: unknown,
  _value: unknown,
  state: State<unknown>,
  batchTime: number,
): [unknown, SessionState] | undefined {
  if (state.isTimingOut()) return [key, sessionState(state.get())];
  if (!state.exists()) {
    state.update({ count: 1, startMs: batchTime, endMs: batchTime });
    return undefined;
  }
  const session = sessionState(state.get());
  state.update({ count: session.count + 1, startMs: session.startMs, endMs: batchTime });
  return undefined;
}

// ---- factories ----------------------------------------------------------------------------------------------

/** `args.fields`: an object with only those fields of the record (missing ones left out). */
export function pick(args: FnArgs): JobFunction {
  onlyArgs('pick', args, ['fields']);
  const fields = stringList('pick', 'fields', args.fields);
  return (record: unknown) => {
    const source = objectRecord('pick', record);
    const out: Record<string, unknown> = {};
    for (const field of fields) if (Object.hasOwn(source, field)) setField(out, field, source[field]);
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
  // Two fields renamed to one name would keep only the later one's value, silently.
  const renamedFrom = new Map<string, string>();
  for (const [from, to] of entries as [string, string][]) {
    const earlier = renamedFrom.get(to);
    if (earlier !== undefined) {
      throw new TypeError(
        `rename: fields "${earlier}" and "${from}" would both become "${to}"; give each its own name`,
      );
    }
    renamedFrom.set(to, from);
  }
  const renames = new Map(entries as [string, string][]);
  return (record: unknown) => {
    const source = objectRecord('rename', record);
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(source)) setField(out, renames.get(key) ?? key, value);
    return out;
  };
}

/** `args.field`: the value of that field, or null when the record lacks it. */
export function field(args: FnArgs): JobFunction {
  onlyArgs('field', args, ['field']);
  const name = fieldName('field', 'field', args.field);
  return (record: unknown) => ownField(objectRecord('field', record), name);
}

/** `args.field`: the pair `[record[field], record]`, keying a record by one of its fields. */
export function pair(args: FnArgs): JobFunction {
  onlyArgs('pair', args, ['field']);
  const name = fieldName('pair', 'field', args.field);
  return (record: unknown) => [ownField(objectRecord('pair', record), name), record];
}

/** `args.key` and `args.value`: the pair `[record[key], record[value]]`, missing fields as null. */
export function toPair(args: FnArgs): JobFunction {
  onlyArgs('toPair', args, ['key', 'value']);
  const key = fieldName('toPair', 'key', args.key);
  const value = fieldName('toPair', 'value', args.value);
  return (record: unknown) => {
    const source = objectRecord('toPair', record);
    return [ownField(source, key), ownField(source, value)];
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
  key,
  value,
  sum,
  subtract,
  count,
  min,
  max,
  concat,
  countState,
  sumState,
  runningCount,
  sessionCount,
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

/**
 * The kind of every built-in, functions and factories (factories make record functions); a built-in that fits
 * several kinds lists them, the one messages name it by first.
 */
export const builtinKinds: Readonly<Record<string, FunctionKind | readonly FunctionKind[]>> = {
  splitWords: 'record',
  hashtags: 'record',
  parseJson: 'record',
  // Returning its first argument unchanged, it is a no-op wherever the first argument is also the result.
  identity: ['record', 'partition', 'transform', 'transformWith', 'foreachRDD'],
  key: 'record',
  value: 'record',
  sum: 'reducer',
  subtract: 'reducer',
  count: 'reducer',
  min: 'reducer',
  max: 'reducer',
  concat: 'reducer',
  countState: 'update',
  sumState: 'update',
  runningCount: 'mapWithState',
  sessionCount: 'mapWithState',
  pick: 'record',
  rename: 'record',
  field: 'record',
  pair: 'record',
  toPair: 'record',
  contains: 'record',
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

/** updateStateByKey's list of new values. */
function valueList(name: string, values: unknown): readonly unknown[] {
  if (!Array.isArray(values))
    throw new TypeError(`${name} expects a list of values, got ${describe(values)}`);
  return values;
}

/** A numeric state, 0 when there is none yet. */
function numericState(name: string, state: unknown): number {
  if (state === undefined) return 0;
  if (typeof state !== 'number')
    throw new TypeError(`${name} expects a numeric state, got ${describe(state)}`);
  return state;
}

function sessionState(state: unknown): SessionState {
  const s = state as Partial<SessionState> | null;
  if (
    s === null ||
    typeof s !== 'object' ||
    typeof s.count !== 'number' ||
    typeof s.startMs !== 'number' ||
    typeof s.endMs !== 'number'
  ) {
    throw new TypeError(`sessionCount expects a state {count, startMs, endMs}, got ${describe(state)}`);
  }
  return s as SessionState;
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

/**
 * A record's own field, null when it has none: reading `record[name]` alone would find what every object inherits,
 * so `field` of "valueOf" or "constructor" on a record without one would give a function, not null.
 */
function ownField(record: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(record, name) ? (record[name] ?? null) : null;
}

/**
 * Sets a field of a record being built as an own data property. Assigning "__proto__" would call the setter every
 * object inherits instead, so a record's own "__proto__" field (JSON.parse makes one) would vanish from the result.
 */
function setField(out: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__') {
    Object.defineProperty(out, name, { value, writable: true, enumerable: true, configurable: true });
  } else out[name] = value;
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
