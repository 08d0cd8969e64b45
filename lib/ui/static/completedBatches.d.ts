// The types of completedBatches.js, for the unit tests that render the Completed Batches table without a browser.
import type { BatchRow, StreamingSummary } from '../StreamingUiState';

/** Which page of the table, sorted by which column (`batchTime`, `records`, `totalDelay`, `status`, …), which way. */
export interface CompletedBatchesView {
  readonly page: number;
  readonly sortBy: string;
  readonly descending: boolean;
}
/** Completed batches a page of the table shows. */
export const PAGE_SIZE: number;
/** How the table opens: newest first. */
export const DEFAULT_VIEW: CompletedBatchesView;
/** The batches in the view's order, those of equal value newest first. */
export function sortedBatches(batches: readonly BatchRow[], sortBy: string, descending: boolean): BatchRow[];
/** The view after a click on a column's head: that column largest first, or reversed when it was sorted by it. */
export function sortedBy(view: CompletedBatchesView, key: string): CompletedBatchesView;
/** The table's title, pager and HTML as the view has it, and the page it shows. */
export function completedBatchesTable(
  summary: Pick<StreamingSummary, 'batches' | 'completedBatches' | 'batchIntervalMs' | 'wallClock'>,
  view?: CompletedBatchesView,
): { title: string; pager: string; html: string; page: number };
