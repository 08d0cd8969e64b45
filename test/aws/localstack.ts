/**
 * LocalStack for the AWS tests: a vitest globalSetup pair (`setup`/`teardown`, re-exported by
 * `globalSetup.ts`) and the helpers the tests use to reach it.
 *
 * `setup()` reuses a LocalStack that already answers on 127.0.0.1:4566 with the services below; otherwise it
 * installs LocalStack 4.14.0 (the last open-source release) into `.localstack/venv` once, and starts it in host
 * mode (no Docker) on a temporary FILESYSTEM_ROOT, for this run only. `teardown()` stops only a LocalStack that
 * `setup()` started, by its process group.
 *
 * Findings, measured on the 2-core CI machine (November 2026):
 * - Python: localstack-core 4.14.0 declares `>=3.10` but needs 3.13. The S3 and Kinesis providers import
 *   `localstack.services.stores`, which uses PEP 695 generics (3.12), and `localstack.packages.api`, which writes
 *   `threading.Lock | None` (a class only from 3.13). Under 3.11 the services fail to load and health reports
 *   `"s3": "error"`. The machine's default `python3` is 3.11.7; pyenv also has 3.13.0, which is found under
 *   `$(pyenv root)/versions/3.13*` (the `python3.13` shim refuses to run while 3.11.7 is the global version).
 *   Set `SLUICE_LOCALSTACK_PYTHON` to choose another interpreter.
 * - Pins: the `runtime` extras leave versions open and today's releases break 4.14.0 (cbor2 6 removed
 *   `cbor2._decoder`; pyOpenSSL 26 removed `X509.add_extensions`, needed for the gateway's certificate), so
 *   `localstack-requirements.txt` pins everything. Only the `base-runtime` extra plus moto-ext is needed for s3
 *   and kinesis: 76 packages, 223 MB, instead of 112 packages and 510 MB for the full `runtime` extra.
 * - First install: 45 s through `setup()` from a clean clone with an empty pip cache (`pip install` alone
 *   37 s; the full `runtime` extra took 85 s pinned and 280 s unpinned, pip backtracking). kinesis-mock (npm `kinesis-local` 0.5.2,
 *   12 MB) adds 2 s. Both are cached: the venv is rebuilt only when the requirements file changes (its hash is
 *   stamped in the venv), and kinesis-mock is installed once under `.localstack/filesystem` and linked into each
 *   run's temporary FILESYSTEM_ROOT (LocalStack looks for it under `<FILESYSTEM_ROOT>/usr/lib/localstack`;
 *   otherwise it runs `npm install` on the first Kinesis call).
 * - Services: S3 and Kinesis for the runtime's tests; CloudFormation, IAM, STS, SSM, SQS, Logs, CloudWatch and
 *   EventBridge for deploying the CDK stack without its functions (test/infra/deployLocalStack.test.ts).
 *   CloudFormation needs `aws-sam-translator` and EventBridge `crontab`, `jsonpath-ng` and `antlr4` (all
 *   outside `base-runtime`, pinned in the requirements). `cdklocal bootstrap` works (the ECR repository of the
 *   bootstrap stack is created without complaint); the stack's bucket gets its encryption and public access
 *   block, but the CloudFormation provider does not apply `LifecycleConfiguration`.
 * - Start: 6 to 9 s to a health check with s3 and kinesis `running` (EAGER_SERVICE_LOADING=1); the first
 *   Kinesis call then starts kinesis-mock, about 1 s more. A graceful stop takes about 4 s. So a clean run of
 *   the AWS tests costs about 1 min before its first test, and a cached one about 8 s.
 * - KINESIS_LATENCY=0: kinesis-mock otherwise holds streams in CREATING/UPDATING for 500 ms per change.
 * - kinesis-mock supports SplitShard, MergeShards and UpdateShardCount (UNIFORM_SCALING): parents close with
 *   `EndingSequenceNumber`, ListShards gives the children's `ParentShardId`/`AdjacentParentShardId`, and
 *   GetRecords returns no NextShardIterator (plus `ChildShards`) at the end of a closed shard. AT_TIMESTAMP
 *   works and, as on AWS, refuses a timestamp in the future, but compares in whole seconds (AWS: ms).
 * - LocalStack S3 enforces `If-None-Match: *` and `If-Match` (412 PreconditionFailed); a range starting past
 *   the end of an object is 416 InvalidRange.
 * - Loopback only: LocalStack's default gateway server (twisted) listens on every IPv4 interface whatever
 *   GATEWAY_LISTEN says, so GATEWAY_SERVER=hypercorn; kinesis-mock listens on every interface and has no host
 *   setting, so `scripts/listenOnLoopback.cjs` is preloaded into it (NODE_OPTIONS, which LocalStack passes on).
 * - The machine has `/.dockerenv`, so OVERRIDE_IN_DOCKER=0 is required; `localhost.localstack.cloud` does not
 *   resolve here, hence LOCALSTACK_HOST=127.0.0.1:4566 and an IP endpoint (with `localhost` the SDK tries
 *   virtual-host S3 addressing).
 * - Two test runs at once (engineers share this machine) share one LocalStack: the second finds the first's
 *   and reuses it, from any clone of the repository. Each run registers in
 *   `$TMPDIR/sluice-localstack-<uid>/users/<pid>` (machine-wide, like the port), and the run that started LocalStack does
 *   not stop it while another live run is registered: it is left running, and later runs reuse it. Installs
 *   are serialised with a lock folder.
 * - If a run is killed before teardown, its LocalStack keeps running; the next run reuses it. Its process
 *   group id is in `$TMPDIR/sluice-localstack-<uid>/localstack.pid`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { get } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  type KinesisClientConfig,
} from '@aws-sdk/client-kinesis';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { isAlive, withInstallLock } from '../helpers/installLock';
import { runLogged, tailOf } from '../helpers/runLogged';

/** Where LocalStack listens. An IP, not `localhost`, so the SDK addresses S3 path-style. */
export const LOCALSTACK_ENDPOINT = 'http://127.0.0.1:4566';
const HEALTH_URL = `${LOCALSTACK_ENDPOINT}/_localstack/health`;
/**
 * S3 and Kinesis for the runtime's tests; the rest for deploying the CDK stack without its functions (CloudFormation
 * and what the stack and the CDK bootstrap stack hold).
 */
