import { setFlagsFromString } from 'node:v8';
import jsonata from 'jsonata';

/**
 * What one evaluation of an inline JSONata expression may spend on one record. Past any limit the evaluation
 * stops with an error that names the limit, and the engine dead-letters that record: a hostile or careless
 * expression (infinite recursion, a loop, a sort of a million items) costs one record, never the job.
 */
export interface ExpressionBudget {
  /** Wall-clock time per record, in ms. Default 1000. */
  readonly timeMs: number;
  /** Nesting of evaluation steps (recursion counts), as JSONata's `stack` option counts it. Default 500. */
  readonly depth: number;
  /** Items of any one list the expression builds or reads (a range `[1..n]`, a sequence, `$`). Default 100,000. */
  readonly items: number;
  /** Characters of any one string the expression builds or reads (`$pad`, `&`, `$`). Default 10,000,000. */
  readonly chars: number;
}

/** The budget of an expression whose job document sets none (the `expressionBudget` field). */
export const DEFAULT_EXPRESSION_BUDGET: ExpressionBudget = {
  timeMs: 1000,
  depth: 500,
  items: 100_000,
  chars: 10_000_000,
};

/** The budget a job document asks for, each missing field at its default. */
export function expressionBudgetOf(fields: Partial<ExpressionBudget> | undefined): ExpressionBudget {
  return { ...DEFAULT_EXPRESSION_BUDGET, ...fields };
}

// JSONata checks time and depth only between evaluation steps: one regular expression match is a single step
// that a backtracking engine can spend hours in (`/(a+)+$/` on 40 characters). V8's linear-time engine runs
// such patterns in time linear in the input; it is opt-in per pattern (the `l` flag) behind this flag. A V8
// that lacks the flag simply rejects the `l` flag, and then every pattern is judged by its shape alone.
try {
  setFlagsFromString('--enable-experimental-regexp-engine');
} catch {
  // Not every V8 knows the flag; patterns are then checked by shape (see BoundedRegExp).
}

/** A message for a pattern that could backtrack without bound; undefined when it cannot. */
export function unboundedRegexReason(source: string, flags: string): string | undefined {
  try {
    new RegExp(source, `${flags.replace('l', '')}l`);
    return undefined; // the linear-time engine takes it: no backtracking at all
  } catch {
    // The linear engine refuses it (case-insensitive, backreferences, lookaround, large counts): judge its shape.
  }
  if (/\\[1-9]|\\k</.test(source)) {
    return `the regular expression /${source}/ uses a backreference, which can take exponential time; match without one`;
  }
  if (/\(\?<?[=!]/.test(source)) {
    return `the regular expression /${source}/ uses lookaround, which can take exponential time; match without it`;
  }
  if (hasNestedRepetition(source)) {
    return `the regular expression /${source}/ repeats a group that itself repeats or has alternatives (such as (a+)+ or (a|b)*), which can take exponential time on a record that almost matches; rewrite it without the nesting`;
  }
  return undefined;
}

/**
 * True when a quantified group contains a quantifier or an alternation: the shapes that backtrack
 * exponentially. A scan of the pattern's text, aware of escapes and character classes.
 */
function hasNestedRepetition(source: string): boolean {
  // For every open group: whether it holds a quantifier or an alternation so far.
  const groups: boolean[] = [];
  let inClass = false;
  let closedRisky = false; // the group that just closed held a quantifier or alternation
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      closedRisky = false;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    const quantifier = c === '*' || c === '+' || c === '?' || c === '{';
    // `?` repeats at most once: `(a+)?` cannot blow up, `(a+)*` and `(a|ab){2,}` can.
    if (closedRisky && (c === '*' || c === '+' || c === '{')) return true;
    if (c === '[') inClass = true;
    else if (c === '(') {
      groups.push(false);
      // `(?:`, `(?<name>`, `(?=`: the `?` opens a group kind, it is not a quantifier.
      if (source[i + 1] === '?') i += source[i + 2] === '<' && /[=!]/.test(source[i + 3] ?? '') ? 3 : 2;
    } else if (c === ')') {
      closedRisky = groups.pop() ?? false;
      if (closedRisky && groups.length > 0) groups[groups.length - 1] = true;
      continue;
    } else if (c === '|' || quantifier) {
      if (groups.length > 0) groups[groups.length - 1] = true;
    }
    closedRisky = false;
  }
  return false;
}

/**
 * The regular expression class JSONata uses for every regex literal of a bounded expression (`$eval` included):
 * the linear-time engine when it takes the pattern, the ordinary one for a pattern that cannot backtrack
 * without bound, and an error for the rest.
 */
function BoundedRegExp(pattern: RegExp | string, flags?: string): RegExp {
  const source = typeof pattern === 'string' ? pattern : pattern.source;
  const allFlags = flags ?? (typeof pattern === 'string' ? '' : pattern.flags);
  const reason = unboundedRegexReason(source, allFlags);
  if (reason !== undefined) throw { code: 'SLUICE_REGEX', message: reason };
  try {
    return new RegExp(source, `${allFlags}l`);
  } catch {
    return new RegExp(source, allFlags);
  }
}

