// The types of batchTables.js, for the unit tests that render the Active and Completed Batches tables without a
// browser.
import type { BatchRow, StreamingSummary } from '../StreamingUiState';

/** Which page of a table, sorted by which column (`batchTime`, `records`, `totalDelay`, `status`, …), which way. */
export interface BatchesView {
  readonly page: number;
  readonly sortBy: string;
  readonly descending: boolean;
}
/** A table as its view has it: its title, pager and HTML, and the page it shows. */
export interface BatchesTable {
  readonly title: string;
  readonly pager: string;
  readonly html: string;
  readonly page: number;
}
/** Batches a page of a table shows. */
export const PAGE_SIZE: number;
/** How a table opens: newest first. */
export const DEFAULT_VIEW: BatchesView;
/** Completed batches in the view's order, those of equal value newest first. */
export function sortedBatches(batches: readonly BatchRow[], sortBy: string, descending: boolean): BatchRow[];
/** The view after a click on a column's head: that column largest first, or reversed when it was sorted by it. */
export function sortedBy(view: BatchesView, key: string): BatchesView;
/** The Completed Batches table as the view has it. */
export function completedBatchesTable(
  summary: Pick<StreamingSummary, 'batches' | 'completedBatches' | 'batchIntervalMs' | 'wallClock'>,
  view?: BatchesView,
): BatchesTable;
/** The Active Batches table as the view has it, sorted and paged as the completed one is. */
export function activeBatchesTable(
  summary: Pick<StreamingSummary, 'active' | 'batchIntervalMs' | 'wallClock'>,
  view?: BatchesView,
): BatchesTable;
