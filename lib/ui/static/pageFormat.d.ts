// The types of pageFormat.js, the page's plain functions, for the unit tests that import it.
import type { DeadLetter } from '../../dataset/TaskContext';
import type { BatchInfo } from '../../scheduler/StreamingListener';
import type { SourceStatus } from '../../source/SourceStatus';
import type { InputStreamName, StreamingSummary } from '../StreamingUiState';

/** A dead letter's record for the batch page, cut to 300 characters; a letter may have none. */
export function deadLetterRecord(letter: Pick<DeadLetter, 'record'>): string;
/** The sentence a batch page shows when its batch could not be shown. */
export function batchPageError(batchTime: string, error: { status?: number; message: string }): string;
/** An error of the JSON API: the HTTP status and the API's sentence (`{ error }`). */
export class ApiError extends Error {
  constructor(status: number, message: string);
  readonly status: number;
}
/** A histogram: each bin's left edge with its count, then the last bin's right edge with null. */
export function histogram(
  values: readonly number[],
  bins: number,
  atLeast?: number,
): { edges: number[]; counts: (number | null)[] };
/** A batch time in seconds with as many decimals as the batch interval needs. */
export function batchTimeLabel(batchTimeMs: number, batchIntervalMs: number): string;
/** A batch's date as Spark writes a batch time, in UTC, with milliseconds when the interval is under a second. */
export function batchDateLabel(dueAtMs: number, batchIntervalMs: number): string;
/** A batch by its date when it has one (`dueAtMs`), else by its stream time. */
export function batchLabel(batchTimeMs: number, dueAtMs: number | undefined, batchIntervalMs: number): string;
/** A count or a rate grouped by thousands, as Spark writes them: `1,234,567`, `1,234.50` with 2 decimals. */
export function countLabel(n: number, decimals?: number): string;
/** A statistic's average over the retained batches, `Avg: -` with none. */
export function averageLabel(values: readonly number[], unit: string): string;
/** The banner of a run that has ended, or undefined while it runs. */
export function runEndBanner(summary: Pick<StreamingSummary, 'ended'>): string | undefined;
/** The warning about the job's metrics that could not be read (on AWS), or undefined when all were. */
export function unreadableNote(summary: Pick<StreamingSummary, 'unreadable'>): string | undefined;
/** What the page says when a poll failed: the server's sentence when it answered, else that it is gone. */
export function pollErrorLine(error: { status?: number; message: string }): string;
/** How often the page polls, in ms: every second while the run is live, seldom once it has ended. */
export function pollDelayMs(summary: Pick<StreamingSummary, 'ended'> | undefined): number;
/** A duration as the header writes it: `5 seconds`, `2 minutes 5 seconds`, `3 hours 4 minutes`. */
export function durationLabel(ms: number): string;
/** The line under Active Batches: a run that ended left them, or on AWS how old they are; undefined for none. */
export function activeBatchesNote(
  summary: Pick<StreamingSummary, 'ended' | 'readOnly' | 'active' | 'activeAsOfMs'>,
  nowMs: number,
): string | undefined;
/** Batches in a row of growing total delay from which a job is not stable. */
export const UNSTABLE_AFTER: number;
/** The stability line above the charts; `stable` undefined when no batch has completed to judge. */
export function stabilityLine(summary: Pick<StreamingSummary, 'delayGrowingFor' | 'active' | 'batches'>): {
  stable: boolean | undefined;
  text: string;
};
/** The unit of the delay charts, Spark's (ms, sec, min, hrs), and how many ms make one. */
export function delayUnit(maxMs: number): { unit: string; msPerUnit: number };
/** One of the Statistics' charts: its values by batch in its unit, the top of its y range, the interval line. */
export interface StatisticsChart {
  /** The four charts', or `inputRate-<stream id>` for an input stream's rate. */
  name: 'inputRate' | 'schedulingDelay' | 'processingTime' | 'totalDelay' | `inputRate-${string}`;
  label: string;
  unit: string;
  values: number[];
  yMax: number;
  intervalLine?: number;
  /** For an input stream's rate: the stream's id. */
  inputStream?: string;
}
/**
 * The Statistics' charts: the input rate, each input stream's when there are several (on the total's range), and
 * the delays, which share one unit and one y range, at least the batch interval.
 */
export function statisticsCharts(
  summary: Pick<StreamingSummary, 'batches' | 'batchIntervalMs'> &
    Partial<Pick<StreamingSummary, 'inputStreams'>>,
): StatisticsChart[];
/** When the run started, written as a batch time is, in UTC: `2026/11/29 00:56:05 UTC`. */
export function startedAtLabel(startedAtMs: number): string;
/** The Statistics' heading: how many completed batches the charts cover, of how many, and how many are active. */
export function statisticsTitle(
  summary: Pick<StreamingSummary, 'batches' | 'completedBatches' | 'active'>,
): string;
/**
 * The batch page's input streams: each one's name, records, and what the batch took, then `… and K more`; the status
 * cells when one of them has a state or an error.
 */
export function inputStreamRows(
  info: Pick<BatchInfo, 'inputs' | 'inputRecords'>,
): ({ name: string; records: number; took: string[] } & Partial<InputStreamStatusCells>)[];
/** A stream's state and latest error as the tables show them: empty strings where it has none. */
export interface InputStreamStatusCells {
  state: string;
  /** `2026/11/30 18:40:07 UTC`. */
  lastErrorTime: string;
  lastError: string;
}
/** The input streams' table (Spark's receivers'): a row per stream, none when no stream has a state or an error. */
export function inputStreamStatusRows(
  streams: readonly InputStreamName[],
): ({ name: string } & InputStreamStatusCells)[];
/** `Receivers: 1 / 2 active`: the streams with a connection, and those connected; undefined when none has one. */
export function receiversLabel(streams: readonly SourceStatus[]): string | undefined;
/** True when one of `streams` has a state or has had an error. */
export function hasStatus(streams: readonly SourceStatus[]): boolean;
/** Text made safe to put in HTML. */
export function escapeHtml(value: unknown): string;
/** A duration in the tables: `250 ms`, `1.5 s`, `20.0 min`, `1.5 h`; `-` when undefined. */
export function msLabel(ms: number | undefined): string;
/** A size in bytes: `512 B`, `1.5 KiB`, `2.0 MiB`. */
export function bytesLabel(n: number): string;
/** A table row of HTML cells; a string cell is text, a number cell a count (`countLabel`). */
export function htmlRow(cells: readonly unknown[], cls?: string): string;
/** A table of `heads` over `rows` (from `htmlRow`). */
export function htmlTable(heads: readonly string[], rows: readonly string[]): string;
