import type { GetRecordsCommandOutput, KinesisClient } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { getRecordsPage } from '../../lib/aws/kinesisCalls';

/** A client whose GetRecords answers with each of `answers` in turn (an Error is thrown). */
function clientAnswering(...answers: Array<Partial<GetRecordsCommandOutput> | Error>): KinesisClient {
  return {
    send: async () => {
      const answer = answers.shift();
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as KinesisClient;
}

const named = (name: string) => Object.assign(new Error(`${name} from the test`), { name });
const noWait = { baseBackoffMs: 0 };

describe('getRecordsPage', () => {
  it('answers undefined for an expired iterator, so the caller takes a fresh one', async () => {
    let calls = 0;
    const client = clientAnswering(named('ExpiredIteratorException'));
    expect(await getRecordsPage(client, noWait, 'it-1', 10, () => calls++)).toBeUndefined();
    expect(calls).toBe(1);
  });

  it('retries a throttled call, counting every call, and returns the page', async () => {
    let calls = 0;
    const client = clientAnswering(named('ThrottlingException'), { Records: [], NextShardIterator: 'it-2' });
    const page = await getRecordsPage(client, noWait, 'it-1', 10, () => calls++);
    expect(page?.NextShardIterator).toBe('it-2');
    expect(calls).toBe(2);
  });

  it('rethrows any other failure', async () => {
    const client = clientAnswering(named('ResourceNotFoundException'));
    await expect(getRecordsPage(client, noWait, 'it-1', 10, () => {})).rejects.toThrow(
      /ResourceNotFoundException from the test/,
    );
  });
});
