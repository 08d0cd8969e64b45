import { datasetTypes } from '../dataset/datasetTypes';
import { type JobIssue, preview, SluiceError } from '../errors';
import type { TaskPlan } from '../plan/Plan';
import { isJobVersion } from './jobVersion';

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

/** The fields of a worker event besides its task: what a `LambdaTaskRunner`'s `job` option holds. */
const EVENT_FIELDS = ['job', 'jobKey', 'storePrefix', 'jobName', 'jobVersion', 'task'];
const ACTIONS = ['collect', 'take', 'count', 'saveText'];

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

/** The problems of a worker event, each at its JSON path; none for a well-formed one. */
export function workerEventIssues(event: unknown): JobIssue[] {
  const issues: JobIssue[] = [];
  const add = (path: string, message: string, value?: unknown) =>
    issues.push({ path, message, ...(value === undefined ? {} : { value }) });
  if (!isObject(event)) {
    add('', 'must be an object { jobKey or job, task }', event);
    return issues;
  }
  for (const field of Object.keys(event)) {
    if (!EVENT_FIELDS.includes(field)) add(field, `is not a field; expected ${EVENT_FIELDS.join(', ')}`);
  }
  const hasKey = event.jobKey !== undefined;
  const hasJob = event.job !== undefined;
  if (hasKey && hasJob) add('job', 'and jobKey are both given: give one');
  if (!hasKey && !hasJob) {
    add(
      'jobKey',
      'is missing: give jobKey (the key of the job document in the store) or job (the document); ' +
        'a LambdaTaskRunner sends them when given its `job` option',
    );
  }
  if (hasKey && (typeof event.jobKey !== 'string' || event.jobKey === '')) {
    add('jobKey', 'must be a non-empty string', event.jobKey);
  }
  if (hasJob && !isObject(event.job)) add('job', 'must be a job document (an object)', event.job);
  if (event.jobVersion !== undefined && !isJobVersion(event.jobVersion)) {
    add('jobVersion', 'must be 16 hexadecimal digits', event.jobVersion);
  }
  if (event.jobName !== undefined && typeof event.jobName !== 'string') {
    add('jobName', 'must be a string', event.jobName);
  }
  const prefix = event.storePrefix;
  if (
    prefix !== undefined &&
    (typeof prefix !== 'string' || prefix.startsWith('/') || prefix.split('/').includes('..'))
  ) {
    add('storePrefix', 'must be a relative folder such as jobs/x/store/', prefix);
  }
  const task = event.task;
  if (!isObject(task)) {
    add('task', 'must be a task plan (an object)', task);
    return issues;
  }
  for (const field of ['jobId', 'batchTime', 'partition', 'attempt'] as const) {
    wholeNumber(`task.${field}`, task[field], add);
  }
  if (task.speculative !== undefined && task.speculative !== true) {
    add('task.speculative', 'must be true or absent', task.speculative);
  }
  if (task.action !== undefined) actionIssues(task.action, add);
  shuffleInputIssues(task.shuffleInputs, add);
  stageIssues(task.stage, add);
  return issues;
}

type Add = (path: string, message: string, value?: unknown) => void;

