import type jsonata from 'jsonata';
import { JobValidationError } from '../errors';
import {
  builtinFactories,
  builtinFunctions,
  builtinKinds,
  FUNCTION_KIND_NAMES,
  type FunctionFactory,
  type FunctionKind,
  type JobFunction,
} from './builtinFunctions';
import {
  budgetExceeded,
  compileBounded,
  DEFAULT_EXPRESSION_BUDGET,
  type ExpressionBudget,
  regexLiteralsOf,
  unboundedRegexReason,
} from './ExpressionBudget';
import { importModuleFile } from './importModuleFile';
import { type FnArgs, unknownNameMessage } from './JobDocument';

/** An inline expression made callable: evaluates a JSONata expression on one record. */
export type ExpressionFunction = (record: unknown) => Promise<unknown>;

/**
 * The functions a JSON job can name: the built-ins, plus those of the job's `functions` module. A name maps to
 * a function, or to a factory that makes one from the op's `args` (`field` with `{ "field": "user" }`). Inline
 * `expr` fields become functions here too, compiled once as JSONata, never as JavaScript.
 *
 * @example
 * const registry = new FunctionRegistry();
 * registry.register('double', (x: number) => x * 2);
 * registry.registerFactory('times', (args) => (x: number) => x * (args.factor as number));
 * registry.resolve('times', { factor: 3 }, 'streams.s.ops[0].fn')(2); // 6
 *
 * A registration may say what kind of function it is (`registry.register('minus', f, 'reducer')`); then
 * validation rejects the name where an op needs another kind, as it does for the built-ins.
 */
export class FunctionRegistry {
  private readonly functions = new Map<string, JobFunction>();
  private readonly factories = new Map<string, FunctionFactory>();
  /** The kinds of each function registered with any, the one messages name it by first. */
  private readonly kinds = new Map<string, readonly FunctionKind[]>();

  /** A registry holding the built-ins; `{ builtins: false }` starts empty. */
  constructor(options: { readonly builtins?: boolean } = {}) {
    if (options.builtins === false) return;
    for (const [name, fn] of Object.entries(builtinFunctions)) this.register(name, fn, builtinKinds[name]);
    for (const [name, factory] of Object.entries(builtinFactories)) {
      this.registerFactory(name, factory, builtinKinds[name]);
    }
  }

  /**
   * Registers a function under `name`, replacing any function or factory of that name (built-ins too), and
   * its kind when given, or its kinds when it fits several (a replaced built-in's kind is forgotten).
   */
  register(name: string, fn: JobFunction, kind?: FunctionKind | readonly FunctionKind[]): this {
    checkName(name);
    if (typeof fn !== 'function')
      throw new TypeError(`function "${name}" must be a function, got ${typeof fn}`);
    this.factories.delete(name);
    this.functions.set(name, fn);
    this.setKind(name, kind);
    return this;
  }

  /**
   * Registers a parameterised function: `factory(args)` makes the function an op uses, of `kind` (or kinds)
   * when given. Replaces `name`.
   */
  registerFactory(
    name: string,
    factory: FunctionFactory,
    kind?: FunctionKind | readonly FunctionKind[],
  ): this {
    checkName(name);
    if (typeof factory !== 'function') {
      throw new TypeError(`factory "${name}" must be a function, got ${typeof factory}`);
    }
    this.functions.delete(name);
    this.factories.set(name, factory);
    this.setKind(name, kind);
    return this;
  }

  /**
   * The kind `name` was registered with, the first of several; undefined when unknown (or when no kind was given).
   */
  kindOf(name: string): FunctionKind | undefined {
    return this.kinds.get(name)?.[0];
  }

  /**
   * {@link resolve}, then a check that a function of known kind is of the kind the field needs: `invFn` naming
   * `splitWords` throws a `JobValidationError` at `path` saying what the name is and what the field needs.
   */
  resolveKind(name: string, args: FnArgs | undefined, path: string, kind: FunctionKind): JobFunction {
    const fn = this.resolve(name, args, path);
    const actual = this.kinds.get(name); // never an empty list: setKind deletes instead
    if (actual !== undefined && !actual.includes(kind)) {
      throw new JobValidationError([
        {
          path,
          message: `"${name}" is ${FUNCTION_KIND_NAMES[actual[0]!]}, but this field needs ${FUNCTION_KIND_NAMES[kind]}${kindHint(kind, this)}`,
          value: name,
        },
      ]);
    }
    return fn;
  }

