import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/freePort';
import { runSluice } from '../helpers/sluiceProcess';

const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'lib/local/sluice.mjs');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sluice run', () => {
  it('runs the main job and prints each batch with its log line', async () => {
    // when the README's main job runs three batches on the logical clock
    const result = await runSluice(
      [
        'run',
        join(root, 'events/hashtag-counts.json'),
        '--fast',
        '--batches',
        '3',
        '--store',
        join(dir, 'store'),
      ],
      dir,
    );
    // then it exits 0, prints three batches in Spark's format, and logs Spark's delay line for each
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.code).toBe(0);
    for (const t of [1000, 2000, 3000]) {
      expect(result.stdout).toContain(`Time: ${t} ms`);
      expect(result.stderr).toMatch(
        new RegExp(
          `Batch ${t} ms: total delay \\d+\\.\\d{3} s \\(scheduling \\d+\\.\\d{3} s, processing \\d+\\.\\d{3} s\\), 5000 records in`,
        ),
      );
    }
    expect(result.stdout).toMatch(/\(#\w+,\d+\)/);
  });

  it('writes jsonl to stdout and dead letters to the store', async () => {
    // given a job that parses JSON lines, one of them malformed
    const job = {
      name: 'parse',
      batchIntervalMs: 1000,
      sources: { lines: { type: 'queue', batches: [['{"n":1}', 'oops'], ['{"n":2}']] } },
      streams: {
        parsed: {
          from: 'lines',
          ops: [
            { op: 'map', fn: 'parseJson' },
            { op: 'map', expr: 'n' },
          ],
        },
      },
      outputs: [{ stream: 'parsed', type: 'jsonl', name: 'numbers' }],
    };
    await writeFile(join(dir, 'job.json'), JSON.stringify(job));
    // when it runs two batches
    const result = await runSluice(
      ['run', 'job.json', '--fast', '--batches', '2', '--quiet', '--workers', '1'],
      dir,
    );
    // then stdout holds one JSON line per batch, and the malformed line is a dead letter with its reason
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { output: 'numbers', batchTime: 1000, records: [1] },
      { output: 'numbers', batchTime: 2000, records: [2] },
    ]);
    const dead = JSON.parse((await readFile(join(dir, '.sluice/parse/dead-letter.jsonl'), 'utf8')).trim());
    expect(dead).toMatchObject({ batchTime: 1000, record: 'oops' });
    expect(dead.error).toMatch(/JSON/);
  });

  it("refuses a job module's kinesisStream() at start with exit code 2, before any batch", async () => {
    // given a module reading the deployment's stream, which only the serverless runtime has
    await writeFile(
      join(dir, 'job.mjs'),
      [
        `import { defineJob } from ${JSON.stringify(join(root, 'lib/job/JobModule.ts'))};`,
        `import { kinesisStream } from ${JSON.stringify(join(root, 'lib/job/cloudStreams.ts'))};`,
        'export default defineJob({ batchIntervalMs: 1000 }, (ssc) => {',
        '  kinesisStream(ssc).count().print();',
        '});',
      ].join('\n'),
    );
    // when it runs locally
    const result = await runSluice(['run', 'job.mjs', '--fast', '--batches', '2', '--workers', '1'], dir);
    // then it stops at start with what to do, and runs no batch
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^invalid job:\n {2}kinesisStream\(\): the source kinesis\(the deployment stream\) is read by the serverless coordinator; run this job on AWS or LocalStack/,
    );
    expect(result.stdout).not.toMatch(/Time: /);
  });
});

