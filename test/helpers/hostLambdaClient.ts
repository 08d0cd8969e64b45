import { LambdaClient } from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * A Lambda client of the real SDK pointed at our Lambda Invoke API host (`LambdaHost`, `startLocalFunctions`): test
 * credentials, and one attempt, so that a function's failure reaches the test as it happened rather than retried.
 */
export function hostLambdaClient(url: string): LambdaClient {
  return new LambdaClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 1,
  });
}