  private setKind(name: string, kind: FunctionKind | readonly FunctionKind[] | undefined): void {
    const kinds: readonly FunctionKind[] = kind === undefined ? [] : typeof kind === 'string' ? [kind] : kind;
    for (const k of kinds) {
      if (!Object.hasOwn(FUNCTION_KIND_NAMES, k)) throw new TypeError(`unknown function kind ${String(k)}`);
    }
    if (kinds.length === 0) this.kinds.delete(name);
    else this.kinds.set(name, [...kinds]);
  }

  /** True when `name` is registered, as a function or a factory. */
  has(name: string): boolean {
    return this.functions.has(name) || this.factories.has(name);
  }

  /** Every registered name, sorted. */
  get names(): string[] {
    return [...this.functions.keys(), ...this.factories.keys()].sort();
  }

  /**
   * The function an op names. `path` is where the name sits in the document (`streams.tags.ops[0].fn`); an
   * unknown name, args given to a plain function, or args a factory rejects throw a `JobValidationError` there.
   */
  resolve(name: string, args: FnArgs | undefined, path: string): JobFunction {
    const fn = this.functions.get(name);
    if (fn !== undefined) {
      if (args !== undefined) {
        throw new JobValidationError([{ path, message: `function "${name}" takes no args`, value: args }]);
      }
      return fn;
    }
    const factory = this.factories.get(name);
    if (factory === undefined) {
      throw new JobValidationError([
        { path, message: unknownNameMessage('function', name, this.names), value: name },
      ]);
    }
    let made: unknown;
    try {
      made = factory(args ?? {});
    } catch (error) {
      throw new JobValidationError([
        { path, message: `function "${name}": ${messageOf(error)}`, value: args },
      ]);
    }
    if (typeof made !== 'function') {
      throw new JobValidationError([
        { path, message: `factory "${name}" returned ${typeof made} instead of a function`, value: args },
      ]);
    }
    return made as JobFunction;
  }

  /**
   * An inline JSONata expression as a function of one record (bound to `$`). It is compiled once, here: a syntax
   * error, or a regular expression that could backtrack without bound, throws a `JobValidationError` at `path`.
   * Every evaluation runs under `budget` (time, depth, list length); an error while evaluating a record, a
   * spent budget included, rejects with an `Error` that names the path, so the engine dead-letters that record.
   */
  expression(
    source: string,
    path: string,
    budget: ExpressionBudget = DEFAULT_EXPRESSION_BUDGET,
  ): ExpressionFunction {
    let compiled: jsonata.Expression;
    try {
      compiled = compileBounded(source, budget);
    } catch (error) {
      // JSONata's parser recurses once per nesting level: a deep enough expression overflows the stack.
      if (error instanceof RangeError) {
        throw new JobValidationError([
          {
            path,
            message: 'the JSONata expression is nested too deeply to compile',
            value: source.slice(0, 80),
          },
        ]);
      }
      const position = (error as { position?: unknown }).position;
      const where = typeof position === 'number' ? ` at character ${position}` : '';
      throw new JobValidationError([
        { path, message: `JSONata syntax error${where}: ${messageOf(error)}`, value: source },
      ]);
    }
    for (const regex of regexLiteralsOf(compiled.ast())) {
      const reason = unboundedRegexReason(regex.source, regex.flags);
      if (reason !== undefined) throw new JobValidationError([{ path, message: reason, value: source }]);
    }
    return async (record) => {
      let result: unknown;
      try {
        result = await compiled.evaluate(record);
      } catch (error) {
        // JSONata rejects with plain objects, not Errors; wrap them so dead letters carry a readable message.
        const spent = budgetExceeded(error, budget);
        throw new Error(`the expression at ${path} ${spent ?? `failed: ${messageOf(error)}`}`);
      }
      // A function (`function($x){…}`, `$uppercase`, `$substring(?, 1)`) is no record: no output can write it, no
      // thread can send it, and JSON turns it into a circular structure. A number past ±1.8e308 (JSONata checks
      // products, D1001, but not sums: `1.7e308 + 1.7e308`) is written as null by every output, silently. Either
      // costs its record, not the batch. Only the result counts: an Infinity compared on the way is fine.
      const unwritable =
        typeof result === 'number'
          ? Number.isFinite(result)
            ? undefined
            : result
          : (typeof result === 'object' && result !== null) || typeof result === 'function'
            ? unwritablePart(result)
            : undefined;
      if (unwritable === 'function') {
        throw new Error(
          `the expression at ${path} gave a function, not a value; a record cannot hold one: call it, or leave it out`,
        );
      }
      if (unwritable !== undefined) {
        throw new Error(
          `the expression at ${path} gave ${unwritable}, a number JSON cannot write (every output would write null): keep its numbers within ±1.8e308`,
        );
      }
      return result;
    };
  }

