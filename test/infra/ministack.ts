/**
 * ministack for the deploy test: an emulator that runs the stack's Node.js Lambdas as local `node` processes, so
 * the real stack deploys and runs on a machine without Docker (see ../shared/LOCAL-AWS.md).
 *
 * Findings (ministack 1.5.33, November 2026, read in its source and checked by running it):
 * - `cdklocal bootstrap` and `deploy` work; assets go to the staging bucket. IAM is not enforced, and
 *   ReservedConcurrentExecutions, bucket encryption, lifecycle rules and Kinesis stream encryption are accepted
 *   and ignored, so the template tests are what checks those.
 * - Functions run under the `node` on PATH whatever their runtime says, with no AWS SDK of their own (so the
 *   stack bundles it), warm between invocations, several processes for concurrent invocations, and get
 *   `AWS_ENDPOINT_URL` pointing back at ministack. They also inherit ministack's environment, so the tests'
 *   AWS settings are kept out of it.
 * - An alarm with metric math fails the deploy ("Properties.Metrics (metric math) is not supported"): the stack's
 *   alarm is on a single metric; the dashboard's search expressions are only text in its body.
 * - The EventBridge rule fires (about every 60 s); EventInvokeConfig's SQS destination receives failures.
 * - Install: `pip install` of the pinned requirements into `.ministack/venv`, about 10 s; start about 3 s.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/freePort';
import { withInstallLock } from '../helpers/installLock';
import { runLogged, tailOf } from '../helpers/runLogged';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const stateDir = join(repoRoot, '.ministack');
const venvDir = join(stateDir, 'venv');
const requirementsFile = join(repoRoot, 'test', 'infra', 'ministack-requirements.txt');

/** A running ministack, started by {@link startMinistack}. */
export interface Ministack {
  readonly endpoint: string;
  readonly log: string;
  stop(): Promise<void>;
}

/** Installs ministack once (rebuilt when the requirements change), starts it on a free loopback port, waits for health. */
export async function startMinistack(): Promise<Ministack> {
  mkdirSync(stateDir, { recursive: true });
  await withInstallLock(join(stateDir, 'install.lock'), 600_000, ensureVenv);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const temp = mkdtempSync(join(tmpdir(), 'sluice-ministack-'));
  const log = join(stateDir, `ministack-${port}.log`);
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    // Functions inherit ministack's environment: keep the tests' AWS and vitest settings out of it.
    if (!name.startsWith('AWS_') && !name.startsWith('VITEST') && name !== 'NODE_OPTIONS') env[name] = value;
  }
  const child: ChildProcess = spawn(join(venvDir, 'bin', 'ministack'), [], {
    cwd: temp,
    env: {
      ...env,
      BIND_HOST: '127.0.0.1',
      MINISTACK_HOST: '127.0.0.1',
      GATEWAY_PORT: String(port),
      SFTP_ENABLED: '0',
      IOT_MTLS_ENABLED: '0',
      TMPDIR: temp,
    },
    // Its own process group: stop() ends it with every function process it started.
    detached: true,
    stdio: ['ignore', openSync(log, 'w'), openSync(log, 'a')],
  });
  child.unref();
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const stop = async () => {
    if (child.pid === undefined || exited) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await Promise.race([gone, sleep(5000)]);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // stopped gracefully
    }
    rmSync(temp, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (await healthy(endpoint)) return { endpoint, log, stop };
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`ministack did not start; the end of ${log}:\n${tailOf(log, 30)}`);
    }
    await sleep(250);
  }
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/_ministack/health`, { signal: AbortSignal.timeout(2000) });
    return response.ok;
  } catch {
    return false;
  }
}

async function ensureVenv(): Promise<void> {
  const hash = createHash('sha256').update(readFileSync(requirementsFile)).digest('hex');
  const stamp = join(venvDir, '.sluice-requirements.sha256');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash) return;
  const log = join(stateDir, 'install.log');
  writeFileSync(log, '');
  rmSync(venvDir, { recursive: true, force: true });
  const python = process.env.SLUICE_MINISTACK_PYTHON ?? 'python3';
  process.stderr.write(`ministack: installing into ${venvDir} with ${python} (once)\n`);
  await runLogged(python, ['-m', 'venv', venvDir], log, 300_000);
  await runLogged(
    join(venvDir, 'bin', 'python'),
    ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-r', requirementsFile],
    log,
    600_000,
  );
  writeFileSync(stamp, `${hash}\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
