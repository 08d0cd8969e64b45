import { type JobIssue, JobValidationError } from '../errors';
import { JOB_NAME, JOB_NAME_RULE } from '../job/jobName';
import { unknownFieldMessage } from '../job/schemaIssues';
import { MAX_BATCHES } from '../scheduler/JobScheduler';

/** What the coordinator is asked to do. Every event is validated here, at the edge. */
export type CoordinatorEvent =
  | {
      readonly action: 'start';
      readonly job: Record<string, unknown>;
      readonly batches?: number;
      /** Reset the job first: its checkpoint, store and lease are cleared, and it begins from scratch. */
      readonly fresh?: boolean;
    }
  | { readonly action: 'stop'; readonly job: string }
  | { readonly action: 'reset'; readonly job: string }
  | { readonly action: 'status'; readonly job: string; readonly last: number }
  | { readonly action: 'tick'; readonly job?: string };

/**
 * Reads an incoming event: a job document (starts or updates the job), `{"action":"start","job":{…},
 * "batches":N,"fresh":true}`, `{"action":"stop","job":name}`, `{"action":"reset","job":name}`,
 * `{"action":"status","job":name,"last":N}`, or the scheduled
 * tick (`{"action":"tick"}`, or an EventBridge scheduled event). Anything else is an error naming the field.
 */
export function parseCoordinatorEvent(event: unknown): CoordinatorEvent {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw invalidEvent([{ path: '', message: 'the event must be a JSON object', value: event }]);
  }
  const e = event as Record<string, unknown>;
  if (e.source === 'aws.events' || e['detail-type'] === 'Scheduled Event') {
    // A scheduled event carries no action; one that does was sent by hand, and its action must not be dropped
    // for a tick that answers ok (a reset that never happened).
    if (e.action !== undefined || e.job !== undefined) {
      throw invalidEvent([
        {
          path: e.action !== undefined ? 'action' : 'job',
          message:
            'a scheduled event (source aws.events) carries no action or job; send the action without "source" and "detail-type"',
          value: e.action ?? e.job,
        },
      ]);
    }
    return { action: 'tick' };
  }
  if (e.action === undefined) {
    // A JSON job, or a document naming a deployed TypeScript job module (`{"name", "module"}`).
    if ('batchIntervalMs' in e || 'sources' in e || 'module' in e) {
      // `batches` and `fresh` are the start event's, not the job's: said so, rather than "invalid job: batches:
      // is not a field", which sends the user looking in the job's schema.
      const misplaced = START_FIELDS.filter((field) => field in e);
      if (misplaced.length > 0) {
        throw invalidEvent(
          misplaced.map((field) => ({
            path: field,
            message: `is a field of the start event, not of the job document: send {"action": "start", "job": {…the job…}, "${field}": …}`,
            value: e[field],
          })),
        );
      }
      return { action: 'start', job: e };
    }
    throw invalidEvent([
      { path: 'action', message: 'expected a job document or an action: start, stop, reset, status or tick' },
    ]);
  }
  // The action's own fields first: a start without its job says so, not that every field of the job is unknown.
  const parsed = parseAction(e);
  refuseUnknownFields(e);
  return parsed;
}

/** An event with an action, its fields checked. */
function parseAction(e: Record<string, unknown>): CoordinatorEvent {
  switch (e.action) {
    case 'start': {
      if (typeof e.job !== 'object' || e.job === null || Array.isArray(e.job)) {
        throw invalidEvent([{ path: 'job', message: 'start needs the job document in "job"', value: e.job }]);
      }
      if (
        e.batches !== undefined &&
        (!Number.isInteger(e.batches) || (e.batches as number) < 1 || (e.batches as number) > MAX_BATCHES)
      ) {
        throw invalidEvent([
          {
            path: 'batches',
            message: `must be a whole number from 1 to ${MAX_BATCHES} (the batch to stop after; leave it out to run until stopped)`,
            value: e.batches,
          },
        ]);
      }
      if (e.fresh !== undefined && typeof e.fresh !== 'boolean') {
        throw invalidEvent([
          { path: 'fresh', message: 'must be true (begin from scratch) or false', value: e.fresh },
        ]);
      }
      return {
        action: 'start',
        job: e.job as Record<string, unknown>,
        ...(e.batches ? { batches: e.batches as number } : {}),
        ...(e.fresh === true ? { fresh: true } : {}),
      };
    }
    case 'stop':
      return { action: 'stop', job: jobName(e.job) };
    case 'reset':
      return { action: 'reset', job: jobName(e.job) };
    case 'status': {
      // Only a missing `last` means the default: null, as every other field's, is refused (it read as 10, unsaid).
      const last = e.last === undefined ? DEFAULT_STATUS_BATCHES : e.last;
      if (!Number.isInteger(last) || (last as number) < 1 || (last as number) > 1000) {
        throw invalidEvent([
          {
            path: 'last',
            message: `must be a whole number from 1 to 1000 (leave it out for the last ${DEFAULT_STATUS_BATCHES} batches)`,
            value: last,
          },
        ]);
      }
      return { action: 'status', job: jobName(e.job), last: last as number };
    }
    case 'tick':
      return e.job === undefined ? { action: 'tick' } : { action: 'tick', job: jobName(e.job) };
    default:
      throw invalidEvent([
        { path: 'action', message: 'must be one of start, stop, reset, status, tick', value: e.action },
      ]);
  }
}

/** The batches a status event answers when it gives no `last`. */
const DEFAULT_STATUS_BATCHES = 10;

/** The fields a start event has beside its job document. */
const START_FIELDS = ['batches', 'fresh'] as const;

/** The fields of each action's event. */
const EVENT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  start: ['action', 'job', ...START_FIELDS],
  stop: ['action', 'job'],
  reset: ['action', 'job'],
  status: ['action', 'job', 'last'],
  tick: ['action', 'job'],
};

/** Refuses the fields an action's event does not have. */
function refuseUnknownFields(e: Record<string, unknown>): void {
  const fields = EVENT_FIELDS[e.action as string]!;
  const unknown = Object.keys(e).filter((field) => !fields.includes(field));
  if (unknown.length > 0) {
    // A misspelt field ("batch") would otherwise be dropped without a word: a job meant to stop runs on.
    throw invalidEvent(
      unknown.map((field) => ({
        path: field,
        message: unknownFieldMessage(field, ` of a ${String(e.action)} event`, fields),
        value: e[field],
      })),
    );
  }
}

function jobName(value: unknown): string {
  if (typeof value !== 'string' || !JOB_NAME.test(value)) {
    throw invalidEvent([{ path: 'job', message: `must be the name of a job: ${JOB_NAME_RULE}`, value }]);
  }
  return value;
}

/** A problem with the event itself (its action and fields), not with the job document it may carry. */
function invalidEvent(issues: readonly JobIssue[]): JobValidationError {
  return new JobValidationError(issues, 'event');
}
