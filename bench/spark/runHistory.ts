import { appendFile, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { percentile } from '../stats';
import type { EngineName } from './EngineProcess';
import type { SessionResult } from './runSession';
import type { Workload } from './sluiceJobs';

/**
 * Every run's headline figures, one JSON line per run, next to Maven's output: ignored by git, because the
 * figures belong to this machine. SPARK.md shows the last few runs side by side, so run-to-run noise (a busy
 * machine, a noisy neighbour) is visible next to the differences it could be mistaken for.
 */
export const HISTORY_PATH = fileURLToPath(new URL('./target/spark-bench-history.jsonl', import.meta.url));

/** One session's headline figures. */
export interface SessionSummary {
  readonly engine: EngineName;
  readonly workload: Workload;
  readonly intervalMs: number;
  readonly sustainableRate: number | undefined;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
}

/** One run's headline figures. */
export interface RunSummary {
  /** When the run started, ISO 8601. */
  readonly started: string;
  /** The median 1-minute load average during the run, when it was sampled. */
  readonly medianLoad: number | undefined;
  /**
   * Which stability rule judged the stages; missing in the first recorded runs, which required every
   * processing time of a stage's second half (not the median) to fit the budget and searched at most 4
   * stages at 0.5 s.
   */
  readonly rule?: string;
  readonly sessions: readonly SessionSummary[];
}

/** The stability rule of this version of the benchmark, recorded with every run. */
export const STABILITY_RULE = 'median processing < budget';

/** The headline figures of a run. */
export function summarizeRun(
  started: Date,
  loadDuring: readonly number[],
  sessions: readonly SessionResult[],
): RunSummary {
  return {
    started: started.toISOString(),
    medianLoad: loadDuring.length > 0 ? percentile(loadDuring, 50) : undefined,
    rule: STABILITY_RULE,
    sessions: sessions.map((s) => ({
      engine: s.engine,
      workload: s.workload,
      intervalMs: s.intervalMs,
      sustainableRate: s.sustainableRate,
      p50Ms: s.latency?.p50Ms,
      p99Ms: s.latency?.p99Ms,
    })),
  };
}

/** The runs recorded so far, oldest first; none when there is no history yet. */
export async function readHistory(): Promise<RunSummary[]> {
  let text: string;
  try {
    text = await readFile(HISTORY_PATH, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as RunSummary];
      } catch {
        return []; // a line cut short by an interrupted run
      }
    });
}

/** Records a run. */
export async function appendHistory(run: RunSummary): Promise<void> {
  await appendFile(HISTORY_PATH, `${JSON.stringify(run)}\n`);
}
