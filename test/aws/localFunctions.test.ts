import { InvokeCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalFunctions, startLocalFunctions } from '../../lib/devhost/localFunctions';
import { freePort } from '../helpers/freePort';
import { hostLambdaClient } from '../helpers/hostLambdaClient';

/**
 * The stack's three handlers as `sluice lambda-host` serves them, each with the memory the stack gives it: what
 * their log lines and the coordinator's cost report read (`lambdaLogs.test.ts` checks the log lines' field). The events here are refused at the edge, so no call
 * reaches S3 or Kinesis.
 */

/** What each function is sent: an event it refuses at once, answering (or failing) without touching AWS. */
const refused = { control: { action: 'frobnicate' }, coordinator: { action: 'frobnicate' }, worker: {} };

/** The memory of each function, as its invocation's REPORT line (`LogType: Tail`) states it. */
async function reportedMemoryMb(functions: LocalFunctions): Promise<Record<string, number>> {
  const lambda = hostLambdaClient(functions.url);
  try {
    const entries = await Promise.all(
      Object.entries(refused).map(async ([name, event]) => {
        const out = await lambda.send(
          new InvokeCommand({ FunctionName: name, LogType: 'Tail', Payload: JSON.stringify(event) }),
        );
        const log = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8');
        const size = /\tMemory Size: (\d+) MB\t/.exec(log)?.[1];
        if (size === undefined) throw new Error(`no REPORT line with a memory size in ${name}'s log: ${log}`);
        return [name, Number(size)] as const;
      }),
    );
    return Object.fromEntries(entries);
  } finally {
    lambda.destroy();
  }
}

describe('the stack’s functions in the Lambda host', () => {
  let defaults: LocalFunctions;
  let sized: LocalFunctions;

  beforeAll(async () => {
    defaults = await startLocalFunctions({
      bucket: 'memory-b',
      stream: 'memory-s',
      port: await freePort(),
      tickMs: 0,
      output: () => {},
    });
    sized = await startLocalFunctions({
      bucket: 'memory-b',
      stream: 'memory-s',
      port: await freePort(),
      tickMs: 0,
      workerMemoryMb: 1024,
      coordinatorMemoryMb: 2048,
      output: () => {},
    });
  }, 60_000);

  afterAll(async () => {
    await defaults?.stop();
    await sized?.stop();
  });

  it('run with the memory the stack gives them: 512, 1024 and 1769 MB by default (before, 128 MB each)', async () => {
    // when each function is invoked
    // then its REPORT line states the stack's memory for it
    expect(await reportedMemoryMb(defaults)).toEqual({ control: 512, coordinator: 1024, worker: 1769 });
  });

  it("run with the coordinator's and the worker's memory as the deployment set them", async () => {
    // given the host told the memory the stack was deployed with (sluice:coordinatorMemoryMb, sluice:workerMemoryMb)
    // when each function is invoked
    // then each runs with its own
    expect(await reportedMemoryMb(sized)).toEqual({ control: 512, coordinator: 2048, worker: 1024 });
  });
});
