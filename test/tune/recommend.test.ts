import { describe, expect, it } from 'vitest';
import { recommend } from '../../lib/local/tune/recommend';
import type { ConfigResult } from '../../lib/local/tune/searchRate';

/** A configuration's search result with only what the recommendation reads. */
function result(
  intervalMs: number,
  partitions: number,
  sustainablePerSec?: number,
  totalDelayMs = 100,
): ConfigResult {
  return {
    intervalMs,
    partitions,
    estimatePerSec: sustainablePerSec ?? 0,
    trials: [],
    ...(sustainablePerSec !== undefined ? { sustainablePerSec, medianTotalDelayMs: totalDelayMs } : {}),
  };
}

describe('recommend', () => {
  const results = [
    result(500, 2, 3000, 300),
    result(1000, 2, 6000, 500),
    result(2000, 2, 9000, 900),
    result(5000, 2, 12000, 2000),
    result(1000, 4, 8000, 400),
  ];

  it('picks the interval with the least latency among those that meet the target rate', () => {
    // given search results where 0.5 s sustains 3000/s and longer intervals more
    // when the target is 7000 records/s
    const pick = recommend(results, 7000);
    // then 1 s with 4 partitions (latency 1.4 s) beats 2 s (2.9 s) and 5 s (7 s); 0.5 s and 1 s × 2 fall short
    expect(pick).toMatchObject({ intervalMs: 1000, partitions: 4, sustainablePerSec: 8000, latencyMs: 1400 });
    expect(pick.text).toBe(
      'Use a batch interval of 1 s with 4 partitions: it sustains 7000 records/s (up to 8000 records/s) with the ' +
        'least latency of the configurations that do, about 1.4 s.',
    );
  });

  it('picks the shortest interval when every one meets a low target', () => {
    expect(recommend(results, 1000)).toMatchObject({ intervalMs: 500, partitions: 2 });
  });

  it('moves to a longer interval as the target rises past what shorter ones sustain', () => {
    expect(recommend(results, 10_000)).toMatchObject({ intervalMs: 5000, partitions: 2 });
  });

  it('says so, with the highest rate found, when no configuration meets the target', () => {
    const pick = recommend(results, 50_000);
    expect(pick.intervalMs).toBeUndefined();
    expect(pick.text).toContain('No configuration tried sustains 50000 records/s');
    expect(pick.text).toContain('The highest rate found is 12000 records/s, with a batch interval of 5 s');
  });

  it('advises more compute of the kind the trials ran on when no configuration meets the target', () => {
    // given the same results, when no configuration meets the target locally and on the stack
    const local = recommend(results, 50_000);
    const aws = recommend(
      results,
      50_000,
      'more worker memory (sluice:workerMemoryMb, which brings more CPU)',
    );
    // then locally it says more cores, on AWS more worker memory, not this machine's cores
    expect(local.text).toMatch(/Try longer intervals, more partitions, or more cores\.$/);
    expect(aws.text).toMatch(/or more worker memory \(sluice:workerMemoryMb, which brings more CPU\)\.$/);
    expect(aws.text).not.toContain('cores');
  });

  it('without a target, picks the configuration that sustains the highest rate', () => {
    expect(recommend(results)).toMatchObject({ intervalMs: 5000, sustainablePerSec: 12000 });
  });

  it('says a rate that held at the most the generators make is a floor, and what limits it', () => {
    // given two configurations that held at what their generator sources may make, one with the less latency
    const atCeiling = (intervalMs: number, perSec: number, delayMs: number): ConfigResult => ({
      ...result(intervalMs, 2, perSec, delayMs),
      ceilingPerSec: perSec,
    });
    const held = [atCeiling(500, 1_000_000, 300), atCeiling(1000, 1_000_000, 700)];
    // then without a target the one with the less latency wins, and its rate is "at least"
    const pick = recommend(held);
    expect(pick).toMatchObject({ intervalMs: 500, sustainablePerSec: 1_000_000 });
    expect(pick.text).toContain('it sustains at least 1000000 records/s, the most the job');
    // and a target above it is not called too fast for the machine: the sentence says what limited the search
    const above = recommend(held, 2_000_000).text;
    expect(above).toContain('The highest rate found is at least 1000000 records/s');
    expect(above).toContain("Rates marked ≥ held at the most the job's generator sources may make");
    expect(above).not.toContain('more cores');
    // and a target under it says "at least", not "up to"
    expect(recommend(held, 50_000).text).toContain(
      'it sustains 50000 records/s (at least 1000000 records/s)',
    );
  });

  it('says the job could not run, rather than advise on rates, when every configuration failed', () => {
    const failed: ConfigResult[] = [
      { ...result(500, 2), error: 'invalid job: the slide is not a multiple of the interval' },
      { ...result(1000, 2), error: 'a batch failed' },
    ];
    const pick = recommend(failed, 50_000);
    expect(pick.intervalMs).toBeUndefined();
    expect(pick.text).toMatch(/^No configuration tried could run the job/);
  });

  it('ignores configurations where nothing was stable', () => {
    const pick = recommend([result(500, 2), result(1000, 2, 2000)], 1000);
    expect(pick).toMatchObject({ intervalMs: 1000 });
    expect(recommend([result(500, 2)]).text).toContain('No configuration tried kept its total delay flat');
  });
});
