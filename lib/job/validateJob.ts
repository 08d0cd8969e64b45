import { posix } from 'node:path';
import type { ErrorObject } from 'ajv';
import { type JobIssue, JobValidationError } from '../errors';
import type { FunctionKind } from './builtinFunctions';
import { FunctionRegistry } from './FunctionRegistry';
import { childPath, type JobDocument, jsonPath, unknownNameMessage } from './JobDocument';
import { validate } from './jobSchemaValidator.generated.mjs';
import type { OpChecks, OpEntry } from './ops/OpEntry';
import { datasetOpEntry, streamOpEntry } from './ops/opCatalogue';

/** Settings of {@link validateJob}. */
export interface ValidateJobOptions {
  /**
   * The functions `fn` fields may name. Default: the built-ins when the document has no `functions` module;
   * when it has one and no registry is given, function names are not checked (`buildJob` checks them once the
   * module is loaded).
   */
  readonly functions?: FunctionRegistry;
}

/**
 * Checks a job document and returns it typed, or throws a `JobValidationError` listing every problem, each at
 * the path of its field (`streams.counts.ops[1].windowMs`, `outputs[0].stream`) with the value found there.
 *
 * It checks the shape against `job.schema.json`, then what a schema cannot: that `from`, `with` and `stream`
 * name existing sources, streams or datasets, and `initialState` a dataset; that streams do not depend on each
 * other in a cycle; that record ops have either `fn` or `expr`; that every `expr` is valid JSONata; that `fn`
 * names resolve, to a function of the right kind where the registry knows it (a reducer for `invFn`); that
 * windows, slides and checkpoint intervals are multiples of their input's slide (the batch interval, unless
 * windowed before); that inputs combined batch by batch share a slide; and that `stateSnapshots` follows
 * `mapWithState`.
 *
 * @example
 * const job = validateJob(JSON.parse(await readFile('job.json', 'utf8')));
 */
export function validateJob(doc: unknown, options: ValidateJobOptions = {}): JobDocument {
  // First, and alone: every later step (the schema's messages, which show the value found) may walk a value.
  const deep = tooDeepPath(doc);
  if (deep !== undefined) {
    throw new JobValidationError([
      {
        path: deep,
        message: `is nested more than ${MAX_NESTING} levels deep, more than a job document may nest; flatten it`,
      },
    ]);
  }
  const issues = schemaIssues(doc);
  if (isObject(doc)) {
    const tooLarge = sizeIssues(doc);
    issues.push(...tooLarge);
    // The checks across fields walk chains of streams recursively: past the size limits (which the schema or
    // sizeIssues report) they could overflow the stack, and are not worth the time.
    if (tooLarge.length === 0 && withinEntryLimits(doc)) {
      const functions =
        options.functions ?? (doc.functions === undefined ? new FunctionRegistry() : undefined);
      issues.push(...new ReferenceChecker(doc, functions).check());
    }
  }
  if (issues.length > MAX_ISSUES_SHOWN) {
    const more = issues.length - MAX_ISSUES_SHOWN;
    issues.splice(MAX_ISSUES_SHOWN, more, {
      path: '',
      message: `and ${more} more problem(s) like those above; fix them and validate again`,
    });
  }
  if (issues.length > 0) throw new JobValidationError(issues);
  return doc as unknown as JobDocument;
}

// ---- limits -------------------------------------------------------------------------------------------------

/**
 * Ops in a whole document, streams and datasets together. A DStream graph is walked recursively every batch, so
 * a chain of ops is bounded, as are the lists the schema bounds (streams, ops of one stream, outputs). Real jobs
 * have tens of ops; a job that needs more splits into several jobs or is written as a TypeScript job module.
 */
export const MAX_OPS = 1000;

/** Problems reported at once: a broken document should not produce a message of megabytes. */
const MAX_ISSUES_SHOWN = 100;

/** Unknown names that get "did you mean" suggestions; past these, a message names only what is unknown. */
const MAX_SUGGESTIONS = 20;

/** Input batches one window may span: each is remembered until it leaves the window. */
export const MAX_WINDOW_BATCHES = 100_000;

/** Records a generator may produce per batch, and bytes of lines per batch: one batch is held in memory. */
export const MAX_GENERATED_RECORDS_PER_BATCH = 1_000_000;
export const MAX_GENERATED_BYTES_PER_BATCH = 256 * 1024 * 1024;

/**
 * Levels of nesting of any value in a document (args, records): every consumer of a value, from a built-in's
 * args check to JSON serialization, may walk it recursively.
 */
export const MAX_NESTING = 100;

