import { describe, expect, it } from 'vitest';
import { PIDRateEstimator } from '../../lib/scheduler/PIDRateEstimator';

describe('PIDRateEstimator', () => {
  it('gives no rate for the first batch: it only measures the starting point', () => {
    // given
    const pid = new PIDRateEstimator(1000);
    // when
    const rate = pid.compute(1000, 2000, 2000, 0);
    // then
    expect(rate).toBeUndefined();
  });

  it('takes the integral of the scheduling delay off the measured rate', () => {
    // given: 1,000 records/s processed, then a batch at that rate 1 s late
    const pid = new PIDRateEstimator(1000);
    pid.compute(1000, 2000, 2000, 0);
    // when
    const rate = pid.compute(2000, 2000, 2000, 1000);
    // then: 1000 − 1.0 × (1000 − 1000) − 0.2 × (1000 × 1000 / 1000)
    expect(rate).toBe(800);
  });

  it('follows the proportional error of a batch slower than the last estimate', () => {
    // given
    const pid = new PIDRateEstimator(1000);
    pid.compute(1000, 2000, 2000, 0); // 1000/s
    pid.compute(2000, 2000, 2000, 1000); // 800/s
    // when: 800 records in 1,600 ms (500/s), 2 s late
    const rate = pid.compute(3000, 800, 1600, 2000);
    // then: error 800 − 500 = 300; historical error 2000 × 500 / 1000 = 1000; 800 − 300 − 200
    expect(rate).toBe(300);
  });

  it('uses the derivative term with its gain, per second since the last update', () => {
    // given
    const pid = new PIDRateEstimator(1000, { derivative: 0.5 });
    pid.compute(1000, 1000, 1000, 0); // 1000/s, error 0
    // when: 2 s later, 1000 records in 2000 ms (500/s), no delay
    const rate = pid.compute(3000, 1000, 2000, 0);
    // then: error 500, dError (500 − 0) / 2 s = 250; 1000 − 500 − 0 − 0.5 × 250
    expect(rate).toBe(375);
  });

  it('never estimates below minRatePerSec', () => {
    // given
    const pid = new PIDRateEstimator(1000, { minRatePerSec: 250 });
    pid.compute(1000, 100, 1000, 0); // 100/s
    // when: a batch far behind
    const rate = pid.compute(2000, 100, 1000, 60_000);
    // then
    expect(rate).toBe(250);
  });

  it('defaults minRatePerSec to 100, as Spark does', () => {
    const pid = new PIDRateEstimator(1000);
    pid.compute(1000, 100, 1000, 0);
    expect(pid.compute(2000, 100, 1000, 60_000)).toBe(100);
  });

  it('skips batches without records, without processing time, or not newer than the last', () => {
    // given
    const pid = new PIDRateEstimator(1000);
    pid.compute(1000, 1000, 1000, 0);
    // when / then
    expect(pid.compute(2000, 0, 1000, 0)).toBeUndefined();
    expect(pid.compute(2000, 1000, 0, 0)).toBeUndefined();
    expect(pid.compute(1000, 1000, 1000, 0)).toBeUndefined();
    // and the next real batch still estimates from the first one's rate: 1000 − (1000 − 1000) − 0
    expect(pid.compute(3000, 1000, 1000, 0)).toBe(1000);
  });

  it('refuses gains below 0 and a minimum rate of 0, naming the setting', () => {
    expect(() => new PIDRateEstimator(1000, { proportional: -1 })).toThrow(/proportional must be/);
    expect(() => new PIDRateEstimator(1000, { integral: -0.2 })).toThrow(/integral must be/);
    expect(() => new PIDRateEstimator(1000, { minRatePerSec: 0 })).toThrow(/minRatePerSec must be above 0/);
    expect(() => new PIDRateEstimator(0)).toThrow(/batch interval/);
  });
});
