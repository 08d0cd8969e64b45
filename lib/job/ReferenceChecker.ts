import { type JobIssue, JobValidationError } from '../errors';
import type { FunctionKind } from './builtinFunctions';
import { entriesOf, isObject } from './documentValues';
import { FunctionRegistry } from './FunctionRegistry';
import { childPath, jsonPath, unknownNameMessage } from './JobDocument';
import { generatorBatchIssues, MAX_SUGGESTIONS } from './jobLimits';
import type { OpChecks, OpEntry } from './ops/OpEntry';
import { datasetOpEntry, streamOpEntry } from './ops/opCatalogue';
import { outputCollisionIssues } from './outputCollisionIssues';
import { outputPathIssues } from './outputPathProblem';

type NameKind = 'source' | 'dataset' | 'stream';

/** An op's catalogue entry, by name, among the ops a stream or a static dataset accepts. */
type OpLookup = (name: string) => OpEntry<string, any> | undefined;

/**
 * The checks across fields. It reads the document defensively, as the schema may have found it malformed:
 * a field of the wrong type is skipped here, the schema has reported it already.
 */
export class ReferenceChecker {
  private readonly issues: JobIssue[] = [];
  private readonly kinds = new Map<string, NameKind>();
  /** Every stream's inputs that are streams, with the path of the field that names each. */
  private readonly streamDeps = new Map<string, { name: string; path: string }[]>();
  /** Compiles expressions; any registry can, so one exists even when function names are not checked. */
  private readonly compiler: FunctionRegistry;
  /** Each stream's last op, once worked out; `pending` while its inputs are worked out (a cycle). */
  private readonly lastOps = new Map<string, { readonly op: string | undefined } | 'pending'>();
  /** Unknown names that may still get suggestions: each costs an edit distance to every known name. */
  private suggestionsLeft = MAX_SUGGESTIONS;
  /** The stream whose references are being checked, left out of the names its messages suggest. */
  private checking: string | undefined;

  constructor(
    private readonly doc: Record<string, unknown>,
    private readonly functions: FunctionRegistry | undefined,
  ) {
    this.compiler = functions ?? new FunctionRegistry({ builtins: false });
  }

  check(): JobIssue[] {
    this.collectNames();
    for (const [name, spec] of entriesOf(this.doc.datasets)) {
      if (!isObject(spec)) continue;
      this.checkOps(spec.ops, jsonPath('datasets', name), datasetOpEntry, undefined);
    }
    for (const [name, spec] of entriesOf(this.doc.streams)) {
      if (!isObject(spec)) continue;
      const deps: { name: string; path: string }[] = [];
      this.streamDeps.set(name, deps);
      const path = jsonPath('streams', name);
      this.checking = name;
      if (typeof spec.from === 'string') {
        this.checkStreamRef(spec.from, childPath(path, 'from'), 'a stream starts from', deps);
      }
      this.checkOps(spec.ops, path, streamOpEntry, deps);
      this.checking = undefined;
    }
    (Array.isArray(this.doc.outputs) ? this.doc.outputs : []).forEach((output: unknown, i) => {
      if (!isObject(output)) return;
      const path = jsonPath('outputs', i);
      if (typeof output.stream === 'string') {
        this.checkStreamRef(output.stream, childPath(path, 'stream'), 'an output writes', undefined);
      }
      if (output.type === 'foreachRDD') this.checkFunction(output, 'fn', path, 'foreachRDD');
    });
    this.checkCycles();
    for (const name of Object.keys(isObject(this.doc.streams) ? this.doc.streams : {})) this.lastOpOf(name);
    this.checkUnreadSources();
    this.issues.push(
      ...outputPathIssues(this.doc),
      ...outputCollisionIssues(this.doc),
      ...generatorBatchIssues(this.doc),
    );
    return this.issues;
  }

  /** The names a stream may read: all but itself, which it never can (a cycle). */
  private others(names: readonly string[]): string[] {
    return names.filter((name) => name !== this.checking);
  }

