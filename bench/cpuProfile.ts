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
    const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
    const profiles = await Promise.all(
      files.map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8')) as V8CpuProfile),
    );
    return { batches, roles: summarizeProfiles(profiles, topN) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Merges the profiles of threads with the same role and ranks their functions by self time. */
export function summarizeProfiles(profiles: readonly V8CpuProfile[], topN: number): RoleSummary[] {
  const roles = new Map<
    ThreadRole,
    { threads: number; wallMs: number; busyMs: number; gcMs: number; self: Map<string, number> }
  >();
  for (const profile of profiles) {
    const role = roleOf(profile);
    const into = roles.get(role) ?? { threads: 0, wallMs: 0, busyMs: 0, gcMs: 0, self: new Map() };
    roles.set(role, into);
    const wallMs = (profile.endTime - profile.startTime) / 1000;
    const msPerSample = profile.samples.length > 0 ? wallMs / profile.samples.length : 0;
    into.threads++;
    into.wallMs += wallMs;
    const names = frameNames(profile);
    const hits = new Map<number, number>();
    for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
    for (const [id, count] of hits) {
      const name = names.get(id)!;
      const ms = count * msPerSample;
      if (name === '(idle)') continue;
      into.busyMs += ms;
      if (name === '(garbage collector)') into.gcMs += ms;
      into.self.set(name, (into.self.get(name) ?? 0) + ms);
    }
  }
  return [...roles].map(([role, r]) => ({
    role,
    threads: r.threads,
    wallMs: r.wallMs,
    busyMs: r.busyMs,
    gcMs: r.gcMs,
    top: [...r.self]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([name, ms]) => ({ name, ms })),
  }));
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
function frameNames(profile: V8CpuProfile): Map<number, string> {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const names = new Map<number, string>();
  const ownName = (id: number): string | undefined => {
    const frame = byId.get(id)?.callFrame;
    if (!frame?.url.startsWith(REPO_URL)) return undefined;
    const file = frame.url.slice(REPO_URL.length);
    if (file.startsWith('node_modules/')) return undefined; // tsx's loader is not Sluice
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
  return names;
}
