import { describe, expect, it } from 'vitest';
import type { JobDocument } from '../../lib/job/JobDocument';
import { validateJob } from '../../lib/job/validateJob';
import { maxTrialRatePerSec, trialDocument } from '../../lib/local/tune/tuneTrial';
import { minimalJob } from '../job/fixtures/jobs';

/** A job whose only source is a generator with `options`, its lines counted. */
function generatorJob(options: Record<string, unknown>): JobDocument {
  return validateJob(
    minimalJob({
      sources: { lines: { type: 'generator', ratePerSec: 10, ...options } },
      streams: { n: { from: 'lines', ops: [{ op: 'count' }] } },
      outputs: [{ stream: 'n', type: 'print' }],
    }),
  );
}

/** Whether the job accepts the trial document that feeds it `ratePerSec` at `intervalMs`. */
function accepts(job: JobDocument, intervalMs: number, ratePerSec: number): boolean {
  try {
    validateJob(trialDocument(job, { intervalMs, partitions: 2, ratePerSec }));
    return true;
  } catch {
    return false;
  }
}

describe('the highest rate sluice tune feeds a job', () => {
  // The kinds and line lengths that reach each of the limits: records a second, records a batch, bytes a batch.
  const generators: Record<string, unknown>[] = [
    { kind: 'tweets' },
    { kind: 'kv' },
    { kind: 'lines' },
    { kind: 'lines', lineBytes: 4096 },
    { kind: 'lines', lineBytes: 1_048_576 },
  ];
  for (const options of generators) {
    it(`is the highest the job accepts, at every interval (${JSON.stringify(options)})`, () => {
      const job = generatorJob(options);
      for (const intervalMs of [500, 1000, 3000, 5000, 7000, 60_000]) {
        // given the ceiling at this interval
        const ceiling = maxTrialRatePerSec(job, intervalMs);
        // then the trial at the ceiling is a valid job, and one record a second more is not
        expect(accepts(job, intervalMs, ceiling), `${intervalMs} ms at ${ceiling}/s`).toBe(true);
        expect(accepts(job, intervalMs, ceiling + 1), `${intervalMs} ms at ${ceiling + 1}/s`).toBe(false);
      }
    });
  }

  it('is the lowest of the generators, and unbounded for sources replayed from samples', () => {
    const two = validateJob(
      minimalJob({
        sources: {
          tweets: { type: 'generator', kind: 'tweets', ratePerSec: 10 },
          long: { type: 'generator', kind: 'lines', lineBytes: 4096, ratePerSec: 10 },
        },
        streams: { n: { from: 'tweets', ops: [{ op: 'union', with: 'long' }, { op: 'count' }] } },
        outputs: [{ stream: 'n', type: 'print' }],
      }),
    );
    expect(maxTrialRatePerSec(two, 1000)).toBe(Math.floor((256 * 1024 * 1024) / 4096));
    expect(maxTrialRatePerSec(validateJob(minimalJob()), 1000)).toBe(Number.POSITIVE_INFINITY);
  });
});