/** The regex literals of a compiled expression, for checking them before any record is seen. */
export function regexLiteralsOf(ast: unknown): RegExp[] {
  const found: RegExp[] = [];
  const pending: unknown[] = [ast];
  const seen = new Set<unknown>(); // the tree links some nodes to their ancestors
  while (pending.length > 0) {
    const node = pending.pop();
    if (seen.has(node)) continue;
    seen.add(node);
    if (node instanceof RegExp) found.push(node);
    else if (Array.isArray(node)) pending.push(...node);
    else if (node !== null && typeof node === 'object') pending.push(...Object.values(node));
  }
  return found;
}

/**
 * Compiles `source` so that every evaluation runs under `budget`: JSONata's own guardrails for time and
 * depth (checked at every evaluation step), its sequence limit for ranges and sequences, an exit hook that
 * stops any step yielding a longer list, and {@link BoundedRegExp} for regular expressions. Throws what
 * `jsonata()` throws for a syntax error.
 */
export function compileBounded(source: string, budget: ExpressionBudget): jsonata.Expression {
  const expression = jsonata(source, {
    timeout: budget.timeMs,
    stack: budget.depth,
    sequence: budget.items,
    RegexEngine: BoundedRegExp as unknown as RegExpConstructor, // JSONata calls it with `new`; a function returning an object is a valid constructor
  });
  const { items, chars } = budget;
  // The exit hook sees every step's result: a list longer than the budget (the record itself, `$keys` of a
  // huge object) stops the evaluation before a sort or a join spends time and memory on it. So does a string
  // longer than its budget: JSONata's string functions (`$length`, `$substring`) copy a string into an array of
  // its characters, which past about 134 million is a fatal error of V8 that no catch sees: the process dies.
  const onExit = (_expr: unknown, _input: unknown, _env: unknown, result: unknown): void => {
    if (Array.isArray(result)) {
      if (result.length > items) throw { code: 'SLUICE_ITEMS', value: result.length };
    } else if (typeof result === 'string' && result.length > chars) {
      throw { code: 'SLUICE_CHARS', value: result.length };
    }
  };
  // assign binds any key; JSONata looks its evaluation hooks up under these symbols.
  expression.assign(Symbol.for('jsonata.__evaluate_exit') as unknown as string, onExit);
  bindSizedBuiltins(expression, chars);
  return expression;
}

/** A JSONata built-in's implementation, looked up once (evaluating `$name` gives the function). */
const builtins = new Map<string, Promise<(...args: unknown[]) => unknown>>();
function builtin(name: string): Promise<(...args: unknown[]) => unknown> {
  let found = builtins.get(name);
  if (found === undefined) {
    found = (
      jsonata(`$${name}`).evaluate({}) as Promise<{ implementation: (...args: unknown[]) => unknown }>
    ).then((fn) => fn.implementation);
    builtins.set(name, found);
  }
  return found;
}

/**
 * Replaces the built-ins that take a size as a number, and would build a string of that size inside a single
 * step, where the exit hook cannot stop them before the fatal error above: `$pad` to a width, and `$fromMillis`
 * with a width in its picture (`[Y,200000000]`). Past `chars`, the record stops with the chars budget's error.
 */
function bindSizedBuiltins(expression: jsonata.Expression, chars: number): void {
  const refuse = (size: number) => {
    throw { code: 'SLUICE_CHARS', value: size };
  };
  expression.registerFunction(
    'pad',
    async function (this: unknown, str: unknown, width: unknown, char?: unknown) {
      const unit = typeof char === 'string' && char.length > 1 ? char.length : 1;
      if (typeof width === 'number' && Math.abs(width) * unit > chars) refuse(Math.abs(width) * unit);
      return (await builtin('pad')).call(this, str, width, char);
    },
    '<s-ns?:s>',
  );
  expression.registerFunction(
    'fromMillis',
    async function (this: unknown, millis: unknown, picture?: unknown, timezone?: unknown) {
      if (typeof picture === 'string') {
        for (const marker of picture.match(/\[[^\]]*\]/g) ?? []) {
          for (const digits of marker.match(/\d+/g) ?? []) if (Number(digits) > chars) refuse(Number(digits));
        }
      }
      return (await builtin('fromMillis')).call(this, millis, picture, timezone);
    },
    '<n-s?s?:s>',
  );
}

/**
 * A sentence for an evaluation error that a budget limit caused, naming the limit and the field that sets it;
 * undefined for any other error.
 */
export function budgetExceeded(error: unknown, budget: ExpressionBudget): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'D1011':
      return `went deeper than its depth budget of ${budget.depth} steps (expressionBudget.depth); a recursive function that never ends does`;
    case 'D1012':
      return `ran past its time budget of ${budget.timeMs} ms per record (expressionBudget.timeMs)`;
    case 'D2014':
    case 'D2015':
    case 'SLUICE_ITEMS':
      return `made or read a list longer than its items budget of ${budget.items} (expressionBudget.items)`;
    case 'SLUICE_CHARS':
      return `made or read a string longer than its chars budget of ${budget.chars} characters (expressionBudget.chars)`;
    case 'SLUICE_REGEX':
      return (error as { message: string }).message;
    default:
      return undefined;
  }
}
