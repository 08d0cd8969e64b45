import { describe, expect, it } from 'vitest';
import { awsTrialDocument, awsTrials } from '../../lib/aws/awsTrialRunner';
import type { JobDocument } from '../../lib/job/JobDocument';

const job = (sources: JobDocument['sources']): JobDocument =>
  ({
    name: 'moods',
    batchIntervalMs: 1000,
    sources,
    streams: { n: { from: Object.keys(sources)[0]!, ops: [{ op: 'count' }] } },
    outputs: [{ stream: 'n', type: 'print' }],
  }) as JobDocument;

describe("a trial's job on the stack (sluice tune --aws)", () => {
  it('keeps the operations, sets interval, partitions and rate, and reads Kinesis from the trial on', () => {
    // given a job with a generator and a Kinesis source
    const doc = awsTrialDocument(
      job({
        tweets: { type: 'generator', kind: 'tweets', ratePerSec: 5, seed: 3 },
        lines: { type: 'kinesis', streamName: 'in', startAt: 'TRIM_HORIZON' },
      }),
      { intervalMs: 500, partitions: 4, ratePerSec: 800 },
      3,
    );
    // then it runs under a name of its own, at the trial's configuration
    expect(doc).toMatchObject({
      name: 'moods-tune-3',
      batchIntervalMs: 500,
      defaultPartitions: 4,
      sources: {
        tweets: { type: 'generator', kind: 'tweets', ratePerSec: 800, seed: 3, partitions: 4 },
        lines: { type: 'kinesis', streamName: 'in', startAt: 'LATEST', partitions: 4 },
      },
      streams: { n: { from: 'tweets', ops: [{ op: 'count' }] } },
    });
  });

  it('says which source it cannot feed at a rate', () => {
    expect(() =>
      awsTrialDocument(job({ lines: { type: 'socket', host: '127.0.0.1', port: 9 } }), {
        intervalMs: 1000,
        partitions: 2,
        ratePerSec: 10,
      }),
    ).toThrow(
      'sources.lines is a socket source: sluice tune --aws feeds generator sources (at the rate tried) and kinesis sources',
    );
    // and names an s3Prefix source with its article
    expect(() =>
      awsTrialDocument(job({ lines: { type: 's3Prefix', bucket: 'b', prefix: 'in/' } }), {
        intervalMs: 1000,
        partitions: 2,
        ratePerSec: 10,
      }),
    ).toThrow('sources.lines is an s3Prefix source: sluice tune --aws feeds generator sources');
  });

  it("advises more worker memory, not this machine's cores, when no configuration meets the target", async () => {
    // given the trials of sluice tune --aws (no call is made: the clients are only built)
    const elsewhere = (await awsTrials({ control: 'control', stream: 'tweets' }))(
      job({ lines: { type: 'kinesis' } }),
      new Map([['lines', ['a b']]]),
    );
    // then the search's advice names what gives a Lambda worker more compute
    expect(elsewhere.moreCapacity).toContain('sluice:workerMemoryMb');
  });
});
