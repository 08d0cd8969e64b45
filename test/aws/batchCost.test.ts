import { describe, expect, it } from 'vitest';
import { pricesFrom, US_EAST_1_PRICES } from '../../lib/aws/AwsPrices';
import { batchCost, costOf } from '../../lib/aws/batchCost';
import { emfLine } from '../../lib/aws/emfMetrics';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';

const usage = {
  records: 200_000,
  workerGbSeconds: 10,
  coordinatorGbSeconds: 2,
  workerInvocations: 8,
  coordinatorInvocations: 1,
  s3WriteRequests: 30,
  s3ReadRequests: 50,
  kinesisGetRecords: 4,
};

describe('the cost report of a batch', () => {
  it('prices counted usage at the us-east-1 list prices', () => {
    // when a batch's usage is priced
    const cost = batchCost(usage, US_EAST_1_PRICES);
    // then each part is the count times its price, worked out by hand
    const lambda = 12 * 0.0000166667 + 9 * 0.0000002; // 0.0002000004 + 0.0000018
    const s3 = 30 * 0.000005 + 50 * 0.0000004; // 0.00015 + 0.00002
    expect(cost.lambdaDollars).toBeCloseTo(lambda, 9);
    expect(cost.s3Dollars).toBeCloseTo(s3, 9);
    // GetRecords calls are not billed in provisioned mode
    expect(cost.kinesisDollars).toBe(0);
    expect(cost.dollars).toBeCloseTo(lambda + s3, 9);
    expect(cost.dollarsPerMillionRecords).toBeCloseTo(((lambda + s3) / 200_000) * 1e6, 6);
    expect(cost).toMatchObject({ workerInvocations: 8, s3ReadRequests: 50, prices: US_EAST_1_PRICES.source });
  });

  it('has no per-million figure for an empty batch', () => {
    expect(batchCost({ ...usage, records: 0 }, US_EAST_1_PRICES).dollarsPerMillionRecords).toBeUndefined();
  });

  it('takes prices from SLUICE_PRICES, and names a field that is not a price', () => {
    const prices = pricesFrom({ SLUICE_PRICES: '{"source":"eu-west-1 2026-11","s3PerWriteRequest":0.001}' });
    expect(prices).toMatchObject({ source: 'eu-west-1 2026-11', s3PerWriteRequest: 0.001 });
    expect(prices.lambdaPerGbSecond).toBe(US_EAST_1_PRICES.lambdaPerGbSecond);
    expect(batchCost(usage, prices).s3Dollars).toBeCloseTo(30 * 0.001 + 50 * 0.0000004, 9);
    expect(() => pricesFrom({ SLUICE_PRICES: '{"s3PerPut":1}' })).toThrow(
      /SLUICE_PRICES\.s3PerPut is not a price/,
    );
    expect(() => pricesFrom({ SLUICE_PRICES: '{"s3PerWriteRequest":-1}' })).toThrow(
      /must be a number of dollars/,
    );
    expect(() => pricesFrom({ SLUICE_PRICES: 'cheap' })).toThrow(/must be a JSON object/);
    expect(pricesFrom({})).toBe(US_EAST_1_PRICES);
  });

  it('sums over batches for the status event, leaving out batches without a report', () => {
    const a = batchCost(usage, US_EAST_1_PRICES);
    const b = batchCost({ ...usage, records: 0, workerInvocations: 0, workerGbSeconds: 0 }, US_EAST_1_PRICES);
    const total = costOf([{ cost: a }, { cost: b }, {}]);
    expect(total.batches).toBe(2);
    expect(total.records).toBe(200_000);
    expect(total.dollars).toBeCloseTo(a.dollars + b.dollars, 9);
    expect(total.dollarsPerMillionRecords).toBeCloseTo(((a.dollars + b.dollars) / 200_000) * 1e6, 6);
  });

  it('is in the EMF line as metrics, with the per-million figure and the prices beside them', () => {
    const cost = batchCost(usage, US_EAST_1_PRICES);
    const info = { batchTime: 1000, records: 200_000, cost } as unknown as BatchInfo;
    const line = JSON.parse(emfLine('j', info, { invokes: 8, coordinatorTasks: 0, delayGrowingFor: 0 }));
    const names = line._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name);
    expect(names).toEqual(
      expect.arrayContaining([
        'CostDollars',
        'WorkerGbSeconds',
        'S3WriteRequests',
        'S3ReadRequests',
        'KinesisGetRecords',
      ]),
    );
    expect(line).toMatchObject({
      CostDollars: cost.dollars,
      WorkerGbSeconds: 10,
      CoordinatorGbSeconds: 2,
      S3WriteRequests: 30,
      S3ReadRequests: 50,
      KinesisGetRecords: 4,
      CostDollarsPerMillionRecords: cost.dollarsPerMillionRecords,
      CostPrices: US_EAST_1_PRICES.source,
    });
    // and a batch without a report (local mode) has no cost metrics
    const plain = JSON.parse(
      emfLine('j', { batchTime: 1000, records: 1 } as BatchInfo, {
        invokes: 0,
        coordinatorTasks: 0,
        delayGrowingFor: 0,
      }),
    );
    expect(plain.CostDollars).toBeUndefined();
  });
});
