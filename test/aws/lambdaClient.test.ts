import { describe, expect, it } from 'vitest';
import { lambdaClient } from '../../lib/aws/awsClients';

/** Lambda's longest run: a timeout at least this long never ends a call before its function. */
const LAMBDA_MAX_RUN_MS = 900_000;

/** The handler's settings once resolved: what a call of the client is sent with. */
interface HandlerSettings {
  readonly requestTimeout?: number;
  readonly socketTimeout?: number;
  readonly defaultSocketTimeout?: number;
}

describe('the Lambda client the coordinator invokes workers with', () => {
  it('ends no call before its function: no request or socket timeout shorter than a Lambda run', async () => {
    // given the process's Lambda client
    const handler = lambdaClient().config.requestHandler;
    // when its HTTP handler's settings are resolved (what `handle` resolves before its first request)
    // A cast: the resolved settings are the handler's own (NodeHttpHandler's `configProvider`), not public API.
    const settings = await (handler as unknown as { configProvider: Promise<HandlerSettings> })
      .configProvider;
    // then no timeout can end a worker invocation's call while the function runs on (see `LosingAttempts`)
    for (const name of ['requestTimeout', 'socketTimeout', 'defaultSocketTimeout'] as const) {
      const timeoutMs = settings[name] ?? 0;
      expect(timeoutMs === 0 || timeoutMs >= LAMBDA_MAX_RUN_MS, `${name} of ${timeoutMs} ms`).toBe(true);
    }
  });
});
