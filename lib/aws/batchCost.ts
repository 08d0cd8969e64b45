import type { BatchCost, BatchUsage } from '../scheduler/StreamingListener';
import type { AwsPrices } from './AwsPrices';

/**
 * A batch's cost report: its usage, and what it comes to at `prices`, in dollars for the batch and per million
 * records (absent for an empty batch, whose records are none).
 *
 * @example
 * batchCost({ records: 1e5, workerGbSeconds: 3.5, coordinatorGbSeconds: 1, workerInvocations: 4,
 *   coordinatorInvocations: 0, s3WriteRequests: 12, s3ReadRequests: 20, kinesisGetRecords: 2 }, US_EAST_1_PRICES)
 */
export function batchCost(usage: BatchUsage, prices: AwsPrices): BatchCost {
  const lambdaDollars =
    (usage.workerGbSeconds + usage.coordinatorGbSeconds) * prices.lambdaPerGbSecond +
    (usage.workerInvocations + usage.coordinatorInvocations) * prices.lambdaPerInvocation;
  const s3Dollars =
    usage.s3WriteRequests * prices.s3PerWriteRequest + usage.s3ReadRequests * prices.s3PerReadRequest;
  const kinesisDollars = usage.kinesisGetRecords * prices.kinesisPerGetRecords;
  const dollars = lambdaDollars + s3Dollars + kinesisDollars;
  return {
    ...usage,
    workerGbSeconds: round(usage.workerGbSeconds, 4),
    coordinatorGbSeconds: round(usage.coordinatorGbSeconds, 4),
    lambdaDollars: round(lambdaDollars, 9),
    s3Dollars: round(s3Dollars, 9),
    kinesisDollars: round(kinesisDollars, 9),
    dollars: round(dollars, 9),
    ...(usage.records > 0 ? { dollarsPerMillionRecords: round((dollars / usage.records) * 1e6, 6) } : {}),
    prices: prices.source,
  };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** The cost of several batches together, as the status event reports it over the batches it keeps. */
export interface CostSummary {
  readonly batches: number;
  readonly records: number;
  readonly dollars: number;
  /** Absent when the batches held no record. */
  readonly dollarsPerMillionRecords?: number;
  readonly prices?: string;
}

/** Sums the cost reports of `batches` (those without one, such as local ones, are left out). */
export function costOf(batches: readonly { readonly cost?: BatchCost }[]): CostSummary {
  const costs = batches.flatMap((b) => (b.cost ? [b.cost] : []));
  const records = costs.reduce((sum, c) => sum + c.records, 0);
  const dollars = costs.reduce((sum, c) => sum + c.dollars, 0);
  return {
    batches: costs.length,
    records,
    dollars: round(dollars, 9),
    ...(records > 0 ? { dollarsPerMillionRecords: round((dollars / records) * 1e6, 6) } : {}),
    ...(costs.length > 0 ? { prices: costs.at(-1)!.prices } : {}),
  };
}
