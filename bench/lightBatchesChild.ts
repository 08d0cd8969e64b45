/**
 * One side of `bench/lightBatches.ts`, run in a child process from the root of the tree it measures (this one, or
 * a worktree of the base commit, into which the parent copies this file): it imports that tree's engine only.
 * Usage: `node --import tsx bench/lightBatchesChild.ts trial <export> <workers> <batches>`, or `checkpoints <n>`.
 * Prints one line of JSON.
 */
import type { CheckpointData } from '../lib/scheduler/CheckpointData';
import { RedundantCheckpoints } from '../lib/scheduler/RedundantCheckpoints';
import { runTrial } from './runTrial';

/** Per batch: processing time (ms), and the tasks that ran on a thread (a task answered in the driver takes 0 ms). */
async function trial(exportName: string, workers: number, batches: number): Promise<unknown> {
  const result = await runTrial({ exportName, clock: 'logical', batches, workers, fsync: false });
  if (result.error) throw new Error(`${exportName} failed: ${result.error}`);
  // The first batch waits for the worker threads to load the engine: a start-up cost, not a batch's.
  const batchesRun = result.batches.slice(1);
  return {
    processingMs: batchesRun.map((b) => b.processingTimeMs),
    tasks: batchesRun.map((b) => b.tasks),
  };
}

/**
 * What a checkpoint's serialization costs: `n` checkpoints of a job with 8 inputs of 50 remembered batches each,
 * each judged by `RedundantCheckpoints`, made into the text written, and recorded, in ms per checkpoint.
 */
function checkpoints(n: number): unknown {
  const inputs: Record<string, Record<string, CheckpointData['inputs'][string][string]>> = {};
  for (let i = 0; i < 8; i++) {
    inputs[`n${i}`] = Object.fromEntries(
      Array.from({ length: 50 }, (_, b) => [String(b * 1000), { offsets: [0, 10, 20, 30], records: 30 }]),
    );
  }
  const data = (t: number): CheckpointData => ({
    version: 1,
    jobName: 'bench',
    graphSignature: 'x'.repeat(2000),
    batchIntervalMs: 1000,
    lastCompletedBatch: t,
    pendingBatches: [],
    inputs,
    sources: { n0: { position: t } },
    stored: Array.from({ length: 64 }, (_, k) => ({ key: `state/n3/${k}`, numPartitions: 8 })),
    outputs: {},
    writtenAt: new Date(t).toISOString(),
  });
  const judge = new RedundantCheckpoints() as RedundantCheckpoints & {
    textOf?(data: CheckpointData): string;
  };
  let bytes = 0;
  const started = performance.now();
  for (let t = 0; t < n; t++) {
    // No input taken since the last checkpoint (busy through 0), but the source's position moved: each checkpoint
    // is judged, found to add something, and written, the case that serialized it twice for the judging.
    const checkpoint = data(t * 1000);
    if (judge.isRedundant(checkpoint, 0)) continue;
    // The text the scheduler writes: before textOf, JSON.stringify of the whole checkpoint.
    bytes += (judge.textOf ? judge.textOf(checkpoint) : JSON.stringify(checkpoint)).length;
    judge.written(checkpoint);
  }
  if (bytes === 0) throw new Error('no checkpoint was written');
  return { msPerCheckpoint: (performance.now() - started) / n };
}

const [what, ...args] = process.argv.slice(2);
const out =
  what === 'trial'
    ? await trial(args[0]!, Number(args[1]), Number(args[2]))
    : what === 'checkpoints'
      ? checkpoints(Number(args[0]))
      : undefined;
if (out === undefined) throw new Error(`unknown measurement ${what}; use trial or checkpoints`);
process.stdout.write(`${JSON.stringify(out)}\n`);
