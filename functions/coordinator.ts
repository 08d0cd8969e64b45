import { kinesisClient, lambdaClient, s3Client } from '../lib/aws/awsClients';
import { CoordinatorRuntime, drivingBudgetMs } from '../lib/aws/CoordinatorRuntime';
import { type LambdaContextLike, PowertoolsLog } from '../lib/aws/PowertoolsLog';

// Created once per container, so warm invocations reuse the clients and the logger.
const runtime = CoordinatorRuntime.fromEnv(process.env, {
  s3: s3Client(),
  lambda: lambdaClient(),
  kinesis: kinesisClient(),
});
const log = PowertoolsLog.forFunction('sluice-coordinator');

/** The coordinator Lambda: job documents, stop/status/tick events; drives batches until near its timeout. */
export const handler = (
  event: unknown,
  context?: LambdaContextLike & { getRemainingTimeInMillis?: () => number },
) =>
  runtime.handle(
    event,
    drivingBudgetMs(context?.getRemainingTimeInMillis?.() ?? 60_000),
    log.forInvocation(context),
  );
