import type { ErrorObject } from 'ajv';
import { type JobIssue, preview, SluiceError } from '../errors';
import { isObject } from '../job/documentValues';
import { segmentsOf } from '../job/schemaIssues';
import type { TaskPlan } from '../plan/Plan';
import { schema, validate } from './workerEventValidator.generated.mjs';

/** Which job a task belongs to: the document itself, or the key of the document in the task's store. */
export type WorkerJobRef = ({ readonly job: unknown } | { readonly jobKey: string }) & {
  /** A folder of the worker's store that this job's blocks live under (`jobs/x/store/`). Default: none. */
  readonly storePrefix?: string;
  /** The job's name, for the worker's log lines. Default: none. */
  readonly jobName?: string;
  /**
   * With `jobKey`: the version of the document the task was planned from (`jobVersion`). The worker keeps
   * a graph per version, and refuses a document under the key that is another version. Default: none (the first
   * document read under the key is kept).
   */
  readonly jobVersion?: string;
};

/** The worker Lambda's event: one task of a job. */
export type WorkerEvent = WorkerJobRef & { readonly task: TaskPlan };

/**
 * A worker event that is not `{ jobKey | job, task }` of the shape a `LambdaTaskRunner` sends. Its message is one
 * line (the coordinator keeps the first line of a worker's error as the batch's error), naming the JSON path of
 * each field at fault; and its stack is that line too, since frames of the parser would tell nothing more.
 */
export class InvalidTaskEventError extends SluiceError {
  override name = 'InvalidTaskEventError';
  constructor(readonly issues: readonly JobIssue[]) {
    super(
      `invalid task event: ${issues
        .map(
          (i) =>
            `${i.path || '(root)'} ${i.message}${i.value === undefined ? '' : ` (got ${preview(i.value)})`}`,
        )
        .join('; ')}`,
    );
    this.stack = `${this.name}: ${this.message}`;
  }
}

/**
 * Checks a worker event at the edge: the job it names and the task plan's shape, down to what the executor reads
 * before any dataset runs (each dataset's id and type, the shuffle statuses, the action). Anything else throws an
 * {@link InvalidTaskEventError} naming the fields at fault, such as `task.partition must be a whole number`.
 */
export function parseWorkerEvent(event: unknown): WorkerEvent {
  const issues = workerEventIssues(event);
  if (issues.length > 0) throw new InvalidTaskEventError(issues);
  return event as WorkerEvent;
}

/**
 * The problems of a worker event, each at its JSON path; none for a well-formed one. The shape is
 * `workerEvent.schema.json`, compiled ahead of time (`npm run schema`): no compilation, no `new Function`, at
 * run time.
 */
export function workerEventIssues(event: unknown): JobIssue[] {
  const issues: JobIssue[] = [];
  // Kept as code: jobKey xor job. A schema says it with `oneOf` of two `required`s (or `not`), whose errors name
  // neither field ("must match exactly one schema in oneOf" at the root); here each case names the one at fault.
  if (isObject(event)) {
    const hasKey = event.jobKey !== undefined;
    const hasJob = event.job !== undefined;
    if (hasKey && hasJob) issues.push({ path: 'job', message: 'and jobKey are both given: give one' });
    if (!hasKey && !hasJob) {
      issues.push({
        path: 'jobKey',
        message:
          'is missing: give jobKey (the key of the job document in the store) or job (the document); ' +
          'a LambdaTaskRunner sends them when given its `job` option',
      });
    }
  }
  if (!validate(event)) {
    for (const error of validate.errors ?? []) {
      const issue = issueOf(error, event);
      if (issue !== undefined) issues.push(issue);
    }
  }
  return issues;
}

/** A schema node, as the generated validator's verbose errors carry it. */
type SchemaNode = {
  readonly description?: string;
  readonly whenMissing?: string;
  readonly $ref?: string;
  readonly enum?: readonly unknown[];
  readonly properties?: Readonly<Record<string, SchemaNode>>;
};

/** Turns one Ajv error into an issue at the path of the field at fault, or undefined for a redundant error. */
function issueOf(error: ErrorObject, event: unknown): JobIssue | undefined {
  const path = pathOf(segmentsOf(error.instancePath, event));
  const node = (error.parentSchema ?? {}) as SchemaNode;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'propertyNames': // the inner error, which carries the name, says it
      return undefined;
    case 'required': {
      const field = String(params.missingProperty);
      const fieldNode = resolve(node.properties?.[field]);
      return { path: child(path, field), message: fieldNode.whenMissing ?? `must be ${describe(fieldNode)}` };
    }
    case 'additionalProperties':
      return {
        path: child(path, String(params.additionalProperty)),
        message: `is not a field; expected ${Object.keys(node.properties ?? {}).join(', ')}`,
      };
    default:
      // A shuffle id that is not one: the name is at fault, not a value.
      if (error.propertyName !== undefined) {
        return { path: child(path, error.propertyName), message: `is not ${describe(node)}` };
      }
      return { path, message: `must be ${describe(node)}`, value: error.data };
  }
}

/** What a value must be, in words: the node's `description`, else the values of its enum. */
function describe(node: SchemaNode): string {
  if (node.description !== undefined) return node.description;
  if (node.enum !== undefined) return `one of ${node.enum.join(', ')}`;
  return 'valid';
}

/** The node a `$ref` names (`#/$defs/wholeNumber`), or the node itself. */
function resolve(node: SchemaNode | undefined): SchemaNode {
  if (node?.$ref === undefined) return node ?? {};
  const name = node.$ref.replace(/^#\/\$defs\//, '');
  return ((schema.$defs as Record<string, SchemaNode> | undefined)?.[name] ?? {}) as SchemaNode;
}

/** `task.stage.datasets[0].type`, `task.shuffleInputs.0`: a shuffle id reads as a field, as the plan names it. */
function pathOf(segments: readonly (string | number)[]): string {
  return segments.reduce<string>((path, s) => (typeof s === 'number' ? `${path}[${s}]` : child(path, s)), '');
}

function child(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}
