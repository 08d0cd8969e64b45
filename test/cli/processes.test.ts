import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InputStreamName, StreamingSummary } from '../../lib/ui/StreamingUiState';
import { runSluice } from '../helpers/sluiceProcess';

/** Real processes: the CLI, npm, a parent that dies. Nothing is timed; the long test timeouts are only a net. */

const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'lib/local/sluice.mjs');
const hashtags = join(root, 'events/hashtag-counts.json');
const sessions = join(root, 'events/session-counts.json');
const SAFETY_MS = 120_000;

let dir: string;
const started: ChildProcess[] = [];
/** Grandchildren (sluice under npm or under a parent) that a failed test may leave running. */
const descendants: number[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-processes-'));
});
afterEach(async () => {
  // A test that failed may leave its processes running: stop the ones this file started, by PID.
  for (const child of started.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const pid of descendants.splice(0)) if (!isGone(pid)) process.kill(pid, 'SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

/** A running process with its output so far, and helpers to wait for what it prints and for its end. */
function launch(command: string, args: readonly string[], cwd = dir) {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d) => (output.stdout += d));
  child.stderr!.on('data', (d) => (output.stderr += d));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const stderrShows = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (output.stderr.includes(text)) resolve();
      };
      child.stderr!.on('data', check);
      child.on('close', () => reject(new Error(`exited before printing ${text}; stderr: ${output.stderr}`)));
      check();
    });
  return { child, output, closed, stderrShows };
}