/** Entries of `sources`, `datasets`, `streams` and `outputs` each: the schema's `maxProperties` and `maxItems`. */
const MAX_ENTRIES = 1000;

function withinEntryLimits(doc: Record<string, unknown>): boolean {
  const sizes = [doc.sources, doc.datasets, doc.streams, doc.outputs].map((section) =>
    Array.isArray(section) ? section.length : isObject(section) ? Object.keys(section).length : 0,
  );
  return sizes.every((size) => size <= MAX_ENTRIES);
}

/** The total op count, reported at the first op past {@link MAX_OPS}. */
function sizeIssues(doc: Record<string, unknown>): JobIssue[] {
  let ops = 0;
  for (const section of ['datasets', 'streams'] as const) {
    for (const [name, spec] of entriesOf(doc[section])) {
      if (!isObject(spec) || !Array.isArray(spec.ops)) continue;
      if (ops + spec.ops.length > MAX_OPS) {
        const index = MAX_OPS - ops;
        return [
          {
            path: jsonPath(section, name, 'ops', index),
            message: `is op number ${MAX_OPS + 1} of the job, which may have at most ${MAX_OPS} ops in all; split it into several jobs, or write it as a TypeScript job module`,
          },
        ];
      }
      ops += spec.ops.length;
    }
  }
  return [];
}

/** The path of the first value nested deeper than {@link MAX_NESTING}, found without recursion; or undefined. */
function tooDeepPath(doc: unknown): string | undefined {
  interface Visit {
    readonly value: unknown;
    readonly depth: number;
    readonly key: string | number;
    readonly parent: Visit | undefined;
  }
  const pending: Visit[] = [{ value: doc, depth: 0, key: '', parent: undefined }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, depth } = next;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_NESTING) {
      const segments: (string | number)[] = [];
      for (let at: Visit | undefined = next; at?.parent !== undefined; at = at.parent)
        segments.unshift(at.key);
      // The first levels say where in the document; the hundred after them say nothing more.
      return `${jsonPath(...segments.slice(0, 8))}…`;
    }
    const children: [string | number, unknown][] = Array.isArray(value)
      ? value.map((v, i) => [i, v] as [number, unknown])
      : Object.entries(value);
    for (const [key, child] of children) pending.push({ value: child, depth: depth + 1, key, parent: next });
  }
  return undefined;
}

// ---- the schema ---------------------------------------------------------------------------------------------

function schemaIssues(doc: unknown): JobIssue[] {
  // Compiled ahead of time (`npm run schema`): no schema compilation, and no `new Function`, at run time.
  if (validate(doc)) return [];
  const issues: JobIssue[] = [];
  for (const error of validate.errors ?? []) {
    const issue = issueOf(error, doc);
    if (issue !== undefined) issues.push(issue);
  }
  return issues;
}

/** Turns one Ajv error into an issue whose path is the field at fault, or undefined for a redundant error. */
function issueOf(error: ErrorObject, doc: unknown): JobIssue | undefined {
  const segments = segmentsOf(error.instancePath, doc);
  const path = jsonPath(...segments);
  const data: unknown = error.data;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'if': // "must match then": the error inside `then` says what is wrong
    case 'propertyNames': // the inner error, which carries the property name, says it
      return undefined;
    case 'required': {
      const field = String(params.missingProperty);
      return { path: childPath(path, field), message: `is required${ownerOf(data)}` };
    }
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      const known = Object.keys(
        (error.parentSchema as { properties?: object } | undefined)?.properties ?? {},
      );
      const fields = known.filter((k) => !isSelector(k, data));
      return {
        path: childPath(path, field),
        message: `is not a field${ownerOf(data)}; expected ${fields.length > 0 ? fields.join(', ') : 'no other field'}`,
        value: isObject(data) ? data[field] : undefined,
      };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const field = String(segments[segments.length - 1] ?? 'value');
      const what = field === 'persist' ? 'storage level' : field;
      return { path, message: unknownNameMessage(what, String(data), allowed), value: data };
    }
    case 'type':
      return { path, message: `must be ${typeNames(String(params.type))}`, value: data };
    case 'minLength':
      return { path, message: 'must not be empty', value: data };
    case 'maximum':
      return { path, message: `must be at most ${params.limit}; ${LIMITS_HINT}`, value: data };
    case 'maxLength':
      return {
        path,
        message: `must be at most ${params.limit} characters; ${LIMITS_HINT}`,
        value: String(data).slice(0, 80),
      };
    case 'maxItems':
      return { path, message: `may list at most ${params.limit} items; ${LIMITS_HINT}`, value: undefined };
    case 'maxProperties':
      return { path, message: `may have at most ${params.limit} entries; ${LIMITS_HINT}`, value: undefined };
    default:
      if (error.propertyName !== undefined) {
        return {
          path: childPath(path, error.propertyName),
          message: 'is not a valid name: use letters, digits, _ and -, starting with a letter or _',
          value: error.propertyName,
        };
      }
      return { path, message: error.message ?? `fails ${error.keyword}`, value: data };
  }
}

