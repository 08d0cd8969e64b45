import { describe, expect, it } from 'vitest';
import { parseCoordinatorEvent } from '../../lib/aws/coordinatorEvents';
import jobSchema from '../../lib/job/job.schema.json' with { type: 'json' };
import { JOB_NAME, JOB_NAME_RULE } from '../../lib/job/jobName';
import { validateJob } from '../../lib/job/validateJob';
import { issueAt, issuesOf, minimalJob } from './fixtures/jobs';

describe("a job's name follows one rule on every front end", () => {
  it('is the same pattern in the schema as in JOB_NAME', () => {
    // given the schema's field and the rule the AWS front end checks
    const field = jobSchema.properties.name as { pattern?: string };
    // then they are one pattern, so a document valid locally is valid on AWS
    expect(field.pattern).toBe(JOB_NAME.source);
  });

  it('refuses a name too long for a folder, saying the rule', () => {
    // given a name of 300 characters, which made `run` fail with ENAMETOOLONG creating .sluice/<name>
    const doc = minimalJob({ name: 'a'.repeat(300) });
    // when it is validated
    const issue = issueAt(issuesOf(doc), 'name');
    // then the name is refused at its path, with the rule in words
    expect(issue.message).toBe(`must be ${JOB_NAME_RULE}`);
    expect(issue.message).toContain('at most 100');
  });

  it('refuses characters a folder or an S3 key should not hold, and an empty name', () => {
    for (const name of ['my job', 'a/b', '..', '-x', '', 'café']) {
      // when a document with that name is validated, then it is refused at name
      expect(issueAt(issuesOf(minimalJob({ name })), 'name').message).toContain('letters, digits');
    }
  });

  it('accepts names of 1 to 100 letters, digits, _ . and -', () => {
    for (const name of ['a', '7', 'hashtag-counts', 'v1.2_beta', 'a'.repeat(100)]) {
      expect(() => validateJob(minimalJob({ name }))).not.toThrow();
    }
    expect(issuesOf(minimalJob({ name: 'a'.repeat(101) })).map((i) => i.path)).toEqual(['name']);
  });

  it('is said the same way by a control event', () => {
    // when a control event names a job that cannot exist
    const parse = () => parseCoordinatorEvent({ action: 'stop', job: 'a'.repeat(101) });
    // then its message says the same rule
    expect(parse).toThrow(JOB_NAME_RULE);
  });
});
