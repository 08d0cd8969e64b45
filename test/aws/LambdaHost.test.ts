import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LambdaHost } from '../../lib/devhost/LambdaHost';
import { hostLambdaClient } from '../helpers/hostLambdaClient';

const fixture = (name: string) => new URL(`./fixtures/${name}.ts`, import.meta.url).pathname;

const json = (out: InvokeCommandOutput) =>
  JSON.parse(new TextDecoder().decode(out.Payload)) as Record<string, any>;

/** A POST of `{"n":1}` with exactly these headers (fetch would not let a test set Host), and its JSON answer. */
function postRaw(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }),
      );
    });
    req.on('error', reject);
    req.end('{"n":1}');
  });
}

describe('LambdaHost, through the AWS SDK Lambda client', () => {
  let host: LambdaHost;
  let lambda: LambdaClient;
  let temp: string;
  const lines: Array<{ fn: string; line: string }> = [];
  const printed = (fn: string, text: string) => lines.some((l) => l.fn === fn && l.line.includes(text));

  beforeAll(async () => {
    temp = await mkdtemp(join(tmpdir(), 'sluice-lambda-host-'));
    host = await LambdaHost.start({
      functions: {
        echo: { module: fixture('echo'), env: { GREETING: 'hi' } },
        sized: { module: fixture('echo'), memoryMb: 1769 },
        throws: { module: fixture('throws') },
        slow: { module: fixture('slow'), timeoutMs: 2000 },
        barrier: { module: fixture('slow'), timeoutMs: 30_000 },
        stuck: { module: fixture('slow'), timeoutMs: 4000 },
        logs: { module: fixture('logs') },
      },
      output: (fn, line) => lines.push({ fn, line }),
    });
    lambda = hostLambdaClient(host.url);
  });

  afterAll(async () => {
    lambda?.destroy();
    await host?.stop();
    await rm(temp, { recursive: true, force: true });
  });

  it('round-trips a RequestResponse payload and keeps module scope between invocations', async () => {
    // given a warm echo function
    const first = json(await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: '{"n":1}' })));
    // when it is invoked again, by URL-encoded full ARN with a qualifier
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:echo',
        Qualifier: '$LATEST',
        Payload: JSON.stringify({ hello: 'world', nested: [1, { a: null }] }),
      }),
    );
    // then the payload comes back whole, from the same process, which counted both invocations
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBeUndefined();
    expect(out.ExecutedVersion).toBe('$LATEST');
    const reply = json(out);
    expect(reply.event).toEqual({ hello: 'world', nested: [1, { a: null }] });
    expect(reply.functionName).toBe('echo');
    expect(reply.pid).toBe(first.pid);
    expect(reply.served).toBe(first.served + 1);
  });

  it('reports a handler error as a FunctionError with errorType, errorMessage and trace', async () => {
    // given a handler that throws
    // when it is invoked
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'throws', Payload: '{"orderId":"7"}' }));
    // then the call succeeds at the HTTP level and the payload is the error
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    const error = json(out);
    expect(error.errorType).toBe('InvalidOrderError');
    expect(error.errorMessage).toBe('order 7 has no lines');
    expect(error.trace.some((line: string) => line.includes('throws.ts'))).toBe(true);
  });

  it('accepts an Event invocation with 202 and runs it in the background', async () => {
    // given a file the echo handler will write
    const file = join(temp, 'event.json');
    // when it is invoked asynchronously
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: 'echo',
        InvocationType: 'Event',
        Payload: JSON.stringify({ writeTo: file }),
      }),
    );
    // then the host answers at once with 202 and no payload, and the handler still runs
    expect(out.StatusCode).toBe(202);
    expect(out.Payload?.length ?? 0).toBe(0);
    const written = await vi.waitFor(async () => JSON.parse(await readFile(file, 'utf8')), {
      timeout: 20_000,
    });
    expect(written.event).toEqual({ writeTo: file });
  });

  it('answers a DryRun with 204 without running the handler', async () => {
    // given a file the echo handler would write
    const file = join(temp, 'dry-run.json');
    // when a dry run is asked for
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: 'echo',
        InvocationType: 'DryRun',
        Payload: JSON.stringify({ writeTo: file }),
      }),
    );
    // then it is 204, and a later synchronous call finds no file written
    expect(out.StatusCode).toBe(204);
    await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: '{}' }));
    await expect(readFile(file, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('returns the last 4 KB of the invocation log, base64, for LogType Tail', async () => {
    // given a handler that logs many lines
    // when it is invoked with LogType Tail
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: 'logs', LogType: 'Tail', Payload: '{"lines":300,"tag":"t1"}' }),
    );
    // then the log result is the tail of this invocation's log, with Lambda's END and REPORT lines
    const log = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8');
    expect(Buffer.byteLength(log)).toBeLessThanOrEqual(4096);
    expect(log).toContain('\tINFO\tt1 line 299');
    expect(log).toContain('\tWARN\tt1 done');
    expect(log).not.toContain('t1 line 0\n');
    expect(log).toMatch(/END RequestId: [0-9a-f-]+\nREPORT RequestId: /);
    // and a short log is whole, START line included
    const short = await lambda.send(
      new InvokeCommand({ FunctionName: 'logs', LogType: 'Tail', Payload: '{"lines":1,"tag":"t2"}' }),
    );
    const shortLog = Buffer.from(short.LogResult ?? '', 'base64').toString('utf8');
    expect(shortLog).toMatch(/^START RequestId: [0-9a-f-]+ Version: \$LATEST\n/);
    expect(shortLog).toContain('t2 line 0');
    expect(shortLog).not.toContain('t1');
    // and without LogType there is no log result
    const none = await lambda.send(
      new InvokeCommand({ FunctionName: 'logs', Payload: '{"lines":1,"tag":"t3"}' }),
    );
    expect(none.LogResult).toBeUndefined();
  });

  it('gives a function the memory it is configured with, as Lambda does: context, environment, REPORT line', async () => {
    // given a function configured with 1769 MB, and one configured with none
    // when each is invoked with LogType Tail
    const invokeTail = (name: string) =>
      lambda.send(new InvokeCommand({ FunctionName: name, LogType: 'Tail', Payload: '{}' }));
    const sized = await invokeTail('sized');
    const plain = await invokeTail('echo');
    // then the handler's context and AWS_LAMBDA_FUNCTION_MEMORY_SIZE (which Powertools' function_memory_size and
    // the coordinator's cost report read) say 1769, as does the log's REPORT line (before, every function said 128)
    expect(json(sized)).toMatchObject({ memoryLimitInMB: '1769', memorySizeEnv: '1769' });
    expect(Buffer.from(sized.LogResult ?? '', 'base64').toString('utf8')).toMatch(
      /\nREPORT RequestId: [0-9a-f-]+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 1769 MB\t\n$/,
    );
    // and the other gets Lambda's default, 128 MB
    expect(json(plain)).toMatchObject({ memoryLimitInMB: '128', memorySizeEnv: '128' });
    expect(Buffer.from(plain.LogResult ?? '', 'base64').toString('utf8')).toContain(
      '\tMemory Size: 128 MB\t',
    );
  });

  it('answers an unknown function with 404 ResourceNotFoundException', async () => {
    // given no function named nope
    // when it is invoked
    const call = lambda.send(new InvokeCommand({ FunctionName: 'nope', Payload: '{}' }));
    // then the SDK raises the service's error
    await expect(call).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 404 },
    });
  });

  it('answers a function name of malformed percent-encoding with 400, not a 500 of the host', async () => {
    // given a path whose function name is not valid percent-encoding
    // when it is posted
    const answer = await postRaw(host.port, '/2015-03-31/functions/%E0%A4%A/invocations', {});
    // then it is refused as the request's fault, naming the name
    expect(answer).toEqual({
      status: 400,
      body: { Type: 'User', message: 'the function name %E0%A4%A is not valid percent-encoding' },
    });
  });

  it('refuses what a web page could send: an Origin header, or a Host that is not a loopback name', async () => {
    // given the echo function, reachable on loopback
    const invoke = (headers: Record<string, string>) =>
      postRaw(host.port, '/2015-03-31/functions/echo/invocations', headers);
    // when a browser posts cross-origin, or through a DNS name rebound to 127.0.0.1
    const fromPage = await invoke({ Origin: 'https://evil.example' });
    const rebound = await invoke({ Host: `evil.example:${host.port}` });
    // then both are refused before any function runs, and a plain loopback request is served
    expect(fromPage).toMatchObject({ status: 403, body: { message: expect.stringMatching(/Origin/) } });
    expect(rebound).toMatchObject({
      status: 403,
      body: { message: expect.stringMatching(/loopback names/) },
    });
    expect(await invoke({})).toMatchObject({ status: 200, body: { event: { n: 1 } } });
  });

  it('times an invocation out after timeoutMs, then serves the next one', async () => {
    // given a function with a 2 s timeout (the next invocation, on a fresh process, must not meet it even on a
    // loaded machine)
    // when an invocation runs longer
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'slow', Payload: '{"ms":30000}' }));
    // then it fails with Lambda's timeout error
    expect(out.FunctionError).toBe('Unhandled');
    expect(json(out).errorMessage).toContain('Task timed out after 2.00 seconds');
    // and the function serves the next invocation
    const next = await lambda.send(new InvokeCommand({ FunctionName: 'slow', Payload: '{"ms":0}' }));
    expect(next.FunctionError).toBeUndefined();
  });

  it('kills the process of an invocation that timed out at once, even a frozen one running another invocation', async () => {
    // given a function (4 s timeout: both invocations start well inside it, even on a loaded machine) whose
    // process runs two invocations that never end
    const first = lambda.send(new InvokeCommand({ FunctionName: 'stuck', Payload: '{"parties":99}' }));
    await vi.waitFor(() => expect(printed('stuck', 'of 99')).toBe(true), { timeout: 10_000 });
    const second = lambda.send(new InvokeCommand({ FunctionName: 'stuck', Payload: '{"parties":99}' }));
    await vi.waitFor(() => expect(printed('stuck', '2 of 99')).toBe(true), { timeout: 10_000 });
    const pid = host.pidOf('stuck')!;
    // when the process is frozen, and the first invocation passes its timeout while the host is too busy to see
    // the kill's exit before the second one's timeout is due too (as on a loaded machine)
    process.kill(pid, 'SIGSTOP');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 4200);
    const timedOut = await first;
    // then the caller gets Lambda's timeout error
    expect(timedOut.FunctionError).toBe('Unhandled');
    expect(json(timedOut)).toMatchObject({ errorType: 'Sandbox.Timedout' });
    expect(json(timedOut).errorMessage).toMatch(/^RequestId: \S+ Error: Task timed out after 4.00 seconds$/);
    // and the process is killed then, not when its other invocation ends: that one fails as on a crash
    const other = await second;
    expect(json(other)).toMatchObject({ errorType: 'Runtime.ExitError' });
    expect(json(other).errorMessage).toContain('signal: killed');
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('runs invocations of one function concurrently in its one process', async () => {
    // given a barrier that opens only when three invocations wait at once
    const invoke = () =>
      lambda.send(new InvokeCommand({ FunctionName: 'barrier', Payload: '{"parties":3}' }));
    // when three are sent together
    const outs = await Promise.all([invoke(), invoke(), invoke()]);
    // then all three complete, in the same process
    expect(outs.map((o) => o.FunctionError)).toEqual([undefined, undefined, undefined]);
    expect(new Set(outs.map((o) => json(o).pid)).size).toBe(1);
  });

  it('fails the in-flight invocations of a killed process and restarts it for the next', async () => {
    // given a warm function with an invocation waiting in its handler
    const before = json(
      await lambda.send(new InvokeCommand({ FunctionName: 'barrier', Payload: '{"parties":1}' })),
    );
    const stuck = lambda.send(new InvokeCommand({ FunctionName: 'barrier', Payload: '{"parties":99}' }));
    await vi.waitFor(() => expect(printed('barrier', 'of 99')).toBe(true), { timeout: 20_000 });
    // when its process is killed
    await host.kill('barrier');
    // then the waiting invocation fails as on a crashed container
    const failed = await stuck;
    expect(failed.FunctionError).toBe('Unhandled');
    expect(json(failed)).toMatchObject({ errorType: 'Runtime.ExitError' });
    expect(json(failed).errorMessage).toContain('signal: killed');
    // and the next invocation runs in a new process
    const after = json(
      await lambda.send(new InvokeCommand({ FunctionName: 'barrier', Payload: '{"parties":1}' })),
    );
    expect(after.pid).not.toBe(before.pid);
    expect(() => process.kill(before.pid, 0)).toThrow();
    // and restart replaces the process on demand
    await host.restart('barrier');
    expect(host.pidOf('barrier')).not.toBe(after.pid);
  });

  it('reports a response larger than 6 MB as a FunctionError', async () => {
    // given a handler answering 7 MB
    // when it is invoked
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: '{"bytes":7000000}' }));
    // then the payload is Lambda's size error
    expect(out.FunctionError).toBe('Unhandled');
    expect(json(out).errorType).toBe('Function.ResponseSizeTooLarge');
  });
});