/** Where a job that needs more than a bound goes: the README's table says why each bound is what it is. */
const LIMITS_HINT = 'see "Limits of a job document" in the README for what to do when a job needs more';

/** The path segments of a JSON pointer, numbers where the document has an array. */
function segmentsOf(pointer: string, doc: unknown): (string | number)[] {
  if (pointer === '') return [];
  const segments: (string | number)[] = [];
  let value = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(value)) {
      segments.push(Number(key));
      value = value[Number(key)];
    } else {
      segments.push(key);
      value = isObject(value) ? value[key] : undefined;
    }
  }
  return segments;
}

/** ` by op "reduce"` or ` for type "socket"`, when the object is an op, a source, a dataset or an output. */
function ownerOf(data: unknown): string {
  if (!isObject(data)) return '';
  if (typeof data.op === 'string') return ` by op "${data.op}"`;
  if (typeof data.type === 'string') return ` for type "${data.type}"`;
  return '';
}

/** True for the field that selects the variant (`op`, `type`), which listing the allowed fields leaves out. */
function isSelector(field: string, data: unknown): boolean {
  return isObject(data) && (field === 'op' || field === 'type') && typeof data[field] === 'string';
}

function typeNames(types: string): string {
  const names: Record<string, string> = {
    integer: 'a whole number',
    number: 'a number',
    string: 'a string',
    object: 'an object',
    array: 'an array',
    boolean: 'true or false',
    null: 'null',
  };
  return types
    .split(',')
    .map((t) => names[t] ?? t)
    .join(' or ');
}

// ---- what the schema cannot check ---------------------------------------------------------------------------

type NameKind = 'source' | 'dataset' | 'stream';

/** An op's catalogue entry, by name, among the ops a stream or a static dataset accepts. */
type OpLookup = (name: string) => OpEntry<string, any> | undefined;

/** What later ops and streams need to know of a stream: its slide, and its last op (for stateSnapshots). */
interface StreamShape {
  /** The slide in ms; undefined when it cannot be known (a broken document). */
  readonly slide: number | undefined;
  /** The path of the `slideMs` that set it; undefined when it is the batch interval. */
  readonly slideSetAt: string | undefined;
  /** The last op's name; undefined for a source. */
  readonly lastOp: string | undefined;
}

/**
 * The checks across fields. It reads the document defensively, as the schema may have found it malformed:
 * a field of the wrong type is skipped here, the schema has reported it already.
 */
