import type { ErrorObject } from 'ajv';
import type { JobIssue } from '../errors';
import { isObject } from './documentValues';
import { childPath, closeNames, jsonPath, unknownNameMessage } from './JobDocument';
import { JOB_NAME_RULE } from './jobName';
import { validate } from './jobSchemaValidator.generated.mjs';

/**
 * The document checked against `job.schema.json`: each Ajv error as an issue at the path of the field at fault,
 * in words a user can act on.
 */
export function schemaIssues(doc: unknown): JobIssue[] {
  // Compiled ahead of time (`npm run schema`): no schema compilation, and no `new Function`, at run time.
  if (validate(doc)) return [];
  const issues: JobIssue[] = [];
  for (const error of validate.errors ?? []) {
    const issue = issueOf(error, doc);
    if (issue !== undefined) issues.push(withInfinityHint(issue));
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
        message: unknownFieldMessage(field, ownerOf(data, 'of'), fields),
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
    case 'minLength': {
      const limit = Number(params.limit);
      const rule = limit === 1 ? 'must not be empty' : `must be at least ${limit} characters long`;
      return { path, message: rule, value: data };
    }
    case 'minimum':
      return { path, message: `must be at least ${params.limit}`, value: data };
    case 'exclusiveMinimum':
      return { path, message: `must be more than ${params.limit}`, value: data };
    case 'minItems': {
      const limit = Number(params.limit);
      return { path, message: `must list at least ${limit} item${limit === 1 ? '' : 's'}`, value: data };
    }
    case 'minProperties': {
      // Only `sources` has one: "must NOT have fewer than 1 properties" was the schema library's wording.
      const limit = Number(params.limit);
      return { path, message: `must name at least ${limit} entr${limit === 1 ? 'y' : 'ies'}`, value: data };
    }
    case 'maximum':
      // A bound of 1 is a fraction's (speculation.quantile, deadLetters.maxShare): no job needs more than all of
      // something, so the pointer to raising a limit would send the user looking for what cannot be.
      if (Number(params.limit) === 1) return { path, message: 'must be at most 1 (a fraction)', value: data };
      return { path, message: `must be at most ${params.limit}; ${LIMITS_HINT}`, value: data };
    case 'maxLength':
      return {
        path,
        message: `must be at most ${params.limit} characters; ${LIMITS_HINT}`,
        value: String(data).slice(0, 80),
      };
    case 'pattern':
      // The only pattern on a value (names of entries are checked by `propertyNames`, below): the job's name.
      if (error.propertyName === undefined && path === 'name') {
        return { path, message: `must be ${JOB_NAME_RULE}`, value: String(data).slice(0, 80) };
      }
      return patternIssue(error, path, data);
    case 'maxItems':
      return { path, message: `may list at most ${params.limit} items; ${LIMITS_HINT}`, value: undefined };
    case 'maxProperties':
      return { path, message: `may have at most ${params.limit} entries; ${LIMITS_HINT}`, value: undefined };
    default:
      return patternIssue(error, path, data);
  }
}

/**
 * An issue about ±Infinity, which a document cannot hold: JSON.parse reads a number too large for a double
 * (`1e400`) as Infinity, so the user wrote something else and needs to hear why it became that.
 */
function withInfinityHint(issue: JobIssue): JobIssue {
  if (typeof issue.value !== 'number' || Number.isFinite(issue.value)) return issue;
  return {
    ...issue,
    message: `${issue.message}; a number beyond ±1.8e308, such as 1e400, is too large for JSON and reads as ${issue.value}`,
  };
}

/** An entry's name that is not a valid name, or any other error in Ajv's own words. */
function patternIssue(error: ErrorObject, path: string, data: unknown): JobIssue {
  if (error.propertyName !== undefined) {
    return {
      path: childPath(path, error.propertyName),
      message: 'is not a valid name: use letters, digits, _ and -, starting with a letter or _',
      value: error.propertyName,
    };
  }
  return { path, message: error.message ?? `fails ${error.keyword}`, value: data };
}

/** Where a job that needs more than a bound goes: the README's table says why each bound is what it is. */
const LIMITS_HINT = 'see "Limits of a job document" in the README for what to do when a job needs more';

/** The path segments of a JSON pointer, numbers where the document has an array. */
export function segmentsOf(pointer: string, doc: unknown): (string | number)[] {
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

/**
 * ` by op "reduce"` (` of op "reduce"` after "is not a field") or ` for type "socket"`, when the object is an op, a
 * source, a dataset or an output.
 */
function ownerOf(data: unknown, opWord: 'by' | 'of' = 'by'): string {
  if (!isObject(data)) return '';
  if (typeof data.op === 'string') return ` ${opWord} op "${data.op}"`;
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

/**
 * The message for a field that is not one of `known`, after `is not a field` and its owner (` by op "window"`). A
 * field close to a known one (`batchInterval`, `windowMS`) leads with it: the list of every field that follows is
 * long, and the likely fix should not have to be found in it.
 */
export function unknownFieldMessage(field: string, owner: string, known: readonly string[]): string {
  const expected = `expected ${known.length > 0 ? known.join(', ') : 'no other field'}`;
  const close = closeNames(field, known);
  if (close.length === 0) return `is not a field${owner}; ${expected}`;
  return `is not a field${owner}; did you mean ${close.map((n) => `"${n}"`).join(' or ')}? (${expected})`;
}
