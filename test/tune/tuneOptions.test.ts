import { describe, expect, it } from 'vitest';
import { runTune, type TuneOptions } from '../../lib/local/tune/tuneCommand';

/**
 * `runTune` called directly, not through `sluice tune`'s flags, refuses options out of the flags' ranges before
 * anything runs: `partitions: [0]` had every configuration reported invalid after the search had spent its budget,
 * and `budgetMs: 0` still ran every configuration's estimate and trial.
 */

/** A job of one generator source (no sample to read), counting its records. */
const source = {
  kind: 'document',
  baseDir: '/',
  document: {
    name: 'kv',
    batchIntervalMs: 1000,
    sources: { kv: { type: 'generator', kind: 'kv', ratePerSec: 10 } },
    streams: { n: { from: 'kv', ops: [{ op: 'count' }] } },
    outputs: [{ stream: 'n', type: 'print' }],
  },
} as const;

describe('runTune', () => {
  for (const [options, expected] of [
    [{ partitions: [2, 0] }, 'partitions must each be a whole number from 1 to 256'],
    [{ partitions: [] }, 'partitions must list at least one partition count'],
    [{ intervalsMs: [1000, 0] }, 'intervalsMs must each be a whole number from 1 to 3600000'],
    [{ intervalsMs: [7_200_000] }, 'intervalsMs must each be a whole number from 1 to 3600000'],
    [{ intervalsMs: [] }, 'intervalsMs must list at least one batch interval'],
    [{ budgetMs: 0 }, 'budgetMs must be a whole number, 1 or more'],
    [{ trialMs: 0 }, 'trialMs must be a whole number, 1 or more'],
    [{ workers: 257 }, 'workers must be a whole number from 0 to 256'],
    [{ maxTrials: 0 }, 'maxTrials must be a whole number, 1 or more'],
    [{ startPerSec: 0 }, 'startPerSec must be a whole number, 1 or more'],
    [{ targetPerSec: Number.NaN }, 'targetPerSec must be a whole number, 1 or more'],
  ] as const satisfies readonly (readonly [TuneOptions, string])[]) {
    it(`refuses ${JSON.stringify(options)} before the search runs, naming the option and the range`, async () => {
      // given a caller's options with a value out of its range
      const printed: string[] = [];
      // when the search is asked to run with them
      const tuned = runTune(
        source,
        'kv.json',
        options,
        (text) => printed.push(text),
        (line) => printed.push(line),
      );
      // then it is refused with the option, the range and the value, and nothing ran or printed
      await expect(tuned).rejects.toThrow(RangeError);
      await expect(tuned).rejects.toThrow(expected);
      expect(printed).toEqual([]);
    });
  }
});
