import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BatchInfo } from '../lib/scheduler/StreamingListener';

/** The parts of a V8 `.cpuprofile` the summary reads. */
interface V8CpuProfile {
  readonly nodes: ReadonlyArray<{
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string };
    readonly children?: readonly number[];
  }>;
  readonly samples: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

/** What a thread does in a local run. */
export type ThreadRole = 'driver' | 'worker' | 'other';

/** Where one kind of thread spent its time. */
export interface RoleSummary {
  readonly role: ThreadRole;
  readonly threads: number;
  /** Profiled wall time summed over the threads, in milliseconds. */
  readonly wallMs: number;
  /** Sampled time not idle, in milliseconds. */
  readonly busyMs: number;
  /** Sampled time in the garbage collector, in milliseconds. */
  readonly gcMs: number;
  /** The functions with the most self time, heaviest first; built-ins are named with their Sluice caller. */
  readonly top: ReadonlyArray<{ readonly name: string; readonly ms: number }>;
  /** The Sluice (and benchmark) functions with the most time including what they call, heaviest first. */
  readonly topInclusive: ReadonlyArray<{ readonly name: string; readonly ms: number }>;
  /** Busy time by who is to blame: the collector, Sluice's code, the job's own functions, or the rest. */
  readonly byCategory: Readonly<Record<TimeCategory, number>>;
}

/**
 * `engine`: Sluice's functions under `lib/` and the built-ins they call; `job`: the benchmark job's record
 * functions and the built-ins they call (`split`), which a hand-written loop pays too; `other`: start-up,
 * Node internals, `(program)`.
 */
export type TimeCategory = 'gc' | 'engine' | 'job' | 'other';

function categoryOf(name: string): TimeCategory {
  if (name === '(garbage collector)') return 'gc';
  if (name.includes('(bench/')) return 'job';
  if (name.includes('(lib/')) return 'engine';
  return 'other';
}

/** A profiled run: its batches and where each kind of thread spent its time. */
export interface ProfileSummary {
  readonly batches: readonly BatchInfo[];
  readonly roles: readonly RoleSummary[];
}

const REPO_URL = new URL('..', import.meta.url).href;
const CHILD = fileURLToPath(new URL('./profileChild.ts', import.meta.url));

/**
 * Runs `bench/profileChild.ts` under `--cpu-prof` (which also profiles every worker thread) and summarises
 * the profiles by thread role. The profiles go to a temporary folder that is removed afterwards.
 */
export async function profileRun(args: readonly string[], topN = 12): Promise<ProfileSummary> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-prof-'));
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--cpu-prof', '--cpu-prof-dir', dir, '--import', 'tsx', CHILD, ...args],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const batches = JSON.parse(stdout.trim().split('\n').at(-1) ?? '[]') as BatchInfo[];
    return { batches, roles: await summarizeProfileDir(dir, topN) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Reads every `.cpuprofile` a `--cpu-prof-dir` run left in `dir` and summarises them by thread role. */
export async function summarizeProfileDir(dir: string, topN = 12): Promise<RoleSummary[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const profiles = await Promise.all(
    files.map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8')) as V8CpuProfile),
  );
  return summarizeProfiles(profiles, topN);
}

/** The running totals of one thread role. */
interface RoleTimes {
  threads: number;
  wallMs: number;
  busyMs: number;
  gcMs: number;
  self: Map<string, number>;
  inclusive: Map<string, number>;
}

/** Merges the profiles of threads with the same role and ranks their functions by self time. */
export function summarizeProfiles(profiles: readonly V8CpuProfile[], topN: number): RoleSummary[] {
  const roles = new Map<ThreadRole, RoleTimes>();
  for (const profile of profiles) {
    const role = roleOf(profile);
    const into: RoleTimes = roles.get(role) ?? {
      threads: 0,
      wallMs: 0,
      busyMs: 0,
      gcMs: 0,
      self: new Map(),
      inclusive: new Map(),
    };
    roles.set(role, into);
    const wallMs = (profile.endTime - profile.startTime) / 1000;
    const msPerSample = profile.samples.length > 0 ? wallMs / profile.samples.length : 0;
    into.threads++;
    into.wallMs += wallMs;
    const { names, stacks } = frameNames(profile);
    const hits = new Map<number, number>();
    for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
    for (const [id, count] of hits) {
      const name = names.get(id)!;
      const ms = count * msPerSample;
      if (name === '(idle)') continue;
      into.busyMs += ms;
      if (name === '(garbage collector)') into.gcMs += ms;
      into.self.set(name, (into.self.get(name) ?? 0) + ms);
      for (const caller of stacks.get(id) ?? [])
        into.inclusive.set(caller, (into.inclusive.get(caller) ?? 0) + ms);
    }
  }
  return [...roles].map(([role, r]) => ({
    role,
    threads: r.threads,
    wallMs: r.wallMs,
    busyMs: r.busyMs,
    byCategory: categoryTimes(r.self),
    gcMs: r.gcMs,
    top: heaviest(r.self, topN),
    topInclusive: heaviest(r.inclusive, topN),
  }));
}

function categoryTimes(self: Map<string, number>): Record<TimeCategory, number> {
  const times: Record<TimeCategory, number> = { gc: 0, engine: 0, job: 0, other: 0 };
  for (const [name, ms] of self) times[categoryOf(name)] += ms;
  return times;
}

function heaviest(times: Map<string, number>, topN: number): Array<{ name: string; ms: number }> {
  return [...times]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([name, ms]) => ({ name, ms }));
}