function stageIssues(stage: unknown, add: Add): void {
  if (!isObject(stage)) {
    add('task.stage', 'must be a stage plan (an object)', stage);
    return;
  }
  wholeNumber('task.stage.stageId', stage.stageId, add);
  wholeNumber('task.stage.numPartitions', stage.numPartitions, add);
  // A merge stage has no datasets, and its root is -1.
  if (!Number.isInteger(stage.rootId)) add('task.stage.rootId', 'must be an integer', stage.rootId);
  if (stage.runOn !== undefined && stage.runOn !== 'any' && stage.runOn !== 'driver') {
    add('task.stage.runOn', 'must be "any" or "driver"', stage.runOn);
  }
  for (const field of ['parentStageIds', 'shuffleReads'] as const) {
    const ids = stage[field];
    if (ids === undefined) continue;
    if (!Array.isArray(ids)) add(`task.stage.${field}`, 'must be an array of ids', ids);
    else for (const [i, id] of ids.entries()) wholeNumber(`task.stage.${field}[${i}]`, id, add);
  }
  if (!Array.isArray(stage.datasets)) {
    add('task.stage.datasets', 'must be an array of dataset specs', stage.datasets);
  } else {
    for (const [i, spec] of stage.datasets.entries()) datasetIssues(`task.stage.datasets[${i}]`, spec, add);
  }
  const write = stage.shuffleWrite;
  if (write !== undefined) {
    if (!isObject(write)) add('task.stage.shuffleWrite', 'must be an object', write);
    else {
      wholeNumber('task.stage.shuffleWrite.shuffleId', write.shuffleId, add);
      if (!isObject(write.partitioner) || !Number.isInteger(write.partitioner.numPartitions)) {
        add('task.stage.shuffleWrite.partitioner', 'must be { type, numPartitions }', write.partitioner);
      }
    }
  }
  const merge = stage.shuffleMerge;
  if (merge !== undefined) {
    if (!isObject(merge)) add('task.stage.shuffleMerge', 'must be an object', merge);
    else {
      wholeNumber('task.stage.shuffleMerge.shuffleId', merge.shuffleId, add);
      if (!Number.isInteger(merge.groupSize) || (merge.groupSize as number) < 1) {
        add('task.stage.shuffleMerge.groupSize', 'must be a positive whole number', merge.groupSize);
      }
    }
  }
}

function datasetIssues(path: string, spec: unknown, add: Add): void {
  if (!isObject(spec)) {
    add(path, 'must be a dataset spec (an object)', spec);
    return;
  }
  if (!Number.isInteger(spec.id)) add(`${path}.id`, 'must be an integer', spec.id);
  if (typeof spec.type !== 'string' || !Object.hasOwn(datasetTypes, spec.type)) {
    add(`${path}.type`, `must be one of ${Object.keys(datasetTypes).join(', ')}`, spec.type);
  }
  wholeNumber(`${path}.numPartitions`, spec.numPartitions, add);
  if (!Array.isArray(spec.deps)) add(`${path}.deps`, 'must be an array', spec.deps);
  if (!isObject(spec.args)) add(`${path}.args`, 'must be an object', spec.args);
}

function shuffleInputIssues(inputs: unknown, add: Add): void {
  if (!isObject(inputs)) {
    add('task.shuffleInputs', 'must be an object of map statuses by shuffle id', inputs);
    return;
  }
  for (const [id, statuses] of Object.entries(inputs)) {
    const path = `task.shuffleInputs.${id}`;
    if (!/^\d+$/.test(id)) add(path, 'is not a shuffle id (a whole number)');
    if (!Array.isArray(statuses)) {
      add(path, 'must be an array of map statuses', statuses);
      continue;
    }
    statuses.forEach((status, i) => {
      if (!isObject(status)) add(`${path}[${i}]`, 'must be a map status { key, offsets }', status);
      else {
        if (typeof status.key !== 'string') add(`${path}[${i}].key`, 'must be a string', status.key);
        if (!Array.isArray(status.offsets) || !status.offsets.every((o) => Number.isInteger(o))) {
          add(`${path}[${i}].offsets`, 'must be an array of byte offsets', status.offsets);
        }
        if (status.inline !== undefined && !isObject(status.inline)) {
          add(`${path}[${i}].inline`, 'must be an object', status.inline);
        }
      }
    });
  }
}

function actionIssues(action: unknown, add: Add): void {
  if (!isObject(action) || typeof action.type !== 'string' || !ACTIONS.includes(action.type)) {
    add('task.action', `must be an action { type: ${ACTIONS.join(' | ')} }`, action);
    return;
  }
  if (action.type === 'take') wholeNumber('task.action.n', action.n, add);
  if (action.type === 'saveText' && typeof action.path !== 'string') {
    add('task.action.path', 'must be a string', action.path);
  }
}

function wholeNumber(path: string, value: unknown, add: Add): void {
  if (!Number.isInteger(value) || (value as number) < 0) {
    add(
      path,
      value === undefined ? 'is missing: it must be a whole number' : 'must be a whole number',
      value,
    );
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