  /** `unknownNameMessage`, with suggestions and the known names for the first few unknown names only. */
  private unknownName(what: string, name: string, known: readonly string[]): string {
    if (this.suggestionsLeft <= 0) return `unknown ${what} "${name}"`;
    this.suggestionsLeft--;
    return unknownNameMessage(what, name, known);
  }

  /**
   * Every source feeds an output, directly or through streams: a source no output reads is never started by
   * the scheduler, yet receives input that no batch takes, so every batch would fail.
   */
  private checkUnreadSources(): void {
    const read = new Set<string>();
    const pending: string[] = [];
    for (const output of Array.isArray(this.doc.outputs) ? this.doc.outputs : []) {
      if (isObject(output) && typeof output.stream === 'string') pending.push(output.stream);
    }
    const streams = isObject(this.doc.streams) ? this.doc.streams : {};
    for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
      if (read.has(name)) continue;
      read.add(name);
      const spec = Object.hasOwn(streams, name) ? streams[name] : undefined;
      if (!isObject(spec)) continue;
      if (typeof spec.from === 'string') pending.push(spec.from);
      for (const op of Array.isArray(spec.ops) ? spec.ops : []) {
        if (!isObject(op)) continue;
        if (typeof op.with === 'string') pending.push(op.with);
        else if (Array.isArray(op.with)) pending.push(...op.with.filter((n) => typeof n === 'string'));
      }
    }
    for (const [name] of entriesOf(this.doc.sources)) {
      if (read.has(name)) continue;
      this.issues.push({
        path: jsonPath('sources', name),
        message: `is read by no output: every source must feed an output, directly or through streams; remove it, or add an output of a stream that reads it`,
      });
    }
  }

  /** Names are unique across sources, datasets and streams, so `from` and `with` are never ambiguous. */
  private collectNames(): void {
    const sections = [
      ['sources', 'source'],
      ['datasets', 'dataset'],
      ['streams', 'stream'],
    ] as const;
    for (const [section, kind] of sections) {
      for (const [name] of entriesOf(this.doc[section])) {
        const taken = this.kinds.get(name);
        if (taken === undefined) this.kinds.set(name, kind);
        else {
          this.issues.push({
            path: jsonPath(section, name),
            message: `is already the name of a ${taken}; names must be unique across sources, datasets and streams`,
            value: name,
          });
        }
      }
    }
  }

  private namesOf(...kinds: NameKind[]): string[] {
    return [...this.kinds].filter(([, kind]) => kinds.includes(kind)).map(([name]) => name);
  }

  /** A `from` or `stream` field: a source or a stream, not a static dataset. */
  private checkStreamRef(
    name: string,
    path: string,
    role: string,
    deps: { name: string; path: string }[] | undefined,
  ): void {
    const kind = this.kinds.get(name);
    if (kind === 'dataset') {
      this.issues.push({
        path,
        message: `"${name}" is a static dataset, but ${role} a source or a stream; combine a dataset with a stream through an op's "with"`,
        value: name,
      });
    } else if (kind === undefined) {
      this.issues.push({
        path,
        message: this.unknownName('source or stream', name, this.others(this.namesOf('source', 'stream'))),
        value: name,
      });
    } else if (kind === 'stream') {
      deps?.push({ name, path });
    }
  }

  /** Each op's own checks, from its catalogue entry, and the names its `with` lists. */
  private checkOps(
    ops: unknown,
    ownerPath: string,
    entryOf: OpLookup,
    deps: { name: string; path: string }[] | undefined,
  ): void {
    if (!Array.isArray(ops)) return;
    ops.forEach((op: unknown, i) => {
      // An unknown or missing op name is the schema's to report; its other fields mean nothing then.
      const entry = isObject(op) && typeof op.op === 'string' ? entryOf(op.op) : undefined;
      if (entry === undefined || !isObject(op)) return;
      const path = childPath(ownerPath, 'ops', i);
      const check = this.opChecks(op, path);
      if (entry.expression === true) check.functionOrExpression();
      for (const [field, kind] of Object.entries(entry.functionFields ?? {})) {
        check.function(field, kind as FunctionKind); // as: Object.entries widens the values of a Partial
      }
      entry.validate?.(op, check);
      if ('with' in entry.fields && deps !== undefined)
        this.checkWith(op.with, childPath(path, 'with'), deps);
    });
  }

  /** The checks an op's entry may run, on the op found at `path`. */
  private opChecks(op: Record<string, unknown>, path: string): OpChecks {
    return {
      functionOrExpression: () => this.checkExpressionOp(op, path),
      function: (field, kind) => this.checkFunction(op, field, path, kind),
      expression: (field) => {
        const expr = op[field];
        if (typeof expr === 'string' && expr !== '') {
          this.collect(() => this.compiler.expression(expr, childPath(path, field)));
        }
      },
      datasetName: (field) => this.checkDatasetName(op[field], childPath(path, field), field),
      namesBuiltin: (field, builtin) => this.isBuiltin(op[field], builtin),
      report: (field, message, value) => {
        const at = field === undefined ? path : childPath(path, field);
        this.issues.push(value === undefined ? { path: at, message } : { path: at, message, value });
      },
    };
  }

  /**
   * map, flatMap, filter, keyBy, mapValues, flatMapValues, sortBy: a record function's name or a JSONata
   * expression.
   */
  private checkExpressionOp(op: Record<string, unknown>, path: string): void {
    const hasFn = op.fn !== undefined;
    const hasExpr = op.expr !== undefined;
    if (hasFn && hasExpr) {
      this.issues.push({ path, message: `op "${op.op}" takes either fn or expr, not both`, value: op });
    } else if (!hasFn && !hasExpr) {
      this.issues.push({
        path,
        message: `op "${op.op}" needs fn (a function name) or expr (a JSONata expression)`,
        value: op,
      });
    }
    if (hasExpr && op.args !== undefined) {
      this.issues.push({
        path: childPath(path, 'args'),
        message: 'args go with fn; an expr reads the record as $',
        value: op.args,
      });
    }
    if (typeof op.expr === 'string' && op.expr !== '') {
      this.collect(() => this.compiler.expression(op.expr as string, childPath(path, 'expr')));
    }
    if (!hasExpr) this.checkFunction(op, 'fn', path, 'record');
  }

  /**
   * A function-name field resolves in the registry, with the op's args when the function takes some; with
   * `kind`, a function the registry knows to be of another kind is reported.
   */
  private checkFunction(
    owner: Record<string, unknown>,
    field: string,
    ownerPath: string,
    kind?: FunctionKind,
  ): void {
    const name = owner[field];
    if (this.functions === undefined || typeof name !== 'string' || name === '') return;
    const args = field === 'fn' ? owner.args : undefined;
    if (args !== undefined && !isObject(args)) return;
    const path = childPath(ownerPath, field);
    this.collect(() =>
      kind === undefined
        ? this.functions?.resolve(name, args, path)
        : this.functions?.resolveKind(name, args, path, kind),
    );
  }

  /** A field that names a static dataset of `[key, state]` pairs, such as `initialState`. */
  private checkDatasetName(name: unknown, path: string, field: string): void {
    if (typeof name !== 'string' || name === '') return;
    const kind = this.kinds.get(name);
    if (kind === 'dataset') return;
    this.issues.push({
      path,
      message:
        kind === undefined
          ? this.unknownName('dataset', name, this.namesOf('dataset'))
          : `"${name}" is a ${kind}, but ${field} names a static dataset (in "datasets") of [key, state] pairs`,
      value: name,
    });
  }

  /** True when `name` resolves, without args, to the built-in `fn` (not to a replacement of the same name). */
  private isBuiltin(name: unknown, fn: unknown): boolean {
    if (this.functions === undefined || typeof name !== 'string' || !this.functions.has(name)) return false;
    try {
      return this.functions.resolve(name, undefined, '') === fn;
    } catch {
      return false;
    }
  }

  /**
   * The last op of a stream, worked out once (after the streams it reads), checking on the way that an op that
   * reads the op before it (stateSnapshots) follows that op. Undefined for a source, a dataset, an unknown name,
   * or a stream in a cycle. Slides, windows and checkpoint intervals are the engine's to check (`graphIssues`).
   */
  private lastOpOf(name: string): string | undefined {
    if (this.kinds.get(name) !== 'stream') return undefined;
    const known = this.lastOps.get(name);
    if (known !== undefined) return known === 'pending' ? undefined : known.op;
    this.lastOps.set(name, 'pending');
    const spec = (this.doc.streams as Record<string, unknown>)[name];
    const op = isObject(spec) ? this.walkStream(name, spec) : undefined;
    this.lastOps.set(name, { op });
    return op;
  }

  private walkStream(name: string, spec: Record<string, unknown>): string | undefined {
    const streamPath = jsonPath('streams', name);
    const inputLastOp = typeof spec.from === 'string' ? this.lastOpOf(spec.from) : undefined;
    let lastOp: string | undefined;
    const ops: unknown[] = Array.isArray(spec.ops) ? spec.ops : [];
    ops.forEach((op, i) => {
      const entry = isObject(op) && typeof op.op === 'string' ? streamOpEntry(op.op) : undefined;
      if (entry === undefined) {
        // An op the schema rejected: what follows it cannot be checked against it.
        lastOp = undefined;
        return;
      }
      if (entry.follows !== undefined) {
        const previous = i === 0 ? inputLastOp : lastOp;
        this.checkFollows(entry, entry.follows, childPath(streamPath, 'ops', i), previous, i, spec.from);
      }
      lastOp = entry.name;
    });
    return lastOp;
  }

  /** An op that reads the op right before it (stateSnapshots, the state of mapWithState) comes right after it. */
  private checkFollows(
    entry: OpEntry<string, any>,
    follows: string,
    path: string,
    previous: string | undefined,
    index: number,
    from: unknown,
  ): void {
    if (previous === follows) return;
    const fromSource = index === 0 && typeof from === 'string' && this.kinds.get(from) === 'source';
    // Nothing known before it (an op the schema rejected, a stream in a cycle): reported elsewhere.
    if (previous === undefined && !fromSource) return;
    const found =
      index > 0
        ? `here it follows "${previous}"`
        : fromSource
          ? `here it reads the source "${from}"`
          : `here it reads "${from}", whose last op is "${previous}"`;
    this.issues.push({
      path,
      message: `${entry.name} must come right after ${follows} (or first in a stream whose "from" ends with ${follows}); ${found}`,
      value: entry.name,
    });
  }

  /** `with` names any source, stream or static dataset; union takes a list too. */
  private checkWith(value: unknown, path: string, deps: { name: string; path: string }[]): void {
    const names =
      typeof value === 'string'
        ? [[value, path]]
        : Array.isArray(value)
          ? value.map((n, i) => [n, childPath(path, i)])
          : [];
    for (const [name, namePath] of names) {
      if (typeof name !== 'string' || name === '') continue;
      const kind = this.kinds.get(name);
      if (kind === undefined) {
        this.issues.push({
          path: namePath,
          message: this.unknownName('source, stream or dataset', name, this.others([...this.kinds.keys()])),
          value: name,
        });
      } else if (kind === 'stream') deps.push({ name, path: namePath });
    }
  }

  /** A depth-first walk; a stream met again while still on the walk's path closes a cycle. */
  private checkCycles(): void {
    const state = new Map<string, 'active' | 'done'>();
    const trail: string[] = [];
    const visit = (name: string): void => {
      state.set(name, 'active');
      trail.push(name);
      for (const dep of this.streamDeps.get(name) ?? []) {
        const seen = state.get(dep.name);
        if (seen === 'active') {
          const cycle = [...trail.slice(trail.indexOf(dep.name)), dep.name];
          this.issues.push({
            path: dep.path,
            message: `streams depend on each other in a cycle: ${cycle.join(' → ')}`,
            value: dep.name,
          });
        } else if (seen === undefined) visit(dep.name);
      }
      trail.pop();
      state.set(name, 'done');
    };
    for (const name of this.streamDeps.keys()) if (!state.has(name)) visit(name);
  }

  /** Runs a check that throws a `JobValidationError` and keeps its issues. */
  private collect(check: () => unknown): void {
    try {
      check();
    } catch (error) {
      if (!(error instanceof JobValidationError)) throw error;
      this.issues.push(...error.issues);
    }
  }
}