describe('LambdaHost lifecycle', () => {
  it('kills its function processes on stop', async () => {
    // given a host with a warm function
    const host = await LambdaHost.start({
      functions: { echo: { module: fixture('echo') } },
      output: () => {},
    });
    const lambda = hostLambdaClient(host.url);
    const { pid } = json(await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: '{}' })));
    lambda.destroy();
    // when it stops
    await host.stop();
    // then the function's process is gone
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('refuses to listen anywhere but loopback', async () => {
    // given a public address
    // when a host is started on it
    const start = LambdaHost.start({ host: '0.0.0.0', functions: {} });
    // then it is refused before listening
    await expect(start).rejects.toThrow(/loopback only/);
  });

  it("refuses a memory size Lambda does not offer, naming the function and Lambda's range", async () => {
    // given memory sizes below, above and between Lambda's whole megabytes from 128 to 10240
    for (const memoryMb of [64, 10_241, 1769.5]) {
      // when a host is started with one
      const start = LambdaHost.start({ functions: { worker: { module: fixture('echo'), memoryMb } } });
      // then it is refused before listening
      await expect(start).rejects.toThrow(
        `function worker: memoryMb must be a whole number of MB from 128 to 10240, as on Lambda, got ${memoryMb}`,
      );
    }
  });
});