/** A process that has exited (a zombie nobody reaps counts: it runs nothing and holds nothing). */
function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Waits until the process is gone, looking again on each tick of a short poll (no deadline but the test's). */
async function untilGone(pid: number): Promise<void> {
  while (!isGone(pid)) await new Promise((resolve) => setTimeout(resolve, 100));
}

/** The PIDs of a process's children, from /proc. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The command line of a process. */
function commandOf(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
}

describe('signals', () => {
  it('stops gracefully on SIGTERM, as on Ctrl-C', { timeout: SAFETY_MS }, async () => {
    // given the main job running in real time
    const run = launch(process.execPath, [
      bin,
      'run',
      hashtags,
      '--store',
      join(dir, 'store'),
      '--workers',
      '1',
    ]);
    await run.stderrShows('Batch 1000 ms');
    // when a supervisor sends SIGTERM
    run.child.kill('SIGTERM');
    // then the run finishes the running batch and exits 0, with whole batches printed, instead of dying at once
    const { code, signal } = await run.closed;
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(run.output.stderr).toMatch(/Stopping after the running batch \(SIGTERM again to quit at once\)/);
    const printed = run.output.stdout.match(/Time: \d+ ms/g) ?? [];
    expect(printed.length).toBe((run.output.stderr.match(/^Batch \d+ ms\b/gm) ?? []).length);
  });

  it('ends quietly when the reader of its output goes away (sluice run … | head)', {
    timeout: SAFETY_MS,
  }, async () => {
    // given the main job printing every batch to a pipe
    const run = launch(process.execPath, [
      bin,
      'run',
      hashtags,
      '--store',
      join(dir, 'store'),
      '--workers',
      '1',
    ]);
    await new Promise<void>((resolve) => run.child.stdout!.once('data', () => resolve()));
    // when the reading end closes, as `head` does once it has its lines
    run.child.stdout!.destroy();
    // then the run stops after its batch and exits 0, without an EPIPE stack trace
    const { code } = await run.closed;
    expect(run.output.stderr).not.toMatch(/EPIPE|Error|at /);
    expect(code).toBe(0);
  });
});

describe('the Streaming UI of a run that ended', () => {
  it('stays up, marked ended with the failure, until Ctrl-C; then the run exits with its code', {
    timeout: SAFETY_MS,
  }, async () => {
    // given a job whose second batch fails, run with --ui
    await writeFile(
      join(dir, 'job.json'),
      JSON.stringify({
        name: 'ui-after-failure',
        batchIntervalMs: 1000,
        maxTaskAttempts: 1,
        functions: 'fns.mjs',
        sources: { q: { type: 'queue', batches: [['a'], ['b']] } },
        streams: { s: { from: 'q', ops: [{ op: 'mapPartitions', fn: 'breakOnB' }] } },
        outputs: [{ stream: 's', type: 'print' }],
      }),
    );
    await writeFile(
      join(dir, 'fns.mjs'),
      'export const breakOnB = (records) => { if (records.includes("b")) throw new Error("b breaks"); return records; };\n',
    );
    const run = launch(process.execPath, [
      bin,
      'run',
      'job.json',
      '--fast',
      '--batches',
      '3',
      '--ui',
      '0',
      '--workers',
      '0',
    ]);
    // when the run has failed
    await run.stderrShows('its Streaming UI stays up until Ctrl-C');
    // then the page still answers, and says the run failed and why
    const url = /Streaming UI at (\S+)/.exec(run.output.stderr)![1]!;
    const summary = (await (await fetch(`${url}api/streaming`)).json()) as { ended?: { error?: string } };
    expect(summary.ended?.error).toMatch(/b breaks/);
    // and Ctrl-C ends the process with the run's exit code
    run.child.kill('SIGINT');
    const { code } = await run.closed;
    expect(code).toBe(1);
  });
});

describe("the Streaming UI of a run's socket", () => {
  it('shows it retrying, with the refusal, before the first batch completes', {
    timeout: SAFETY_MS,
  }, async () => {
    // given a job of a socket source refused by a loopback port, in batches of an hour, run with --ui
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    await writeFile(
      join(dir, 'job.json'),
      JSON.stringify({
        name: 'ui-socket',
        batchIntervalMs: 3_600_000,
        sources: { lines: { type: 'socket', host: '127.0.0.1', port } },
        outputs: [{ stream: 'lines', type: 'print' }],
      }),
    );
    const run = launch(process.execPath, [bin, 'run', 'job.json', '--ui', '0', '--workers', '0']);
    await run.stderrShows('Streaming UI at ');
    const url = /Streaming UI at (\S+)/.exec(run.output.stderr)![1]!;
    // when its page's JSON is read, before any batch completed
    let lines: InputStreamName | undefined;
    let summary: StreamingSummary;
    do {
      await new Promise((resolve) => setTimeout(resolve, 200));
      summary = (await (await fetch(`${url}api/streaming`)).json()) as StreamingSummary;
      lines = summary.inputStreams.find((stream) => stream.name === 'lines');
    } while (lines?.state !== 'retrying');
    // then the socket is retrying, with the refusal as its latest error, and no batch has completed
    expect(lines.lastError?.message).toBe(`Error: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(summary.completedBatches).toBe(0);
    run.child.kill('SIGINT');
    expect((await run.closed).code).toBe(0);
  });
});

describe('one run per store', () => {
  it('refuses a second run on a store in use, naming the PID that holds it', {
    timeout: SAFETY_MS,
  }, async () => {
    // given a run holding its store
    const store = join(dir, 'store');
    const first = launch(process.execPath, [bin, 'run', hashtags, '--store', store, '--workers', '1']);
    await first.stderrShows('Batch 1000 ms');
    // when a second run starts on the same store
    const second = await runSluice(
      ['run', hashtags, '--store', store, '--fast', '--batches', '2', '--workers', '1'],
      dir,
    );
    // then it refuses with exit code 3, naming the first run's PID, and computes nothing
    expect(second.code).toBe(3);
    expect(second.stderr).toContain(`the store ${store} is in use by another run (PID ${first.child.pid}`);
    expect(second.stdout).toBe('');
    first.child.kill('SIGINT');
    expect((await first.closed).code).toBe(0);
    // and once the first run has ended, the store is free again
    const third = await runSluice(
      ['run', hashtags, '--store', store, '--fast', '--batches', '1', '--quiet'],
      dir,
    );
    expect(third.code).toBe(0);
  });

  it('takes over the lock of a run killed with kill -9', { timeout: SAFETY_MS }, async () => {
    // given a run killed with SIGKILL while it held its store
    const store = join(dir, 'store');
    const killed = launch(process.execPath, [bin, 'run', hashtags, '--store', store, '--workers', '1']);
    await killed.stderrShows('Batch 1000 ms');
    killed.child.kill('SIGKILL');
    await killed.closed;
    expect(existsSync(join(store, 'sluice.lock'))).toBe(true);
    // when a new run starts on that store
    const next = await runSluice(
      ['run', hashtags, '--store', store, '--fast', '--batches', '3', '--workers', '1'],
      dir,
    );
    // then the stale lock does not block it: it resumes from the checkpoint
    expect(next.stderr).toMatch(/Resuming from the checkpoint/);
    expect(next.code).toBe(0);
  });

  it('takes over a lock whose PID now belongs to another process', { timeout: SAFETY_MS }, async () => {
    // given a lock naming a live process (this test's) whose start time is not the one recorded: a reused PID
    const store = join(dir, 'store');
    await mkdir(store, { recursive: true });
    const lock = { pid: process.pid, startTicks: 1, since: '2020-01-01T00:00:00.000Z' };
    await writeFile(join(store, 'sluice.lock'), JSON.stringify(lock));
    // when a run starts on that store
    const run = await runSluice(
      ['run', hashtags, '--store', store, '--fast', '--batches', '1', '--quiet'],
      dir,
    );
    // then the lock is not that process's: the run goes ahead
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });
});

describe('the default store', () => {
  it('is per job, so different jobs run one after another without --fresh', {
    timeout: SAFETY_MS,
  }, async () => {
    // given a folder where the main job has run
    const first = await runSluice(
      ['run', hashtags, '--fast', '--batches', '2', '--quiet', '--workers', '1'],
      dir,
    );
    expect(first.code).toBe(0);
    // when another job runs there, without --store or --fresh
    const second = await runSluice(
      ['run', sessions, '--fast', '--batches', '2', '--quiet', '--workers', '1'],
      dir,
    );
    // then it runs in its own store, .sluice/<job name>/, instead of refusing the other job's checkpoint
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(readdirSync(join(dir, '.sluice')).sort()).toEqual(['hashtag-counts', 'session-counts']);
  });

  it('is per module file, so job.ts and job.mjs in one folder run one after another', {
    timeout: SAFETY_MS,
  }, async () => {
    // given two job modules of one base name, of different graphs, in one folder
    await writeModuleJobs(dir);
    const args = ['--fast', '--batches', '2', '--quiet', '--workers', '0'];
    expect((await runSluice(['run', 'job.ts', ...args], dir)).code).toBe(0);
    // when the other one runs there, without --store or --fresh
    const second = await runSluice(['run', 'job.mjs', ...args], dir);
    // then it runs in its own store instead of refusing the first one's checkpoint
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(readdirSync(join(dir, '.sluice')).sort()).toEqual(['job.mjs', 'job.ts']);
  });

  it("resumes a module's checkpoint in the store named without its extension", {
    timeout: SAFETY_MS,
  }, async () => {
    // given job.ts's checkpoint at batch 2 in .sluice/job, where an earlier Sluice kept it, and job.mjs's
    // checkpoint in .sluice/job.mjs
    await writeModuleJobs(dir);
    const args = ['--fast', '--workers', '0'];
    expect(
      (await runSluice(['run', 'job.ts', ...args, '--batches', '2', '--store', '.sluice/job'], dir)).code,
    ).toBe(0);
    expect((await runSluice(['run', 'job.mjs', ...args, '--batches', '1'], dir)).code).toBe(0);
    // when job.ts runs on to batch 3 without --store
    const resumed = await runSluice(['run', 'job.ts', ...args, '--batches', '3'], dir);
    // then it resumes that checkpoint, running batch 3 only, and makes no store of the new name
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('Time: 3000 ms');
    expect(resumed.stdout).not.toContain('Time: 1000 ms');
    expect(readdirSync(join(dir, '.sluice')).sort()).toEqual(['job', 'job.mjs']);
  });

  it('says so when its checkpoint is already past --batches', { timeout: SAFETY_MS }, async () => {
    // given a job that has run 3 batches
    const args = ['run', hashtags, '--fast', '--quiet', '--workers', '1'];
    expect((await runSluice([...args, '--batches', '3'], dir)).code).toBe(0);
    // when it is asked for 2 batches
    const again = await runSluice([...args, '--batches', '2'], dir);
    // then it says there is nothing to run and why, rather than silently doing nothing
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(
      /Nothing to run: the checkpoint is already at batch 3 \(3000 ms\), --batches 2 ends at batch 2/,
    );
  });

  it('says so when --batches or --duration ends before the first batch', { timeout: SAFETY_MS }, async () => {
    // given the main job (1 s batches) on a fresh store
    const args = ['run', hashtags, '--fast', '--quiet', '--workers', '0'];
    // when it is asked for no batch, or for 5 ms of stream time (a duration without a unit)
    const none = await runSluice([...args, '--batches', '0'], dir);
    const short = await runSluice([...args, '--duration', '5'], dir);
    // then each says that nothing runs and what to give, rather than exit without a word
    expect([none.code, none.stdout]).toEqual([0, '']);
    expect(none.stderr).toMatch(/Nothing to run: --batches 0 ends before the first batch; give 1 or more/);
    expect([short.code, short.stdout]).toEqual([0, '']);
    expect(short.stderr).toMatch(
      /Nothing to run: --duration ends at 5 ms of stream time, before the first batch at 1000 ms \(a number without a unit is ms/,
    );
  });

  it('says so when --duration ends between the checkpoint and the next batch', {
    timeout: SAFETY_MS,
  }, async () => {
    // given a job that has run 2 batches of 1 s
    const args = ['run', hashtags, '--fast', '--quiet', '--workers', '0'];
    expect((await runSluice([...args, '--batches', '2'], dir)).code).toBe(0);
    // when it is asked to run on to 2.5 s of stream time, before its next batch at 3 s
    const again = await runSluice([...args, '--duration', '2500ms'], dir);
    // then it says that nothing runs, and why
    expect([again.code, again.stdout]).toEqual([0, '']);
    expect(again.stderr).toMatch(
      /Nothing to run: the checkpoint is already at batch 2 \(2000 ms\), --duration ends at 2500 ms of stream time, before the next batch at 3000 ms/,
    );
  });
});

describe('the parent process', () => {
  it('npm start stops when a supervisor sends SIGINT to npm alone', { timeout: SAFETY_MS }, async () => {
    // given `npm start` running the main job
    const npm = launch('npm', ['start', '--', '--store', join(dir, 'store'), '--workers', '1'], root);
    await npm.stderrShows('Batch 1000 ms');
    const processes = [npm.child.pid!, ...childrenOf(npm.child.pid!)];
    for (let i = 1; i < processes.length; i++) processes.push(...childrenOf(processes[i]!));
    const node = processes.find((pid) => pid !== npm.child.pid && commandOf(pid).includes('sluice.mjs run'));
    expect(node).toBeDefined();
    descendants.push(...processes.slice(1));
    // when a supervisor sends SIGINT to npm's PID only (not to the process group)
    npm.child.kill('SIGINT');
    await npm.closed;
    // then node exits too: nothing of the job keeps running
    await untilGone(node!);
    for (const pid of processes) expect(isGone(pid)).toBe(true);
  });

  it('sluice run stops when the process that started it is killed', { timeout: SAFETY_MS }, async () => {
    // given sluice started by a parent process that reports its PID
    const parentScript = `
      const { spawn } = require('node:child_process');
      const child = spawn(process.execPath, ${JSON.stringify([bin, 'run', hashtags, '--store', join(dir, 'store'), '--workers', '1'])}, { stdio: ['ignore', 'ignore', 'inherit'] });
      process.stdout.write(String(child.pid) + '\\n');
      setInterval(() => {}, 1000);
    `;
    const parent = launch(process.execPath, ['-e', parentScript]);
    await parent.stderrShows('Batch 1000 ms');
    const sluicePid = Number(parent.output.stdout.trim());
    descendants.push(sluicePid);
    expect(commandOf(sluicePid)).toContain('sluice.mjs run');
    // when the parent is killed with SIGKILL, so it cannot pass anything on
    parent.child.kill('SIGKILL');
    await parent.closed;
    // then sluice notices it is orphaned and exits
    await untilGone(sluicePid);
    expect(isGone(sluicePid)).toBe(true);
  });
});

/** `job.ts` and `job.mjs`, two modules of one base name whose graphs differ (a map; a reduceByKey). */
async function writeModuleJobs(folder: string): Promise<void> {
  const jobModule = JSON.stringify(join(root, 'lib/job/JobModule.ts'));
  await writeFile(
    join(folder, 'job.ts'),
    `import { defineJob } from ${jobModule};
export default defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc.queueStream([[1], [2], [3]]).map((n: number) => n * 2).print();
});
`,
  );
  await writeFile(
    join(folder, 'job.mjs'),
    `import { defineJob } from ${jobModule};
export default defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc.queueStream([['a'], ['b']]).map((w) => [w, 1]).reduceByKey((a, b) => a + b).print();
});
`,
  );
}
