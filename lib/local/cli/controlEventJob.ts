import { JobFileError, type JobIssue } from '../../errors';

/** Where a start event holds its job document, and so the prefix of the job's JSON paths in the event. */
export const START_EVENT_JOB_PATH = 'job';

/**
 * The job document of a file that holds an event for the control function on AWS (`events/aws/start-…json`,
 * `{"action": "start", "job": {…}}`) rather than a job document, or undefined for a document that is no event.
 * `validate` checks a start event's job, as the README asks before a start event is sent (the Lambda runtime
 * parses the event, so a key given twice can only be found in the file); read as a job document, the event was
 * refused with a line for each of the job's fields, none saying it was an event. Any other event, and a start
 * event where a job must run, is refused in one sentence saying what to give instead.
 */
export function controlEventJob(argument: string, document: unknown, startEvents: boolean): unknown {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return undefined;
  const event = document as Record<string, unknown>;
  if (!('action' in event)) return undefined;
  const job = event[START_EVENT_JOB_PATH];
  const isStart = event.action === 'start' && typeof job === 'object' && job !== null && !Array.isArray(job);
  if (isStart && startEvents) return job;
  const action = typeof event.action === 'string' ? `a ${event.action} event` : 'an event';
  throw new JobFileError(
    argument,
    `is ${action} for the control function on AWS, not a job document; ${
      isStart
        ? `give the job itself (its "${START_EVENT_JOB_PATH}", in a file of its own), or check the event's job with sluice validate`
        : 'give a job document (.json) or a job module (.ts, .mts, .js, .mjs)'
    }`,
  );
}

/** A job's problems with each path placed inside the start event that holds the job (`job.streams.x`). */
export function inStartEvent(issues: readonly JobIssue[]): JobIssue[] {
  return issues.map((issue) => ({
    ...issue,
    path: issue.path ? `${START_EVENT_JOB_PATH}.${issue.path}` : START_EVENT_JOB_PATH,
  }));
}
