import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { type JobIssue, JobValidationError } from '../errors';
import { FunctionRegistry } from './FunctionRegistry';
import {
  childPath,
  DATASET_OP_NAMES,
  EXPRESSION_OP_NAMES,
  type JobDocument,
  jsonPath,
  STREAM_OP_NAMES,
  unknownNameMessage,
  WITH_OP_NAMES,
} from './JobDocument';
import jobSchema from './job.schema.json' with { type: 'json' };

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
 * name existing sources, streams or datasets; that streams do not depend on each other in a cycle; that
 * record ops have either `fn` or `expr`; that every `expr` is valid JSONata; and that `fn` names resolve.
 *
 * @example
 * const job = validateJob(JSON.parse(await readFile('job.json', 'utf8')));
 */
export function validateJob(doc: unknown, options: ValidateJobOptions = {}): JobDocument {
  const issues = schemaIssues(doc);
  if (isObject(doc)) {
    const functions = options.functions ?? (doc.functions === undefined ? new FunctionRegistry() : undefined);
    issues.push(...new ReferenceChecker(doc, functions).check());
  }
  if (issues.length > 0) throw new JobValidationError(issues);
  return doc as unknown as JobDocument;
}

// ---- the schema ---------------------------------------------------------------------------------------------

let schemaValidator: ValidateFunction | undefined;

/** The compiled schema; compiled on first use so importing this module stays cheap. */
function compiledSchema(): ValidateFunction {
  if (schemaValidator === undefined) {
    // verbose: errors then carry the schema and data they are about, which the messages below use.
    const ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true });
    ajv.addKeyword('enumDescriptions'); // an editor hint (VS Code), not a validation keyword
    schemaValidator = ajv.compile(jobSchema);
  }
  return schemaValidator;
}

function schemaIssues(doc: unknown): JobIssue[] {
  const validate = compiledSchema();
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
      const what = String(segments[segments.length - 1] ?? 'value');
      return { path, message: unknownNameMessage(what, String(data), allowed), value: data };
    }
    case 'type':
      return { path, message: `must be ${typeNames(String(params.type))}`, value: data };
    case 'minLength':
      return { path, message: 'must not be empty', value: data };
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

const STREAM_OPS: ReadonlySet<string> = new Set(STREAM_OP_NAMES);
const DATASET_OPS: ReadonlySet<string> = new Set(DATASET_OP_NAMES);
const EXPRESSION_OPS: ReadonlySet<string> = new Set(EXPRESSION_OP_NAMES);
const WITH_OPS: ReadonlySet<string> = new Set(WITH_OP_NAMES);

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
      this.checkOps(spec.ops, jsonPath('datasets', name), DATASET_OPS, undefined);
    }
    for (const [name, spec] of entriesOf(this.doc.streams)) {
      if (!isObject(spec)) continue;
      const deps: { name: string; path: string }[] = [];
      this.streamDeps.set(name, deps);
      const path = jsonPath('streams', name);
      if (typeof spec.from === 'string') {
        this.checkStreamRef(spec.from, childPath(path, 'from'), 'a stream starts from', deps);
      }
      this.checkOps(spec.ops, path, STREAM_OPS, deps);
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
    return this.issues;
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
        message: unknownNameMessage('source or stream', name, this.namesOf('source', 'stream')),
        value: name,
      });
    } else if (kind === 'stream') {
      deps?.push({ name, path });
    }
  }

  private checkOps(
    ops: unknown,
    ownerPath: string,
    allowed: ReadonlySet<string>,
    deps: { name: string; path: string }[] | undefined,
  ): void {
    if (!Array.isArray(ops)) return;
    ops.forEach((op: unknown, i) => {
      // An unknown or missing op name is the schema's to report; its other fields mean nothing then.
      if (!isObject(op) || typeof op.op !== 'string' || !allowed.has(op.op)) return;
      const path = childPath(ownerPath, 'ops', i);
      if (EXPRESSION_OPS.has(op.op)) this.checkExpressionOp(op, path);
      else if (op.op === 'combineByKey') {
        for (const field of ['createCombiner', 'mergeValue', 'mergeCombiners'])
          this.checkFunction(op, field, path);
      } else this.checkFunction(op, 'fn', path);
      if (WITH_OPS.has(op.op) && deps !== undefined) this.checkWith(op.with, childPath(path, 'with'), deps);
    });
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

  /** A function-name field resolves in the registry, with the op's args when the function takes some. */
  private checkFunction(owner: Record<string, unknown>, field: string, ownerPath: string): void {
    const name = owner[field];
    if (this.functions === undefined || typeof name !== 'string' || name === '') return;
    const args = field === 'fn' ? owner.args : undefined;
    if (args !== undefined && !isObject(args)) return;
    this.collect(() => this.functions?.resolve(name, args, childPath(ownerPath, field)));
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
          message: unknownNameMessage('source, stream or dataset', name, [...this.kinds.keys()]),
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

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function entriesOf(value: unknown): [string, unknown][] {
  return isObject(value) ? Object.entries(value) : [];
}
