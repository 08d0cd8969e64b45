import { SluiceError } from '../errors';

/** The gains and floor of a {@link PIDRateEstimator}; Spark's `spark.streaming.backpressure.pid.*`. */
export interface PIDRateEstimatorOptions {
  /** Weight of the current error: the latest rate minus the processing rate. Default 1.0. */
  readonly proportional?: number;
  /** Weight of the accumulated error, measured by the scheduling delay. Default 0.2. */
  readonly integral?: number;
  /** Weight of the error's change per second. Default 0 (it makes the controller jumpy). */
  readonly derivative?: number;
  /** The lowest rate ever estimated, in records per second, so every batch still measures something. Default 100. */
  readonly minRatePerSec?: number;
}

/**
 * Spark's PIDRateEstimator: a proportional-integral-derivative controller that, from each completed batch's
 * records, processing time and scheduling delay, estimates the rate (records per second) a source may deliver so
 * that batches are processed as fast as they arrive.
 *
 * The set point is the rate estimated for the previous batch. The proportional term is how far the batch's
 * processing rate fell short of it; the integral term is the backlog the scheduling delay stands for: a delay
 * of d ms at a processing rate of p records/s means d·p/1000 records that could not be processed in time, which
 * spread over one interval is a rate of d·p/interval to take off. The first batch only sets the starting point
 * (the measured processing rate) and gives no estimate; batches without records or processing time give none
 * either. An estimate is never below `minRatePerSec`.
 *
 * @example
 * const pid = new PIDRateEstimator(1000);
 * pid.compute(1000, 2000, 2000, 0);    // undefined: the first batch sets the starting point, 1000/s
 * pid.compute(2000, 2000, 2000, 1000); // 800: 1000 − 1.0 × 0 − 0.2 × 1000
 */
export class PIDRateEstimator {
  private readonly proportional: number;
  private readonly integral: number;
  private readonly derivative: number;
  private readonly minRatePerSec: number;
  private firstRun = true;
  private latestTimeMs = -1;
  private latestRatePerSec = -1;
  private latestError = -1;

  /** An estimator for batches `batchIntervalMs` apart; the gains are checked now. */
  constructor(
    private readonly batchIntervalMs: number,
    options: PIDRateEstimatorOptions = {},
  ) {
    if (!(Number.isFinite(batchIntervalMs) && batchIntervalMs > 0)) {
      throw new SluiceError(`the batch interval must be a positive number of ms, got ${batchIntervalMs}`);
    }
    this.proportional = nonNegative('proportional', options.proportional ?? 1.0);
    this.integral = nonNegative('integral', options.integral ?? 0.2);
    this.derivative = nonNegative('derivative', options.derivative ?? 0);
    const minRatePerSec = options.minRatePerSec ?? 100;
    if (!(Number.isFinite(minRatePerSec) && minRatePerSec > 0)) {
      throw new SluiceError(
        `backpressure minRatePerSec must be above 0 so every batch still brings records, got ${minRatePerSec}`,
      );
    }
    this.minRatePerSec = minRatePerSec;
  }

  /**
   * The new rate in records per second after the batch at `batchTimeMs`, or undefined when there is none: the
   * first batch, a batch not newer than the last one used, or one without records or processing time.
   */
  compute(
    batchTimeMs: number,
    records: number,
    processingTimeMs: number,
    schedulingDelayMs: number,
  ): number | undefined {
    if (!(batchTimeMs > this.latestTimeMs && records > 0 && processingTimeMs > 0)) return undefined;
    const secondsSinceUpdate = (batchTimeMs - this.latestTimeMs) / 1000;
    const processingRate = (records / processingTimeMs) * 1000;
    const error = this.latestRatePerSec - processingRate;
    const historicalError = (schedulingDelayMs * processingRate) / this.batchIntervalMs;
    const errorPerSec = (error - this.latestError) / secondsSinceUpdate;
    const newRate = Math.max(
      this.latestRatePerSec -
        this.proportional * error -
        this.integral * historicalError -
        this.derivative * errorPerSec,
      this.minRatePerSec,
    );
    this.latestTimeMs = batchTimeMs;
    if (this.firstRun) {
      // Nothing was estimated before this batch, so its error means nothing: start from what it measured.
      this.latestRatePerSec = processingRate;
      this.latestError = 0;
      this.firstRun = false;
      return undefined;
    }
    this.latestRatePerSec = newRate;
    this.latestError = error;
    return newRate;
  }
}

function nonNegative(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new SluiceError(`backpressure ${name} must be a number of at least 0, got ${value}`);
  }
  return value;
}
