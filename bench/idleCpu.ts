/**
 * What an idle job costs: `sluice run` of a job whose source receives nothing (a socket whose server sends nothing,
 * a folder where no file appears), 500 ms batches, at 0 and 2 worker threads, all four at once. After a warm-up,
 * the process's CPU time (every thread: `/proc/<pid>/stat`, so Linux only) over the window, per second and per
 * batch, and the metadata checkpoint writes (the file's change time, sampled). The batches still run, with their
 * `print` output; only work that changes nothing should be left out.
 *
 * Usage: `node --import tsx bench/idleCpu.ts [seconds=30]`; it rewrites its section of `bench/RESULTS.md`.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { table, writeSection } from './resultsFile';

const seconds = Number(process.argv[2] ?? 30);
const WARM_UP_MS = 8000;
const CLI = fileURLToPath(new URL('../lib/local/sluice.mjs', import.meta.url));
/** Clock ticks a second of `/proc/<pid>/stat`'s CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

interface Idle {
  readonly job: string;
  readonly workers: number;
  readonly batches: number;
  readonly cpuMs: number;
  readonly checkpointWrites: number;
}

async function cpuTicks(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function runIdle(name: string, source: unknown, workers: number, dir: string): Promise<Idle> {
  const jobFile = join(dir, `${name}-${workers}.json`);
  const store = join(dir, `store-${name}-${workers}`);
  const document = {
    name: `idle-${name}`,
    batchIntervalMs: 500,
    sources: { lines: source },
    streams: { words: { from: 'lines', ops: [{ op: 'flatMap', fn: 'splitWords' }] } },
    outputs: [{ stream: 'words', type: 'print' }],
  };
  await writeFile(jobFile, JSON.stringify(document));
  const child = spawn(
    process.execPath,
    [CLI, 'run', jobFile, '--workers', String(workers), '--store', store],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let batches = 0;
  child.stderr.on('data', (chunk: Buffer) => {
    batches += (chunk.toString().match(/^Batch /gm) ?? []).length;
  });
  let exitCode: number | null | undefined;
  const exited = new Promise((resolve) =>
    child.on('exit', (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, WARM_UP_MS));
  if (exitCode !== undefined)
    throw new Error(`the idle ${name} job exited with ${exitCode} during the warm-up`);
  const ticksBefore = await cpuTicks(child.pid!); // a spawned process that is still running has a pid
  const batchesBefore = batches;
  const checkpoint = join(store, 'checkpoint', 'metadata.json');
  const changes = new Set<number>();
  const sampler = setInterval(() => {
    void stat(checkpoint).then(
      (s) => changes.add(s.ctimeMs),
      () => {},
    );
  }, 100);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  clearInterval(sampler);
  const cpuMs = ((await cpuTicks(child.pid!)) - ticksBefore) * (1000 / TICKS_PER_S);
  child.kill('SIGINT');
  await exited;
  // The first change seen is the checkpoint as the window opened.
  return { job: name, workers, batches: batches - batchesBefore, cpuMs, checkpointWrites: changes.size - 1 };
}

const dir = await mkdtemp(join(tmpdir(), 'sluice-idle-bench-'));
await mkdir(join(dir, 'in'));
const quiet = new Set<Socket>();
const server = createServer((socket) => quiet.add(socket));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as { port: number }).port;
try {
  const loadBefore = loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');
  const runs = await Promise.all(
    [0, 2].flatMap((workers) => [
      runIdle('socket', { type: 'socket', host: '127.0.0.1', port }, workers, dir),
      runIdle('folder', { type: 'textFileStream', directory: join(dir, 'in') }, workers, dir),
    ]),
  );
  const loadAfter = loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');
  const body = [
    '### CPU of an idle job (`bench/idleCpu.ts`)',
    '',
    `- Date: ${new Date().toISOString()}; CPU: ${cpus()[0]?.model ?? 'unknown'}; Node ${process.version}; \`sluice run\` from this checkout (TypeScript through tsx)`,
    `- Load average (1/5/15 min) before: ${loadBefore}; after: ${loadAfter}`,
    `- 500 ms batches, ${seconds} s measured after ${WARM_UP_MS / 1000} s of warm-up, the four runs at once; CPU time of the whole process in 10 ms ticks`,
    '',
    ...table(
      [
        'Source',
        'Worker threads',
        'Batches',
        'CPU (ms)',
        'CPU per second (ms)',
        'CPU per batch (ms)',
        'Checkpoint writes',
      ],
      runs.map((r) => [
        r.job,
        r.workers,
        r.batches,
        r.cpuMs,
        (r.cpuMs / seconds).toFixed(1),
        (r.cpuMs / Math.max(1, r.batches)).toFixed(2),
        r.checkpointWrites,
      ]),
    ),
    '',
  ].join('\n');
  console.log(body);
  await writeSection('idle-cpu', body);
} finally {
  for (const socket of quiet) socket.destroy();
  server.close();
  await rm(dir, { recursive: true, force: true });
}
