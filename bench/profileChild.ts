/**
 * The process `bench/cpuProfile.ts` runs under `--cpu-prof`: one logical-clock run of a benchmark job.
 * Usage: `node --import tsx bench/profileChild.ts <exportName> <workers> <batches>`. Its last stdout line is
 * the batches' metrics as JSON.
 */
import { runTrial } from './runTrial';

const [exportName, workers, batches] = process.argv.slice(2);
if (!exportName || !workers || !batches) {
  throw new Error('usage: profileChild.ts <exportName> <workers> <batches>, such as wordCount.100000.2 2 5');
}
const trial = await runTrial({
  exportName,
  clock: 'logical',
  workers: Number(workers),
  batches: Number(batches),
});
if (trial.error) throw new Error(`the profiled run failed: ${trial.error}`);
process.stdout.write(`${JSON.stringify(trial.batches)}\n`);
