// The Completed Batches table of the streaming page (Spark's, sortable by any column and paged): a plain function of
// the summary and the reader's view of it, so that the unit tests render it without a browser
// (completedBatches.d.ts gives its types to the tests).
import {
  batchLabel,
  batchTimeLabel,
  escapeHtml as esc,
  msLabel as ms,
  htmlRow as row,
} from './pageFormat.js';

/** Completed batches a page of the table shows. */
export const PAGE_SIZE = 100;

/** How the table opens: newest first, as Spark's. */
export const DEFAULT_VIEW = { page: 0, sortBy: 'batchTime', descending: true };

/** Output operations of a batch that succeeded, and all of them (a batch of older metrics counts its jobs). */
function outputOps(b) {
  const total = b.outputOpsTotal ?? b.jobs;
  return { ok: total - (b.outputOpsFailed ?? (b.error ? 1 : 0)), total };
}

/**
 * The table's columns: each one's head, the value it sorts by, and its cell. A first click on a head sorts the
 * largest (or failed, or latest) first, since that is what one looks for in a thousand batches; a second reverses.
 */
const COLUMNS = [
  {
    key: 'batchTime',
    // Dated batches only on the wall clock, and in metrics that carry the date.
    head: (s) =>
      s.wallClock && s.batches.some((b) => b.dueAtMs !== undefined) ? 'Batch Time (UTC)' : 'Batch Time',
    value: (b) => b.batchTime,
  },
  { key: 'records', head: () => 'Records', value: (b) => b.records },
  { key: 'schedulingDelay', head: () => 'Scheduling Delay', value: (b) => b.schedulingDelayMs },
  { key: 'processingTime', head: () => 'Processing Time', value: (b) => b.processingTimeMs },
  { key: 'totalDelay', head: () => 'Total Delay', value: (b) => b.totalDelayMs },
  { key: 'outputOps', head: () => 'Output Ops: Succeeded/Total', value: (b) => outputOps(b).ok },
  { key: 'status', head: () => 'Status', value: (b) => (b.error ? 1 : 0) },
  { key: 'slowestStage', head: () => 'Slowest Stage', value: (b) => b.slowestStage?.durationMs ?? -1 },
  { key: 'cost', head: () => 'Cost', value: (b) => b.cost?.dollars ?? -1, onlyWithCost: true },
  { key: 'error', head: () => 'Error', value: (b) => b.error?.split('\n')[0] ?? '' },
];

/**
 * The retained completed batches in the view's order; batches of equal value newest first, so that the order is the
 * same on every poll.
 */
export function sortedBatches(batches, sortBy, descending) {
  const column = COLUMNS.find((c) => c.key === sortBy) ?? COLUMNS[0];
  const sign = descending ? -1 : 1;
  return [...batches].sort((a, b) => {
    const x = column.value(a);
    const y = column.value(b);
    const order = typeof x === 'string' ? x.localeCompare(y) : x - y;
    return order !== 0 ? sign * order : b.batchTime - a.batchTime;
  });
}

/**
 * The view after a click on the head of column `key`: that column, largest first, from the first page; a second
 * click on the same column reverses it.
 */
export function sortedBy(view, key) {
  return { page: 0, sortBy: key, descending: view.sortBy === key ? !view.descending : true };
}

/**
 * The table of completed batches as `view` (`{ page, sortBy, descending }`) has it: its title, its pager and the
 * table's HTML, and the page it shows (the view's, within the pages there are).
 */
export function completedBatchesTable(summary, view = DEFAULT_VIEW) {
  const batches = sortedBatches(summary.batches, view.sortBy, view.descending);
  const pages = Math.max(1, Math.ceil(batches.length / PAGE_SIZE));
  const page = Math.min(Math.max(0, view.page), pages - 1);
  const hasCost = batches.some((b) => b.cost);
  const columns = COLUMNS.filter((c) => hasCost || !c.onlyWithCost);
  // On the wall clock a batch is named by its date, as in Spark, its stream time (the API's and the logs' number) in
  // its title; on the logical clock by its stream time only.
  const named = (b) =>
    `<span title="${batchTimeLabel(b.batchTime, summary.batchIntervalMs)} of stream time">${batchLabel(b.batchTime, summary.wallClock ? b.dueAtMs : undefined, summary.batchIntervalMs)}</span>`;
  const heads = columns.map((c) => {
    const sorted = c.key === view.sortBy ? (view.descending ? 'descending' : 'ascending') : 'none';
    return `<th class="sortable" data-sort="${c.key}" aria-sort="${sorted}" title="Sort by this column">${esc(c.head(summary))}</th>`;
  });
  const rows = batches.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE).map((b) => {
    const { ok, total } = outputOps(b);
    const cells = {
      batchTime: `<a href="#/batch/${b.batchTime}">${named(b)}</a>`,
      records: b.records,
      schedulingDelay: ms(b.schedulingDelayMs),
      processingTime: ms(b.processingTimeMs),
      totalDelay: ms(b.totalDelayMs),
      outputOps: `${ok}/${total}`,
      status: b.error ? 'failed' : 'succeeded',
      slowestStage: b.slowestStage
        ? `${b.slowestStage.stageId}: ${esc(b.slowestStage.description)} (${ms(b.slowestStage.durationMs)})`
        : '-',
      cost: b.cost ? `$${b.cost.dollars.toFixed(6)}` : '-',
      error: b.error ? `<span class="failed">${esc(b.error.split('\n')[0])}</span>` : '-',
    };
    return row(columns.map((c) => cells[c.key]));
  });
  return {
    title: `Completed Batches (last ${batches.length} out of ${summary.completedBatches})`,
    pager:
      pages > 1
        ? `Page: ${Array.from({ length: pages }, (_, i) => `<button data-page="${i}"${i === page ? ' disabled' : ''}>${i + 1}</button>`).join('')}`
        : '',
    html: `<table><tr>${heads.join('')}</tr>${rows.join('')}</table>`,
    page,
  };
}
