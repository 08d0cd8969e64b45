// The type of batchPage.js, for the unit tests that render a batch's page without a browser.
import type { BatchDetail } from '../StreamingUiState';

/** The HTML of a batch's page, from `/api/batch/<batch time>`. */
export function batchPageHtml(detail: BatchDetail): string;