const REQUIRED_SERVICES = [
  's3',
  'kinesis',
  'cloudformation',
  'iam',
  'sts',
  'ssm',
  'sqs',
  'logs',
  'cloudwatch',
  'events',
] as const;

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const stateDir = join(repoRoot, '.localstack');
const venvDir = join(stateDir, 'venv');
const venvPython = join(venvDir, 'bin', 'python');
const requirementsFile = join(repoRoot, 'test', 'aws', 'localstack-requirements.txt');
/** A FILESYSTEM_ROOT kept across runs, only for the packages LocalStack installs (kinesis-mock). */
const packagesRoot = join(stateDir, 'filesystem');
const logFile = join(stateDir, 'localstack.log');
/**
 * What the test runs sharing port 4566 know of each other. Machine-wide, like the port, not per checkout: a run
 * from another clone of the repository (a CI check beside a working copy) reuses the same LocalStack.
 */
const sharedDir = join(tmpdir(), `sluice-localstack-${process.getuid?.() ?? 'user'}`);
/** Where the LocalStack this machine's test runs share writes its process group id. */
export const pidFile = join(sharedDir, 'localstack.pid');
/** One empty file per test run (named by its pid) using the LocalStack on 4566, so no run stops it under another. */
const usersDir = join(sharedDir, 'users');

/** Bounds of the slow steps; generous, since a loaded 2-core machine is slow. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 6_000;

/** The LocalStack this process started, if any. */
let started: { readonly child: ChildProcess; readonly filesystemRoot: string } | undefined;

/** Endpoint, region and credentials of the local emulator, as the tests' AWS clients take them. */
export function awsTestConfig(): {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
} {
  return {
    endpoint: process.env.AWS_ENDPOINT_URL || LOCALSTACK_ENDPOINT,
    region: process.env.AWS_REGION || 'us-east-1',
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID || 'test',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || 'test',
    },
  };
}

/** A new S3 client for LocalStack (path-style); `overrides` can set `maxAttempts` and the like. */
export function testS3Client(overrides: S3ClientConfig = {}): S3Client {
  return new S3Client({ ...awsTestConfig(), forcePathStyle: true, ...overrides });
}

/** A new Kinesis client for LocalStack, over HTTP/1.1 (kinesis-mock refuses HTTP/2). */
export function testKinesisClient(overrides: KinesisClientConfig = {}): KinesisClient {
  return new KinesisClient({ ...awsTestConfig(), requestHandler: new NodeHttpHandler(), ...overrides });
}

/** A name no other test run uses, for buckets and streams: lower case, at most 40 characters. */
export function uniqueName(kind: string): string {
  return `sluice-${kind}-${process.pid.toString(36)}-${Math.random().toString(36).slice(2, 8)}`.toLowerCase();
}

