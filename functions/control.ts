import { kinesisClient, lambdaClient, s3Client } from '../lib/aws/awsClients';
import { CoordinatorRuntime } from '../lib/aws/CoordinatorRuntime';
import { type LambdaContextLike, PowertoolsLog } from '../lib/aws/PowertoolsLog';

// The same runtime as the coordinator's, told not to drive: it answers at once and starts the coordinator.
const runtime = CoordinatorRuntime.fromEnv(
  process.env,
  { s3: s3Client(), lambda: lambdaClient(), kinesis: kinesisClient() },
  { drive: false },
);
const log = PowertoolsLog.forFunction('sluice-control');

/** The control Lambda: where users send job documents and start/stop/status events; it answers at once. */
export const handler = (event: unknown, context?: LambdaContextLike) =>
  runtime.handle(event, 0, log.forInvocation(context));
