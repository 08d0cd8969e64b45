import { describe, expect, it } from 'vitest';
import { withRetries } from '../../lib/aws/awsClients';
import { logTaskRetries, withTaskLog } from '../../lib/aws/taskLog';
import { StderrLogger } from '../../lib/local/StderrLogger';

/** A JSON logger whose lines land in `lines`, parsed. */
function capture(job: string) {
  const lines: Array<Record<string, any>> = [];
  const log = new StderrLogger({ json: true, write: (text) => lines.push(JSON.parse(text)) });
  return { lines, log: log.with({ job }) };
}

/** A call that is throttled `times` times, then answers. */
function throttled(times: number) {
  let calls = 0;
  return async () => {
    if (calls++ < times) {
      throw Object.assign(new Error('Rate exceeded for shard shardId-000'), {
        name: 'ProvisionedThroughputExceededException',
      });
    }
    return 'records';
  };
}

const policy = { baseBackoffMs: 1, onRetry: logTaskRetries('Kinesis') };

describe('throttling in a worker task', () => {
  it("is logged once per retry, with its cause, in the line of the task's own logger", async () => {
    // given two tasks running at once, each with its logger, each throttled a different number of times
    const a = capture('a');
    const b = capture('b');
    // when both retry their calls
    const answers = await Promise.all([
      withTaskLog(a.log, () => withRetries(throttled(2), policy)),
      withTaskLog(b.log, () => withRetries(throttled(1), policy)),
    ]);
    // then each got its answer, and each task's logger has exactly its own retries, with the cause
    expect(answers).toEqual(['records', 'records']);
    expect(a.lines.map((l) => [l.level, l.job, l.retry])).toEqual([
      ['WARN', 'a', 1],
      ['WARN', 'a', 2],
    ]);
    expect(b.lines.map((l) => [l.level, l.job, l.retry])).toEqual([['WARN', 'b', 1]]);
    expect(a.lines[0]).toMatchObject({
      service: 'Kinesis',
      error: 'ProvisionedThroughputExceededException: Rate exceeded for shard shardId-000',
    });
  });

  it('goes on without a logger outside a task', async () => {
    await expect(withRetries(throttled(1), policy)).resolves.toBe('records');
  });
});