/** Waits until a stream is ACTIVE (after CreateStream or a reshard), for at most `timeoutMs`. */
export async function waitForStreamActive(
  client: KinesisClient,
  streamName: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    const status = out.StreamDescriptionSummary?.StreamStatus;
    if (status === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`stream ${streamName} still ${status} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/**
 * The Kinesis streams of one test file: `create` makes an ACTIVE stream of `shards` shards with a unique name,
 * `deleteAll` (for `afterAll`) deletes every one it made.
 */
export function testStreams(client: KinesisClient, kind: string) {
  const names: string[] = [];
  return {
    async create(shards: number): Promise<string> {
      const name = uniqueName(kind);
      names.push(name);
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
      await waitForStreamActive(client, name);
      return name;
    },
    async deleteAll(): Promise<void> {
      await Promise.all(
        names.map((StreamName) =>
          client.send(new DeleteStreamCommand({ StreamName, EnforceConsumerDeletion: true })),
        ),
      );
    },
  };
}

/** Which services LocalStack reports, or undefined when nothing answers. */
export function localstackHealth(): Promise<Record<string, string> | undefined> {
  return new Promise((resolve) => {
    // A connection per check, closed after it: a kept-alive socket would hold LocalStack's graceful shutdown
    // open, and keep vitest's main process from exiting.
    const request = get(
      HEALTH_URL,
      { agent: false, headers: { connection: 'close' }, timeout: 2000 },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
        });
        response.on('end', () => {
          try {
            const parsed = JSON.parse(body) as { services?: Record<string, string> };
            resolve(response.statusCode === 200 ? (parsed.services ?? {}) : undefined);
          } catch {
            resolve(undefined);
          }
        });
        response.on('error', () => resolve(undefined));
      },
    );
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(undefined));
  });
}

function isReady(services: Record<string, string> | undefined): boolean {
  return (
    services !== undefined &&
    REQUIRED_SERVICES.every((s) => services[s] === 'running' || services[s] === 'available')
  );
}

/**
 * vitest globalSetup: makes sure a LocalStack with S3 and Kinesis answers on 127.0.0.1:4566, and points the AWS
 * SDK of the test workers at it through the environment.
 */
export async function setup(): Promise<void> {
  exportTestEnvironment();
  let services = await localstackHealth();
  if (services !== undefined) {
    // Another test run's LocalStack, perhaps still starting: give it the time a start takes.
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!isReady(services) && services !== undefined && Date.now() < deadline) {
      await sleep(500);
      services = await localstackHealth();
    }
    if (isReady(services)) {
      registerUser();
      return;
    }
    if (services !== undefined) {
      throw new Error(
        `something answers ${HEALTH_URL} but without ${REQUIRED_SERVICES.join(', ')} running (${JSON.stringify(services)}); ` +
          `stop it, or start it with SERVICES=${REQUIRED_SERVICES.join(',')}`,
      );
    }
  }
  mkdirSync(stateDir, { recursive: true });
  mkdirSync(sharedDir, { recursive: true });
  await withInstallLock(join(stateDir, 'install.lock'), INSTALL_TIMEOUT_MS, async () => {
    await ensureVenv();
    await ensureKinesisMock();
  });
  // One start at a time on this machine, so two runs never both start one and race for the pid file.
  await withInstallLock(join(sharedDir, 'start.lock'), INSTALL_TIMEOUT_MS, async () => {
    if (!isReady(await localstackHealth())) await start();
  });
  registerUser();
}

/** vitest globalTeardown: stops the LocalStack that {@link setup} started, if it started one. */
export async function teardown(): Promise<void> {
  rmSync(join(usersDir, String(process.pid)), { force: true });
  const run = started;
  if (run === undefined) return;
  started = undefined;
  const others = otherUsers();
  if (others.length > 0) {
    // Another test run (another engineer's, on this machine) is using it: stopping it would fail that run.
    say(
      `left running (pid ${run.child.pid}) for the test runs of process ${others.join(', ')}; the next run reuses it`,
    );
    return;
  }
  const pid = run.child.pid;
  if (pid !== undefined && run.child.exitCode === null && run.child.signalCode === null) {
    const exited = new Promise<void>((resolve) => run.child.once('exit', () => resolve()));
    // LocalStack's process group, plus kinesis-mock, which LocalStack starts in a session of its own.
    const processes = [pid, ...descendantsOf(pid)].map((p) => ({ pid: p, cmdline: cmdlineOf(p) }));
    signalAll(processes, 'SIGTERM');
    // vitest allows a teardown 10 s; LocalStack's graceful stop takes about 4 s.
    await Promise.race([exited, sleep(STOP_TIMEOUT_MS)]);
    // Only processes still running the same command: a pid freed meanwhile may be someone else's now.
    signalAll(
      processes.filter((p) => p.cmdline !== undefined && cmdlineOf(p.pid) === p.cmdline),
      'SIGKILL',
    );
  }
  if (readTextOr(pidFile, '').trim() === String(pid)) rmSync(pidFile, { force: true });
  rmSync(run.filesystemRoot, { recursive: true, force: true });
}

function exportTestEnvironment(): void {
  process.env.AWS_ENDPOINT_URL = LOCALSTACK_ENDPOINT;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
}

/** Creates `.localstack/venv` unless it holds the current requirements already. */
async function ensureVenv(): Promise<void> {
  const requirementsHash = createHash('sha256').update(readFileSync(requirementsFile)).digest('hex');
  const stamp = join(venvDir, '.sluice-requirements.sha256');
  if (existsSync(venvPython) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === requirementsHash)
    return;
  const python = await findPython();
  const began = Date.now();
  say(`installing LocalStack 4.14.0 into ${venvDir} with ${python} (once; about 40 s)`);
  rmSync(venvDir, { recursive: true, force: true });
  const log = join(stateDir, 'install.log');
  writeFileSync(log, '');
  await runLogged(python, ['-m', 'venv', venvDir], log, INSTALL_TIMEOUT_MS);
  await runLogged(
    venvPython,
    ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-r', requirementsFile],
    log,
    INSTALL_TIMEOUT_MS,
  );
  writeFileSync(stamp, `${requirementsHash}\n`);
  say(`installed in ${seconds(began)}`);
}

/** Fetches kinesis-mock ahead of time, so the first Kinesis call of a run does not `npm install` it. */
async function ensureKinesisMock(): Promise<void> {
  const installed = join(packagesRoot, 'usr', 'lib', 'localstack', 'kinesis-local');
  if (existsSync(installed) && readdirSync(installed).length > 0) return;
  say('installing kinesis-mock');
  await runLogged(
    venvPython,
    ['-m', 'localstack.cli.lpm', 'install', 'kinesis-mock'],
    join(stateDir, 'install.log'),
    INSTALL_TIMEOUT_MS,
    { env: localstackEnvironment(packagesRoot) },
  );
}

/** Starts LocalStack in host mode and waits for its health check. */
async function start(): Promise<void> {
  const began = Date.now();
  const filesystemRoot = mkdtempSync(join(tmpdir(), 'sluice-localstack-'));
  // LocalStack finds packages under <FILESYSTEM_ROOT>/usr/lib/localstack: point that at the cached ones.
  mkdirSync(join(filesystemRoot, 'usr', 'lib'), { recursive: true });
  symlinkSync(
    join(packagesRoot, 'usr', 'lib', 'localstack'),
    join(filesystemRoot, 'usr', 'lib', 'localstack'),
  );
  const logFd = openSync(logFile, 'w');
  const child = spawn(venvPython, ['-m', 'localstack.runtime.main'], {
    cwd: stateDir,
    env: localstackEnvironment(filesystemRoot),
    // Its own process group, so teardown can stop it with every process it spawned.
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  child.unref();
  started = { child, filesystemRoot };
  if (child.pid !== undefined) writeFileSync(pidFile, `${child.pid}\n`);
  let exit: string | undefined;
  child.once('exit', (code, signal) => {
    exit = `exited with ${signal ?? `code ${code}`}`;
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const services = await localstackHealth();
    if (isReady(services)) {
      say(`started in ${seconds(began)} (pid ${child.pid}, log ${logFile})`);
      return;
    }
    if (exit !== undefined || Date.now() > deadline) {
      // Lost a race with another test run that started one meanwhile: use that one.
      if (exit !== undefined && isReady(await localstackHealth())) {
        await teardown();
        return;
      }
      const reason = exit ?? `not healthy after ${START_TIMEOUT_MS} ms (health: ${JSON.stringify(services)})`;
      await teardown();
      throw new Error(`LocalStack ${reason}; the end of ${logFile}:\n${tail(logFile, 30)}`);
    }
    await sleep(250);
  }
}

/** The environment of LocalStack in host mode on this machine (see LOCAL-AWS.md). */
function localstackEnvironment(filesystemRoot: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    // Keep the tests' AWS settings and vitest's Node options away from LocalStack and kinesis-mock.
    if (!name.startsWith('AWS_') && !name.startsWith('VITEST') && name !== 'NODE_OPTIONS') env[name] = value;
  }
  return {
    ...env,
    OVERRIDE_IN_DOCKER: '0',
    // The default gateway server (twisted) binds every IPv4 interface whatever host GATEWAY_LISTEN names;
    // hypercorn binds the one named.
    GATEWAY_SERVER: 'hypercorn',
    GATEWAY_LISTEN: '127.0.0.1:4566',
    LOCALSTACK_HOST: '127.0.0.1:4566',
    DNS_ADDRESS: '0',
    SKIP_SSL_CERT_DOWNLOAD: '1',
    DISABLE_EVENTS: '1',
    FILESYSTEM_ROOT: filesystemRoot,
    SERVICES: REQUIRED_SERVICES.join(','),
    EAGER_SERVICE_LOADING: '1',
    KINESIS_LATENCY: '0',
    KINESIS_PERSISTENCE: '0',
    // kinesis-mock, which LocalStack starts with its own environment, listens on every interface and has no
    // setting for the host: the preload makes it listen on loopback only.
    NODE_OPTIONS: `--require ${join(repoRoot, 'scripts', 'listenOnLoopback.cjs')}`,
  };
}

/** A Python that can run LocalStack 4.14.0: 3.13 or newer. */
async function findPython(): Promise<string> {
  const candidates: string[] = [];
  if (process.env.SLUICE_LOCALSTACK_PYTHON) candidates.push(process.env.SLUICE_LOCALSTACK_PYTHON);
  const pyenvRoot = process.env.PYENV_ROOT || join(homedir(), '.pyenv');
  try {
    const versions = readdirSync(join(pyenvRoot, 'versions'))
      .filter((v) => /^3\.(1[3-9]|[2-9]\d)\.\d+$/.test(v))
      .sort((a, b) => b.localeCompare(a, undefined, { numeric: true }));
    for (const version of versions) candidates.push(join(pyenvRoot, 'versions', version, 'bin', 'python3'));
  } catch {
    // no pyenv
  }
  candidates.push('python3.14', 'python3.13', 'python3');
  for (const candidate of candidates) {
    const version = await new Promise<string | undefined>((resolve) => {
      const probe = spawn(candidate, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let out = '';
      probe.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      probe.on('error', () => resolve(undefined));
      probe.on('close', (code) => resolve(code === 0 ? out.trim() : undefined));
    });
    const [major, minor] = (version ?? '0.0').split('.').map(Number);
    if (major === 3 && (minor ?? 0) >= 13) return candidate;
  }
  throw new Error(
    `LocalStack 4.14.0 needs Python 3.13 or newer; none found among ${candidates.join(', ')}. ` +
      'Install one, or set SLUICE_LOCALSTACK_PYTHON to its path.',
  );
}

function registerUser(): void {
  mkdirSync(usersDir, { recursive: true });
  writeFileSync(join(usersDir, String(process.pid)), '');
}

/** Other live test runs registered as users; files of runs that died are removed. */
function otherUsers(): number[] {
  let names: string[];
  try {
    names = readdirSync(usersDir);
  } catch {
    return [];
  }
  const live: number[] = [];
  for (const name of names) {
    const pid = Number(name);
    if (pid === process.pid) continue;
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) live.push(pid);
    else rmSync(join(usersDir, name), { force: true });
  }
  return live;
}

/** Signals each process and its process group; processes already gone are skipped. */
function signalAll(processes: readonly { pid: number }[], signal: NodeJS.Signals): void {
  for (const { pid } of processes) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, signal);
      } catch {
        // already gone, or not a group leader
      }
    }
  }
}

/** A process's command line, or undefined when it has exited. */
function cmdlineOf(pid: number): string | undefined {
  const cmdline = readTextOr(`/proc/${pid}/cmdline`, '');
  return cmdline === '' ? undefined : cmdline;
}

/** Every process below `pid`, from `ps` (kinesis-mock included, though LocalStack starts it in a session of its own). */
export function descendantsOf(pid: number): number[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' });
  const children = new Map<number, number[]>();
  for (const line of (ps.stdout ?? '').split('\n')) {
    const [child, parent] = line.trim().split(/\s+/).map(Number);
    if (child === undefined || parent === undefined || Number.isNaN(child)) continue;
    children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const found: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    for (const child of children.get(stack.pop() as number) ?? []) {
      found.push(child);
      stack.push(child);
    }
  }
  return found;
}

function readTextOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

const tail = tailOf;

/** One line of progress on stderr: an install or a start takes long enough to deserve one. */
function say(line: string): void {
  process.stderr.write(`localstack: ${line}\n`);
}

function seconds(sinceMs: number): string {
  return `${((Date.now() - sinceMs) / 1000).toFixed(1)} s`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
