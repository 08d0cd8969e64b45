import { kinesisClient, lambdaClient, s3Client } from '../lib/aws/awsClients';
import { CoordinatorRuntime, drivingBudgetMs } from '../lib/aws/CoordinatorRuntime';

// Created once per container, so warm invocations reuse the clients.
const runtime = CoordinatorRuntime.fromEnv(process.env, {
  s3: s3Client(),
  lambda: lambdaClient(),
  kinesis: kinesisClient(),
});

/** The coordinator Lambda: job documents, stop/status/tick events; drives batches until near its timeout. */
export const handler = (event: unknown, context?: { getRemainingTimeInMillis?: () => number }) =>
  runtime.handle(event, drivingBudgetMs(context?.getRemainingTimeInMillis?.() ?? 60_000));