describe('sluice validate', () => {
  it('accepts the main job', async () => {
    const result = await runSluice(['validate', join(root, 'events/hashtag-counts.json')], dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/is a valid job/);
  });

  it('rejects a bad job with exit code 2 and the JSON path of the field at fault', async () => {
    // given a job whose second op is unknown and whose interval is a string
    const job = {
      name: 'bad',
      batchIntervalMs: '1s',
      sources: { q: { type: 'queue', batches: [] } },
      streams: { s: { from: 'q', ops: [{ op: 'map', fn: 'identity' }, { op: 'frobnicate' }] } },
      outputs: [{ stream: 's', type: 'print' }],
    };
    await writeFile(join(dir, 'bad.json'), JSON.stringify(job));
    // when it is validated, and when it is run
    for (const command of ['validate', 'run']) {
      const result = await runSluice([command, 'bad.json'], dir);
      // then the command exits 2 and names each field
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('batchIntervalMs');
      expect(result.stderr).toContain('streams.s.ops[1].op');
    }
  });

  it('rejects a file that is not JSON with exit code 2', async () => {
    await writeFile(join(dir, 'broken.json'), '{"name": ');
    const result = await runSluice(['validate', 'broken.json'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/not valid JSON/);
  });
});

describe('Ctrl-C', () => {
  it('stops gracefully once the running batch is done', async () => {
    // given the main job running in real time
    const child = spawn(
      process.execPath,
      [bin, 'run', join(root, 'events/hashtag-counts.json'), '--store', join(dir, 'store'), '--workers', '1'],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    const firstBatch = new Promise<void>((resolve) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        if (stderr.includes('Batch 1000 ms')) resolve();
      });
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // when Ctrl-C arrives after the first batch
    await firstBatch;
    child.kill('SIGINT');
    // then the process says it stops after the running batch, and exits 0 with whole batches printed
    const code = await closed;
    expect(stderr).toMatch(/Stopping after the running batch/);
    expect(code).toBe(0);
    const printed = stdout.match(/Time: \d+ ms/g) ?? [];
    const logged = stderr.match(/^Batch \d+ ms\b/gm) ?? [];
    expect(printed.length).toBe(logged.length);
  });
});

/**
 * `sluice lambda-host --bucket b --stream s` on a free loopback port, with no tick and `args`, once it serves (or has
 * exited); `stop()` sends SIGTERM, and `exited` resolves with its exit code.
 */
async function startLambdaHost(args: readonly string[] = []) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      bin,
      'lambda-host',
      ...['--bucket', 'b', '--stream', 's', '--port', String(port), '--tick', '0'],
      ...args,
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  const serving = new Promise<void>((resolve) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.includes('serving control, coordinator and worker')) resolve();
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await Promise.race([serving, exited]);
  return {
    port,
    stderr: () => stderr,
    stop: () => child.kill('SIGTERM'),
    exited,
  };
}

describe('sluice lambda-host', () => {
  it('serves the functions on the Invoke API until SIGTERM, and the control function validates at the edge', async () => {
    // given the command on a free loopback port, with no tick
    const host = await startLambdaHost();
    const { port } = host;
    try {
      expect(host.stderr()).toContain(`http://127.0.0.1:${port}`);
      // when an invalid start event is sent to control, as `aws lambda invoke --endpoint-url` sends it
      const response = await fetch(`http://127.0.0.1:${port}/2015-03-31/functions/control/invocations`, {
        method: 'POST',
        body: JSON.stringify({
          action: 'start',
          job: { name: 'x', batchIntervalMs: -1, sources: {}, outputs: [] },
        }),
      });
      // then it answers with the fields at fault, before touching any AWS service
      expect(response.status).toBe(200);
      const answer = (await response.json()) as { ok: boolean; issues: { path: string }[] };
      expect(answer.ok).toBe(false);
      expect(answer.issues.map((i) => i.path)).toContain('batchIntervalMs');
    } finally {
      host.stop();
    }
    // and SIGTERM stops it cleanly
    expect(await host.exited).toBe(0);
  });

  it('serves the coordinator and the worker with the memory the stack was deployed with', async () => {
    // given the command told a stack deployed with a 2048 MB coordinator and 1024 MB workers
    const host = await startLambdaHost(['--coordinator-memory', '2048', '--worker-memory', '1024']);
    const { port } = host;
    try {
      // when each is sent an event it refuses at the edge, asking for the log's tail
      const memoryOf = async (fn: string, event: unknown) => {
        const response = await fetch(`http://127.0.0.1:${port}/2015-03-31/functions/${fn}/invocations`, {
          method: 'POST',
          headers: { 'X-Amz-Log-Type': 'Tail' },
          body: JSON.stringify(event),
        });
        await response.arrayBuffer();
        const log = Buffer.from(response.headers.get('x-amz-log-result') ?? '', 'base64').toString('utf8');
        return /\tMemory Size: (\d+) MB\t/.exec(log)?.[1];
      };
      // then each ran with its own, and control with the stack's 512 MB
      expect(await memoryOf('coordinator', { action: 'frobnicate' })).toBe('2048');
      expect(await memoryOf('worker', {})).toBe('1024');
      expect(await memoryOf('control', { action: 'frobnicate' })).toBe('512');
    } finally {
      host.stop();
    }
    expect(await host.exited).toBe(0);
  });

  it('refuses a memory size Lambda does not offer, with exit code 2', async () => {
    const result = await runSluice(
      ['lambda-host', '--bucket', 'b', '--stream', 's', '--worker-memory', '64'],
      dir,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /option '--worker-memory <mb>' argument '64' is invalid\. expected a whole number of MB from 128 to 10240, got 64/,
    );
  });
});

