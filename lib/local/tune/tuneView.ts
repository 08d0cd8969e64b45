import { readFile } from 'node:fs/promises';
import type { TuneReport } from './tuneCommand';
import { tuneCells } from './tuneTable';

/** One real-clock trial as the tune page draws it: its total delay, batch by batch. */
export interface TrialCurve {
  /** `8000/s stable` */
  readonly label: string;
  readonly stable: boolean;
  /** Batch times in s, and each batch's total delay in ms. */
  readonly batchTimesS: readonly number[];
  readonly totalDelaysMs: readonly number[];
}

/** What the Streaming UI's tune page shows of a `sluice tune --out` file: small, with the CLI's own words. */
export interface TuneView {
  readonly job: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly cores: number;
  /** The recommendation, in the words the CLI printed. */
  readonly recommendation: string;
  /** The stability rule each trial was judged by. */
  readonly rule: string;
  /** The CLI's table: the header, then one row per configuration. */
  readonly table: readonly (readonly string[])[];
  /** Per configuration, in the table's order: whether it is the one recommended, and its trials' curves. */
  readonly configs: readonly {
    readonly title: string;
    readonly intervalMs: number;
    readonly recommended: boolean;
    readonly trials: readonly TrialCurve[];
  }[];
}

/** The page's view of a search: the table's cells and the trials' total delays, not every batch's tasks. */
export function tuneView(report: TuneReport): TuneView {
  const chosen = report.recommendation;
  return {
    job: report.job,
    startedAt: report.startedAt,
    durationMs: report.durationMs,
    cores: report.cores,
    recommendation: chosen.text,
    rule: report.rule.text,
    table: tuneCells(report.results),
    configs: report.results.map((r) => ({
      title: `${r.intervalMs / 1000} s, ${r.partitions} partitions`,
      intervalMs: r.intervalMs,
      recommended: r.intervalMs === chosen.intervalMs && r.partitions === chosen.partitions,
      trials: r.trials
        .filter((t) => t.clock === 'system')
        .map((t) => ({
          label: `${t.ratePerSec}/s ${t.stable ? 'stable' : 'unstable'}`,
          stable: t.stable === true,
          batchTimesS: t.batches.map((b) => b.batchTime / 1000),
          totalDelaysMs: t.batches.map((b) => b.totalDelayMs),
        })),
    })),
  };
}

/** Reads a `sluice tune --out` file, or says why it is not one. */
export async function readTuneView(path: string): Promise<TuneView> {
  const text = await readFile(path, 'utf8').catch(() => {
    throw new Error(`cannot read the tune file ${path}`);
  });
  let report: Partial<TuneReport>;
  try {
    report = JSON.parse(text) as Partial<TuneReport>;
  } catch (error) {
    throw new Error(`${path} is not JSON: ${(error as Error).message}`);
  }
  if (report?.kind !== 'sluice-tune' || report.version !== 1) {
    throw new Error(
      `${path} is not a sluice tune file (kind: "sluice-tune", version: 1): write one with sluice tune --out`,
    );
  }
  try {
    return tuneView(report as TuneReport);
  } catch (error) {
    // A file cut short or edited by hand: say so, rather than the TypeError of the field that is missing.
    throw new Error(
      `${path} is a sluice tune file, but not a whole one (${(error as Error).message}): write it again with sluice tune --out`,
    );
  }
}
