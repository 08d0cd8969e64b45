import { ENV } from './deploymentContract';

/**
 * The AWS list prices Sluice's cost report uses, in US dollars. The defaults are us-east-1 (N. Virginia) list
 * prices as of November 2026, from the pricing pages: Lambda (aws.amazon.com/lambda/pricing, and the "How AWS
 * Pricing Works" whitepaper: $0.20 per million requests, $0.0000166667 per GB-second on x86, the first tier),
 * S3 Standard (aws.amazon.com/s3/pricing: $0.005 per 1,000 PUT, COPY, POST or LIST requests, $0.0004 per 1,000
 * GET, SELECT and other requests), Kinesis Data Streams in provisioned mode (aws.amazon.com/kinesis/data-streams/
 * pricing: $0.015 per shard-hour, $0.014 per million PUT payload units; GetRecords calls are not billed).
 * Free tiers, savings plans and data transfer are left out. Override any of them with `SLUICE_PRICES`.
 */
export interface AwsPrices {
  /** Where and when the prices hold, such as `us-east-1, list prices of 2026-11`. */
  readonly source: string;
  /** Lambda, per GB-second of duration (x86, the functions' architecture). */
  readonly lambdaPerGbSecond: number;
  /** Lambda, per invocation. */
  readonly lambdaPerInvocation: number;
  /** S3 Standard, per PUT, COPY, POST or LIST request. */
  readonly s3PerWriteRequest: number;
  /** S3 Standard, per GET (or HEAD) request. */
  readonly s3PerReadRequest: number;
  /** Kinesis, per GetRecords call: none in provisioned mode (the shard-hour pays for reads). */
  readonly kinesisPerGetRecords: number;
  /** Kinesis provisioned mode, per shard-hour: what a stream costs whether a job reads it or not. */
  readonly kinesisPerShardHour: number;
}

/** us-east-1 list prices, November 2026 (see {@link AwsPrices}). */
export const US_EAST_1_PRICES: AwsPrices = {
  source: 'us-east-1, AWS list prices of 2026-11',
  lambdaPerGbSecond: 0.0000166667,
  lambdaPerInvocation: 0.2 / 1_000_000,
  s3PerWriteRequest: 0.005 / 1000,
  s3PerReadRequest: 0.0004 / 1000,
  kinesisPerGetRecords: 0,
  kinesisPerShardHour: 0.015,
};

/**
 * The prices to use: {@link US_EAST_1_PRICES} with the fields of `SLUICE_PRICES` (a JSON object, such as
 * `{"source":"eu-west-1 2026-11","s3PerWriteRequest":0.0000054}`) in their place. A field that is not a price is
 * an error naming it.
 */
export function pricesFrom(env: NodeJS.ProcessEnv): AwsPrices {
  const text = env[ENV.prices];
  if (text === undefined || text === '') return US_EAST_1_PRICES;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${ENV.prices} must be a JSON object of prices, got ${JSON.stringify(text)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${ENV.prices} must be a JSON object of prices, got ${JSON.stringify(text)}`);
  }
  const prices: Record<string, unknown> = { ...US_EAST_1_PRICES, source: ENV.prices };
  for (const [field, value] of Object.entries(parsed)) {
    if (!(field in US_EAST_1_PRICES)) {
      throw new Error(
        `${ENV.prices}.${field} is not a price; the fields are ${Object.keys(US_EAST_1_PRICES).join(', ')}`,
      );
    }
    const ok = field === 'source' ? typeof value === 'string' : typeof value === 'number' && value >= 0;
    if (!ok) {
      throw new Error(
        `${ENV.prices}.${field} must be ${field === 'source' ? 'a string' : 'a number of dollars, 0 or more'}, got ${JSON.stringify(value)}`,
      );
    }
    prices[field] = value;
  }
  return prices as unknown as AwsPrices;
}