describe('sluice lambda-host --modules', () => {
  const jobModules = join(root, 'test/fixtures/jobs');

  it('serves the functions with the job modules deployed, and the control function refuses one that is not', async () => {
    // given the command with the fixture's folder of job modules
    const host = await startLambdaHost(['--modules', jobModules]);
    const { port } = host;
    try {
      expect(host.stderr()).toContain('modules moodFunctions, moodJob');
      // when a document naming a module that was not deployed is sent to control
      const response = await fetch(`http://127.0.0.1:${port}/2015-03-31/functions/control/invocations`, {
        method: 'POST',
        body: JSON.stringify({ action: 'start', job: { name: 'x', module: 'spamJob' } }),
      });
      // then it is refused at "module", with the modules that were deployed
      const answer = (await response.json()) as { ok: boolean; issues: { path: string; message: string }[] };
      expect(answer.ok).toBe(false);
      expect(answer.issues[0]).toMatchObject({ path: 'module' });
      expect(answer.issues[0]!.message).toMatch(/deployed modules: moodFunctions, moodJob/);
    } finally {
      host.stop();
    }
    expect(await host.exited).toBe(0);
  }, 60_000);

  it('refuses a --modules path that does not exist, with exit code 2', async () => {
    const result = await runSluice(
      ['lambda-host', '--bucket', 'b', '--stream', 's', '--modules', 'nope'],
      dir,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--modules: nope does not exist/);
  });
});

describe('sluice produce', () => {
  /** Runs `sluice produce` with no AWS settings but `aws`, and no profile to fall back on. */
  function produceWithout(aws: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    const env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('AWS_')) env[name] = value;
    Object.assign(env, aws, {
      HOME: dir,
      AWS_CONFIG_FILE: join(dir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bin, 'produce', 'tweets', '--seconds', '1'], { cwd: dir, env });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
  }

  it('says which setting gives the region or the credentials the SDK found none of', async () => {
    // when it runs without a region, then without credentials
    const noRegion = await produceWithout({});
    const noCredentials = await produceWithout({ AWS_REGION: 'us-east-1' });
    // then each exits 1 naming what to set, not only the SDK's "Region is missing"
    expect(noRegion.code).toBe(1);
    expect(noRegion.stderr).toContain('sluice produce: Region is missing: set AWS_REGION');
    expect(noCredentials.code).toBe(1);
    expect(noCredentials.stderr).toContain('set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  });

  it('says that nothing answers at AWS_ENDPOINT_URL when the emulator is not there', async () => {
    // given an endpoint on a loopback port where nothing listens (an emulator stopped, or started on another port)
    const port = await freePort();
    // when it runs with the recipe's other settings
    const refused = await produceWithout({
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    });
    // then it names the setting that chose the address, not only the SDK's "connect ECONNREFUSED"
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `nothing answers at AWS_ENDPOINT_URL (http://127.0.0.1:${port}); start the emulator, or set the variable`,
    );
  });
});

describe('a port that is taken', () => {
  /** Holds a loopback port for `body`, as another program would. */
  async function holdingAPort(body: (port: number) => Promise<void>): Promise<void> {
    const holder = createServer().listen(0, '127.0.0.1');
    await once(holder, 'listening');
    try {
      await body((holder.address() as { port: number }).port);
    } finally {
      holder.close();
    }
  }

  it('stops sluice lambda-host with one sentence naming --port, and exit code 2', async () => {
    await holdingAPort(async (port) => {
      // when the host is asked for the taken port
      const result = await runSluice(
        ['lambda-host', '--bucket', 'b', '--stream', 's', '--port', String(port), '--tick', '0'],
        dir,
      );
      // then it says so in one line (before: an EADDRINUSE stack trace), and how to pick another
      expect(result.code).toBe(2);
      expect(result.stderr.trim()).toBe(
        `sluice lambda-host: port ${port} on 127.0.0.1 is in use: give another with --port <port>, or --port 0 for a free one`,
      );
    });
  });

  it('names --port for sluice ui and --ui for sluice run, the options each command has', async () => {
    await holdingAPort(async (port) => {
      // given a tune file for sluice ui to serve
      const tune = { kind: 'sluice-tune', version: 1, job: 'x.json', rule: { text: '' }, results: [] };
      await writeFile(join(dir, 'tune.json'), JSON.stringify({ ...tune, recommendation: { text: '-' } }));
      // when each command is asked for the taken port
      const ui = await runSluice(['ui', '--tune', 'tune.json', '--port', String(port)], dir);
      const run = await runSluice(
        ['run', join(root, 'events/hashtag-counts.json'), '--fast', '--batches', '1', '--ui', String(port)],
        dir,
      );
      // then each names its own option (before, sluice ui told of --ui, which it does not have, and exited 1)
      expect(ui.code).toBe(2);
      expect(ui.stderr.trim()).toBe(
        `sluice ui: port ${port} on 127.0.0.1 is in use: give another with --port <port>, or --port 0 for a free one`,
      );
      expect(run.code).toBe(2);
      expect(run.stderr.trim()).toBe(
        `port ${port} on 127.0.0.1 is in use: give another with --ui <port>, or --ui 0 for a free one`,
      );
    });
  });
});
