// The type of batchPage.js, for the unit tests that render a batch's page without a browser.
import type { OutputOpInfo } from '../../scheduler/StreamingListener';
import type { BatchDetail } from '../StreamingUiState';

/** The HTML of a batch's page, from `/api/batch/<batch time>`. */
export function batchPageHtml(detail: BatchDetail): string;
/** Spark's table of a batch's output operations, a row per operation spanning the rows of its jobs. */
export function outputOpsTable(ops: readonly OutputOpInfo[]): string;
