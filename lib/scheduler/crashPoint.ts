/**
 * Where a crash test may kill the process. Recovery is tested with real kills of real processes; a timed
 * `kill -9` lands at random places, so the tests name the place instead: `SLUICE_CRASH_AT=output:3000` makes
 * the process kill itself with SIGKILL when batch 3000 reaches that point. Without the variable this is a no-op.
 */
/**
 * `task`: in a task; `output`: after an output ran for its batch; `checkpoint`: after a batch's jobs, before its
 * checkpoint; `commit`: after the batch's held file outputs (jsonl lines) were written, before the checkpoint that
 * records it; `cleanup`: after its checkpoint, before cleanup deletes what that checkpoint no longer needs.
 */
export type CrashPoint = 'task' | 'output' | 'checkpoint' | 'commit' | 'cleanup';

const wanted = process.env.SLUICE_CRASH_AT;

/** Kills this process (all its threads) with SIGKILL when `SLUICE_CRASH_AT` names this point and batch. */
export function crashPoint(point: CrashPoint, batchTime: number): void {
  if (wanted !== undefined && wanted === `${point}:${batchTime}`) process.kill(process.pid, 'SIGKILL');
}