function roleOf(profile: V8CpuProfile): ThreadRole {
  const urls = new Set(profile.nodes.map((n) => n.callFrame.url));
  if ([...urls].some((u) => u.endsWith('/lib/local/TaskWorker.ts'))) return 'worker';
  if ([...urls].some((u) => u.endsWith('/lib/scheduler/JobScheduler.ts'))) return 'driver';
  return 'other';
}

/**
 * A readable name for every profile node. Sluice's own functions are `name (file)`; anonymous ones take
 * the name of their closest named caller. Built-ins and Node internals (`JSON.parse`, `split`) carry the
 * Sluice function that called them, because "parse" alone does not say which stage to fix.
 */
function frameNames(profile: V8CpuProfile): { names: Map<number, string>; stacks: Map<number, Set<string>> } {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const names = new Map<number, string>();
  const ownName = (id: number): string | undefined => {
    const frame = byId.get(id)?.callFrame;
    if (!frame?.url.startsWith(REPO_URL)) return undefined;
    const file = frame.url.slice(REPO_URL.length);
    // tsx's loader, and the shim that registers it in each worker, are start-up, not Sluice at work.
    if (file.startsWith('node_modules/') || file.endsWith('.mjs')) return undefined;
    if (frame.functionName) return `${frame.functionName} (${file})`;
    let up = parent.get(id);
    while (up !== undefined && !byId.get(up)?.callFrame.functionName) up = parent.get(up);
    const caller = up === undefined ? undefined : byId.get(up)?.callFrame.functionName;
    return `anonymous${caller ? ` in ${caller}` : ''} (${file})`;
  };
  for (const node of profile.nodes) {
    const own = ownName(node.id);
    if (own) {
      names.set(node.id, own);
      continue;
    }
    const label = node.callFrame.functionName || '(anonymous)';
    if (label.startsWith('(')) {
      names.set(node.id, label); // (idle), (garbage collector), (program), (root)
      continue;
    }
    let up = parent.get(node.id);
    while (up !== undefined && !ownName(up)) up = parent.get(up);
    names.set(node.id, up === undefined ? `${label} [node]` : `${label} [built-in, from ${ownName(up)}]`);
  }
  // The Sluice functions on each node's stack, itself included, each once however deep the recursion.
  const stacks = new Map<number, Set<string>>();
  const stackOf = (id: number): Set<string> => {
    let stack = stacks.get(id);
    if (!stack) {
      const up = parent.get(id);
      stack = new Set(up === undefined ? [] : stackOf(up));
      const own = ownName(id);
      if (own) stack.add(own);
      stacks.set(id, stack);
    }
    return stack;
  };
  for (const node of profile.nodes) stackOf(node.id);
  return { names, stacks };
}
