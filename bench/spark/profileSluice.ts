import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RoleSummary, summarizeProfiles } from '../cpuProfile';
import { type ProcessRecord, runAtRate, type SessionSpec } from './runSession';

/** A CPU profile of Sluice's engine process on one workload at one rate. */
export interface SluiceProfile {
  readonly rate: number;
  readonly run: ProcessRecord;
  /** Where each kind of thread spent its time (driver, worker threads, tsx's loader threads). */
  readonly roles: readonly RoleSummary[];
}

/**
 * Runs Sluice's engine process under `node --cpu-prof` (which profiles the worker threads too) at `rate`, and
 * summarises the profiles with the local bench's summariser (`bench/cpuProfile.ts`). The process stops
 * gracefully, as V8 writes a profile only when its thread exits; the profiles go to a temporary folder that
 * is removed afterwards.
 */
export async function profileSluice(
  spec: Omit<SessionSpec, 'engine' | 'nodeFlags'>,
  rate: number,
  batches: number,
  log: (line: string) => void,
): Promise<SluiceProfile> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-spark-bench-prof-'));
  try {
    const run = await runAtRate(
      { ...spec, engine: 'sluice', nodeFlags: ['--cpu-prof', '--cpu-prof-dir', dir] },
      rate,
      batches,
      log,
    );
    const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
    if (files.length === 0) throw new Error('the profiled Sluice process wrote no .cpuprofile file');
    const profiles = await Promise.all(
      files.map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8'))),
    );
    return { rate, run, roles: summarizeProfiles(profiles, 12) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
