/**
 * `npm run bench`: how fast Sluice's local mode runs WordCount and Grep on generated 100-byte lines with 1 s
 * batches, against a hand-written single-process loop, plus the scheduler's cost per empty batch, the heap over
 * 2,000 batches of a windowed, stateful job, and a CPU profile of WordCount. Rewrites its section of `bench/RESULTS.md` (between the `bench:run` markers) and logs
 * progress to stderr.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { profileRun } from './cpuProfile';
import { timeEmptyBatches } from './emptyBatchOverhead';
import { generateLines, mergeLoopTimings, timeLoop } from './handWrittenLoops';
import { measureMemoryOverBatches } from './memoryOverBatches';
import { RESULTS_PATH, writeSection } from './resultsFile';
import { type BenchResults, RUN_SECTION, renderResults, type WorkloadResult } from './resultsReport';
import { jobName } from './runTrial';
import { median } from './stats';
import { estimateThroughput, findSustainableRate, type Placement, type Workload } from './sustainableRate';

/** Lines per hand-written loop pass: enough for a pass to take well over 100 ms. */
const LOOP_LINES: Record<Workload, number> = { wordCount: 500_000, grep: 2_000_000 };
/** Loop passes before a workload's Sluice runs, and again after them. */
const LOOP_REPEATS = 4;
const EMPTY_BATCHES = 200;
const EMPTY_REPEATS = 3;
/** Enough batches that start-up (loading TypeScript in every thread) is a small part of the profile. */
const PROFILE_BATCHES = 8;

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function main(): Promise<void> {
  const started = new Date();
  const startedMs = performance.now();
  const cores = availableParallelism();
  // One worker thread per core, and one input partition per worker so every thread gets a task.
  const placement: Placement = { workers: cores, partitions: cores };
  const loadBefore = loadavg();
  log(`Sluice bench: ${cores} cores, ${placement.workers} worker threads, Node ${process.version}`);

  log('Generator speed (lines made in one thread, as the driver makes every batch)');
  const generation: number[] = [];
  for (let r = 0; r < 3; r++) generation.push((await generateLines(1_000_000)).recordsPerSec);

  const workloads: WorkloadResult[] = [];
  for (const workload of ['wordCount', 'grep'] as const) {
    log(`${workload}: hand-written loop`);
    const loopBefore = await timeLoop(workload, LOOP_LINES[workload], LOOP_REPEATS);
    log(`  ${Math.round(loopBefore.recordsPerSec)} lines/s on one core`);
    log(`${workload}: throughput estimate on the logical clock`);
    const estimate = await estimateThroughput(workload, placement, {}, log);
    log(`${workload}: searching the highest sustainable rate on the real clock`);
    // Centred on the end-to-end estimate: on the real clock the driver makes and stores each input block
    // before the batch's jobs start, so processing time alone overstates what a stream can take in.
    const search = await findSustainableRate(workload, placement, estimate.endToEndRecordsPerSec, {}, log);
    log(`${workload}: hand-written loop again`);
    const loopAfter = await timeLoop(workload, LOOP_LINES[workload], LOOP_REPEATS);
    log(`  ${Math.round(loopAfter.recordsPerSec)} lines/s on one core`);
    workloads.push({ workload, loop: mergeLoopTimings([loopBefore, loopAfter]), estimate, search });
  }

  log(
    `Scheduling overhead: ${EMPTY_BATCHES} empty batches × ${EMPTY_REPEATS}, worker threads and in-process`,
  );
  const emptyBatches = [
    await timeEmptyBatches(placement.workers, EMPTY_BATCHES, EMPTY_REPEATS),
    await timeEmptyBatches(0, EMPTY_BATCHES, EMPTY_REPEATS),
  ];

  log('Memory over 2,000 batches of a windowed, stateful job (the soak job), in a child process');
  const memory = await measureMemoryOverBatches();

  log('CPU profile of WordCount on the logical clock');
  const wordCountEstimate = workloads.find((w) => w.workload === 'wordCount')!.estimate;
  const profileRatePerSec = wordCountEstimate.ratePerSec;
  let profile: BenchResults['profile'];
  try {
    profile = {
      ratePerSec: profileRatePerSec,
      batches: PROFILE_BATCHES,
      summary: await profileRun([
        jobName('wordCount', profileRatePerSec, placement.partitions),
        String(placement.workers),
        String(PROFILE_BATCHES),
      ]),
    };
  } catch (error) {
    profile = { error: error instanceof Error ? error.message : String(error) };
  }

  const results: BenchResults = {
    started,
    durationMs: performance.now() - startedMs,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores,
    nodeVersion: process.version,
    loadBefore,
    loadAfter: loadavg(),
    placement,
    generationPerSec: median(generation),
    workloads,
    emptyBatches,
    memory,
    profile,
  };
  await writeSection(RUN_SECTION, renderResults(results));
  log(`Wrote ${RESULTS_PATH} in ${Math.round(results.durationMs / 1000)} s`);
}

await main();