class ReferenceChecker {
  private readonly issues: JobIssue[] = [];
  private readonly kinds = new Map<string, NameKind>();
  /** Every stream's inputs that are streams, with the path of the field that names each. */
  private readonly streamDeps = new Map<string, { name: string; path: string }[]>();
  /** Compiles expressions; any registry can, so one exists even when function names are not checked. */
  private readonly compiler: FunctionRegistry;
  /** The shapes of streams worked out so far; `pending` while a stream's inputs are worked out (a cycle). */
  private readonly shapes = new Map<string, StreamShape | 'pending'>();
  /** Unknown names that may still get suggestions: each costs an edit distance to every known name. */
  private suggestionsLeft = MAX_SUGGESTIONS;

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
      if (typeof spec.from === 'string') {
        this.checkStreamRef(spec.from, childPath(path, 'from'), 'a stream starts from', deps);
      }
      this.checkOps(spec.ops, path, streamOpEntry, deps);
    }
    (Array.isArray(this.doc.outputs) ? this.doc.outputs : []).forEach((output: unknown, i) => {
      if (!isObject(output)) return;
      const path = jsonPath('outputs', i);
      if (typeof output.stream === 'string') {
        this.checkStreamRef(output.stream, childPath(path, 'stream'), 'an output writes', undefined);
      }
      if (output.type === 'foreachRDD') this.checkFunction(output, 'fn', path);
    });
    this.checkCycles();
    for (const name of Object.keys(isObject(this.doc.streams) ? this.doc.streams : {})) this.shapeOf(name);
    this.checkUnreadSources();
    this.checkOutputPaths();
    this.checkGeneratorBatches();
    return this.issues;
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

  /**
   * Output files stay inside the output folder (`--out` locally, `outputs/` on S3): a jsonl path or a
   * saveAsTextFiles prefix is relative and does not climb out with `..`.
   */
  private checkOutputPaths(): void {
    (Array.isArray(this.doc.outputs) ? this.doc.outputs : []).forEach((output: unknown, i) => {
      if (!isObject(output)) return;
      const field =
        output.type === 'jsonl' ? 'path' : output.type === 'saveAsTextFiles' ? 'prefix' : undefined;
      const value = field === undefined ? undefined : output[field];
      if (field === undefined || typeof value !== 'string' || value === '') return;
      const problem = outputPathProblem(value, field === 'path');
      if (problem !== undefined) {
        this.issues.push({ path: jsonPath('outputs', i, field), message: problem, value });
      }
    });
  }

  /** A generator's batch is held in memory at once: bound its records, and for lines its bytes. */
  private checkGeneratorBatches(): void {
    const interval = this.doc.batchIntervalMs;
    if (!isPositiveInteger(interval)) return;
    for (const [name, spec] of entriesOf(this.doc.sources)) {
      if (!isObject(spec) || spec.type !== 'generator' || typeof spec.ratePerSec !== 'number') continue;
      const records = Math.ceil((spec.ratePerSec * interval) / 1000);
      const path = jsonPath('sources', name);
      if (records > MAX_GENERATED_RECORDS_PER_BATCH) {
        this.issues.push({
          path: childPath(path, 'ratePerSec'),
          message: `makes ${records} records per batch of ${interval} ms, more than the ${MAX_GENERATED_RECORDS_PER_BATCH} a batch may hold; lower the rate or the batch interval`,
          value: spec.ratePerSec,
        });
        continue;
      }
      const lineBytes = typeof spec.lineBytes === 'number' ? spec.lineBytes : 100;
      if (spec.kind === 'lines' && records * lineBytes > MAX_GENERATED_BYTES_PER_BATCH) {
        this.issues.push({
          path: childPath(path, 'lineBytes'),
          message: `makes ${records} lines of ${lineBytes} bytes per batch, more than the ${MAX_GENERATED_BYTES_PER_BATCH / 1024 / 1024} MiB a batch may hold; lower the rate, the line length or the batch interval`,
          value: spec.lineBytes,
        });
      }
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
        message: this.unknownName('source or stream', name, this.namesOf('source', 'stream')),
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
      if (entry.validate !== undefined) entry.validate(op, check);
      else if (entry.expression === true) check.functionOrExpression();
      else check.function('fn');
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

  /** map, flatMap, filter, keyBy, mapValues, flatMapValues: a function name or a JSONata expression. */
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
    if (!hasExpr) this.checkFunction(op, 'fn', path);
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
   * The slide and last op of a source or stream, working out a stream's once (after the streams it reads) and
   * reporting on the way what depends on slides: windows, slides and checkpoint intervals that are not
   * multiples of their input's slide, inputs combined with different slides, and a misplaced stateSnapshots.
   * Undefined for a dataset, an unknown name, or a stream in a cycle.
   */
  private shapeOf(name: string): StreamShape | undefined {
    const kind = this.kinds.get(name);
    if (kind === 'source') {
      const interval = this.doc.batchIntervalMs;
      return {
        slide: isPositiveInteger(interval) ? interval : undefined,
        slideSetAt: undefined,
        lastOp: undefined,
      };
    }
    if (kind !== 'stream') return undefined;
    const known = this.shapes.get(name);
    if (known !== undefined) return known === 'pending' ? undefined : known;
    this.shapes.set(name, 'pending');
    const spec = (this.doc.streams as Record<string, unknown>)[name];
    const shape = isObject(spec) ? this.walkStream(name, spec) : undefined;
    this.shapes.set(name, shape ?? { slide: undefined, slideSetAt: undefined, lastOp: undefined });
    return shape;
  }

  private walkStream(name: string, spec: Record<string, unknown>): StreamShape {
    const streamPath = jsonPath('streams', name);
    const input = typeof spec.from === 'string' ? this.shapeOf(spec.from) : undefined;
    let slide = input?.slide;
    let slideSetAt = input?.slideSetAt;
    let lastOp: string | undefined;
    const ops: unknown[] = Array.isArray(spec.ops) ? spec.ops : [];
    ops.forEach((op, i) => {
      const path = childPath(streamPath, 'ops', i);
      const entry = isObject(op) && typeof op.op === 'string' ? streamOpEntry(op.op) : undefined;
      if (entry === undefined || !isObject(op)) {
        // An op the schema rejected: what follows it cannot be checked against its slide.
        slide = undefined;
        lastOp = undefined;
        return;
      }
      if (entry.follows !== undefined)
        this.checkFollows(entry, entry.follows, path, i === 0 ? input?.lastOp : lastOp, i, spec.from);
      if ('with' in entry.fields) this.checkSameSlide(op, path, slide);
      if (entry.window === true) {
        this.checkMultiple(
          'window',
          op.windowMs,
          childPath(path, 'windowMs'),
          slide,
          slideSetAt,
          "the input's",
        );
        this.checkMultiple('slide', op.slideMs, childPath(path, 'slideMs'), slide, slideSetAt, "the input's");
        this.checkWindowLength(op.windowMs, childPath(path, 'windowMs'), slide);
        if (op.slideMs !== undefined) {
          slide = isPositiveInteger(op.slideMs) ? op.slideMs : undefined;
          slideSetAt = childPath(path, 'slideMs');
        }
      }
      lastOp = entry.name;
    });
    this.checkMultiple(
      'checkpoint interval',
      spec.checkpointIntervalMs,
      childPath(streamPath, 'checkpointIntervalMs'),
      slide,
      slideSetAt,
      "the stream's",
    );
    return { slide, slideSetAt, lastOp };
  }

  /** A window, slide or checkpoint interval must be a multiple of the slide of what it applies to. */
  private checkMultiple(
    what: string,
    ms: unknown,
    path: string,
    slide: number | undefined,
    slideSetAt: string | undefined,
    whose: string,
  ): void {
    // Not a positive whole number: the schema says so. An unknown slide: nothing to check against.
    if (!isPositiveInteger(ms) || slide === undefined || ms % slide === 0) return;
    const of =
      slideSetAt === undefined
        ? `the batch interval of ${slide} ms`
        : `${whose} slide of ${slide} ms (set by ${slideSetAt})`;
    this.issues.push({ path, message: `${what} of ${ms} ms must be a multiple of ${of}`, value: ms });
  }

  /** A window is kept batch by batch: it may span at most {@link MAX_WINDOW_BATCHES} of its input's batches. */
  private checkWindowLength(ms: unknown, path: string, slide: number | undefined): void {
    if (!isPositiveInteger(ms) || slide === undefined || ms / slide <= MAX_WINDOW_BATCHES) return;
    this.issues.push({
      path,
      message: `spans ${Math.ceil(ms / slide)} batches of its input's ${slide} ms, more than the ${MAX_WINDOW_BATCHES} a window may keep; use a longer batch interval or slide before it (a window of windows)`,
      value: ms,
    });
  }

  /** Inputs combined batch by batch (union, joins, cogroup, transformWith) must slide together. */
  private checkSameSlide(op: Record<string, unknown>, path: string, slide: number | undefined): void {
    if (slide === undefined) return;
    const withPath = childPath(path, 'with');
    const names: [unknown, string][] =
      typeof op.with === 'string'
        ? [[op.with, withPath]]
        : Array.isArray(op.with)
          ? op.with.map((n, i) => [n, childPath(withPath, i)] as [unknown, string])
          : [];
    for (const [other, otherPath] of names) {
      if (typeof other !== 'string') continue;
      const otherSlide = this.shapeOf(other)?.slide;
      if (otherSlide === undefined || otherSlide === slide) continue;
      this.issues.push({
        path: otherPath,
        message: `"${other}" has a slide of ${otherSlide} ms but this stream ${slide} ms; ${op.op} combines inputs batch by batch, so their slides must be equal`,
        value: other,
      });
    }
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
          message: this.unknownName('source, stream or dataset', name, [...this.kinds.keys()]),
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

/**
 * Why an output path would write outside the output folder, or undefined when it stays inside: absolute paths
 * and paths that climb out with `..` are refused; a jsonl path must also name a file, not the folder itself.
 */
export function outputPathProblem(path: string, isFile: boolean): string | undefined {
  const unified = path.replaceAll('\\', '/');
  if (unified.startsWith('/') || /^[A-Za-z]:/.test(unified)) {
    return 'must be relative to the output folder (--out locally, outputs/ in the bucket on AWS), not absolute';
  }
  const normalized = posix.normalize(unified);
  if (normalized === '..' || normalized.startsWith('../')) {
    return 'climbs out of the output folder (--out locally, outputs/ in the bucket on AWS) with ..; name a place inside it';
  }
  if (isFile && (normalized === '.' || normalized.endsWith('/'))) {
    return 'must name a file inside the output folder, not a folder';
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

function entriesOf(value: unknown): [string, unknown][] {
  return isObject(value) ? Object.entries(value) : [];
}