  /**
   * Imports a module of user functions (an absolute file path) and registers what it exports: every exported
   * function under its export name, then, when the module exports `register(registry)`, whatever that adds or
   * replaces. A CommonJS module's `module.exports` object counts as its exports. A failed import throws a
   * `JobValidationError` at `path`.
   *
   * @example
   * // my-functions.ts
   * export const shout = (s: string) => s.toUpperCase();
   * export function register(registry: FunctionRegistry) {
   *   registry.registerFactory('prefix', (args) => (s: string) => `${args.text}${s}`);
   * }
   */
  async loadModule(file: string, path = 'functions'): Promise<void> {
    let module: Record<string, unknown>;
    try {
      module = await importModuleFile(file);
    } catch (error) {
      throw new JobValidationError([
        { path, message: `cannot load the functions module ${file}: ${messageOf(error)}`, value: file },
      ]);
    }
    await this.registerModule(module, file, path);
  }

  /**
   * Registers what a module's exports hold, as {@link loadModule} does for a file: the serverless runtime's
   * modules are bundled into the function and looked up by name, never imported from a path. `label` names the
   * module in errors.
   */
  async registerModule(module: Record<string, unknown>, label: string, path = 'functions'): Promise<void> {
    const commonJs = isPlainObject(module.default) ? module.default : {};
    const exports: Record<string, unknown> = { ...commonJs, ...module };
    for (const [name, value] of Object.entries(exports)) {
      if (name === 'default' || name === 'register' || typeof value !== 'function') continue;
      this.register(name, value as JobFunction);
    }
    const register = exports.register;
    if (register === undefined) return;
    if (typeof register !== 'function') {
      throw new JobValidationError([
        {
          path,
          message: `the functions module exports "register" but it is a ${typeof register}`,
          value: label,
        },
      ]);
    }
    try {
      await register(this);
    } catch (error) {
      throw new JobValidationError([
        { path, message: `register(registry) of ${label} failed: ${messageOf(error)}`, value: label },
      ]);
    }
  }
}

/**
 * `, such as sum, subtract, …`: the registered functions first of a kind, as a hint after a wrong one. A kind no
 * built-in is made for (`partition`, `transform`) points to the functions module instead; `identity`, a no-op
 * there, is no example.
 */
function kindHint(kind: FunctionKind, registry: FunctionRegistry): string {
  const names = registry.names.filter((name) => registry.kindOf(name) === kind);
  return names.length > 0
    ? `, such as ${names.join(', ')}`
    : `; export one from the job's "functions" module`;
}

function checkName(name: unknown): void {
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(`a function name must be a non-empty string, got ${JSON.stringify(name)}`);
  }
}

/**
 * What no output can write in a value an expression gave: `'function'` when it is, or holds, a function of JSONata's
 * or of JavaScript's; a number past ±1.8e308 (or NaN) it holds; undefined when it is all writable.
 */
function unwritablePart(value: unknown): 'function' | number | undefined {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'function') return 'function';
    if (typeof item !== 'object' || item === null) continue;
    if (Array.isArray(item)) {
      for (const element of item) {
        if (typeof element === 'object' || typeof element === 'function') pending.push(element);
        else if (typeof element === 'number' && !Number.isFinite(element)) return element;
      }
      continue;
    }
    const marked = item as { _jsonata_lambda?: unknown; _jsonata_function?: unknown };
    if (marked._jsonata_lambda === true || marked._jsonata_function === true) return 'function';
    for (const key in item) {
      const field = (item as Record<string, unknown>)[key];
      if (typeof field === 'object' || typeof field === 'function') pending.push(field);
      else if (typeof field === 'number' && !Number.isFinite(field)) return field;
    }
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error !== null && typeof error === 'object') {
    const { message, code } = error as { message?: unknown; code?: unknown };
    if (typeof message === 'string') return typeof code === 'string' ? `${message} (${code})` : message;
  }
  return String(error);
}
