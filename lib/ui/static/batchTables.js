// The streaming page's two tables of batches, Active Batches and Completed Batches (Spark's, each sortable by any
// column and paged): plain functions of the summary and the reader's view of a table, so that the unit tests render
// them without a browser (batchTables.d.ts gives their types to the tests). Both are made by one `batchesTable`, as
// Spark makes its running, waiting and completed tables with one `StreamingPagedTable`: the columns they share are
// the same objects, and a table differs only by its list of columns.
import {
  batchLabel,
  batchTimeLabel,
  countLabel as count,
  escapeHtml as esc,
  msLabel as ms,
  htmlRow as row,
} from './pageFormat.js';

/** Batches a page of a table shows. */
export const PAGE_SIZE = 100;

/** How a table opens: newest first, as Spark's. */
export const DEFAULT_VIEW = { page: 0, sortBy: 'batchTime', descending: true };

/**
 * A batch's output operations: those that succeeded, those that failed, and all of them. An active batch counts
 * them as they finish; a completed one by its failed ones (a batch of older metrics counts its jobs, and an error).
 */
function outputOps(b) {
  if (b.outputOpsSucceeded !== undefined) {
    return { ok: b.outputOpsSucceeded, failed: b.outputOpsFailed, total: b.outputOpsTotal };
  }
  const total = b.outputOpsTotal ?? b.jobs;
  const failed = b.outputOpsFailed ?? (b.error ? 1 : 0);
  return { ok: total - failed, failed, total };
}

/**
 * A table's columns: each one's key, head, the value it sorts by, and its cell. A first click on a head sorts the
 * largest (or failed, or latest) first, since that is what one looks for in a thousand batches; a second reverses.
 * `table` is what the cells need of the whole table: the summary, and whether a batch has a page to link to.
 */
const BATCH_TIME = {
  key: 'batchTime',
  // Dated batches only on the wall clock, and in metrics that carry the date.
  head: (summary, batches) =>
    summary.wallClock && batches.some((b) => b.dueAtMs !== undefined) ? 'Batch Time (UTC)' : 'Batch Time',
  value: (b) => b.batchTime,
  // On the wall clock a batch is named by its date, as in Spark, its stream time (the API's and the logs' number) in
  // its title; on the logical clock by its stream time only. A completed batch links to its page.
  cell: (b, table) => {
    const { batchIntervalMs, wallClock } = table.summary;
    const named = `<span title="${batchTimeLabel(b.batchTime, batchIntervalMs)} of stream time">${batchLabel(b.batchTime, wallClock ? b.dueAtMs : undefined, batchIntervalMs)}</span>`;
    return table.linked ? `<a href="#/batch/${b.batchTime}">${named}</a>` : named;
  },
};
const RECORDS = { key: 'records', head: () => 'Records', value: (b) => b.records, cell: (b) => b.records };
const SCHEDULING_DELAY = {
  key: 'schedulingDelay',
  head: () => 'Scheduling Delay',
  value: (b) => b.schedulingDelayMs,
  cell: (b) => ms(b.schedulingDelayMs),
};
const PROCESSING_TIME = {
  key: 'processingTime',
  head: () => 'Processing Time',
  // A queued batch has none yet: it sorts below every running one.
  value: (b) => b.processingTimeMs ?? -1,
  cell: (b) => ms(b.processingTimeMs),
};
const OUTPUT_OPS = {
  key: 'outputOps',
  head: () => 'Output Ops: Succeeded/Total',
  value: (b) => outputOps(b).ok,
  cell: (b) => {
    const { ok, total } = outputOps(b);
    return `${ok}/${total}`;
  },
};

/** Active Batches: a running batch's ops so far, with its failed ones, and whether it waits or runs. */
const ACTIVE_COLUMNS = [
  BATCH_TIME,
  RECORDS,
  SCHEDULING_DELAY,
  PROCESSING_TIME,
  {
    ...OUTPUT_OPS,
    cell: (b) => `${OUTPUT_OPS.cell(b)}${b.outputOpsFailed ? ` (${b.outputOpsFailed} failed)` : ''}`,
  },
  {
    key: 'status',
    head: () => 'Status',
    value: (b) => (b.status === 'processing' ? 1 : 0),
    cell: (b) => b.status,
  },
];

/** Completed Batches: beyond the active ones', the total delay, the slowest stage, the cost and the error. */
const COMPLETED_COLUMNS = [
  BATCH_TIME,
  RECORDS,
  SCHEDULING_DELAY,
  PROCESSING_TIME,
  {
    key: 'totalDelay',
    head: () => 'Total Delay',
    value: (b) => b.totalDelayMs,
    cell: (b) => ms(b.totalDelayMs),
  },
  OUTPUT_OPS,
  {
    key: 'status',
    head: () => 'Status',
    value: (b) => (b.error ? 1 : 0),
    cell: (b) => (b.error ? 'failed' : 'succeeded'),
  },
  {
    key: 'slowestStage',
    head: () => 'Slowest Stage',
    value: (b) => b.slowestStage?.durationMs ?? -1,
    cell: (b) =>
      b.slowestStage
        ? `${b.slowestStage.stageId}: ${esc(b.slowestStage.description)} (${ms(b.slowestStage.durationMs)})`
        : '-',
  },
  {
    key: 'cost',
    head: () => 'Cost',
    value: (b) => b.cost?.dollars ?? -1,
    cell: (b) => (b.cost ? `$${b.cost.dollars.toFixed(6)}` : '-'),
    // On AWS, when the coordinator reported it.
    shownFor: (batches) => batches.some((b) => b.cost),
  },
  {
    key: 'error',
    head: () => 'Error',
    value: (b) => b.error?.split('\n')[0] ?? '',
    cell: (b) => (b.error ? `<span class="failed">${esc(b.error.split('\n')[0])}</span>` : '-'),
    // As Spark's, only when a batch failed: a column of dashes says nothing.
    shownFor: (batches) => batches.some((b) => b.error),
  },
];

/**
 * `batches` in the view's order by the column `sortBy` of `columns` (the first when there is no such column);
 * batches of equal value newest first, so that the order is the same on every poll.
 */
export function sortedBatches(batches, sortBy, descending, columns = COMPLETED_COLUMNS) {
  const column = columns.find((c) => c.key === sortBy) ?? columns[0];
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
 * A table of `batches` as `view` (`{ page, sortBy, descending }`) has it: its pager and the table's HTML, and the
 * page it shows (the view's, within the pages there are). Its pager's buttons and its heads name `tableId`, so that
 * a click is told to the table it was on. No table when there is no batch, as Spark hides an empty one: the title
 * says there are none.
 */
function batchesTable(tableId, columns, batches, view, table) {
  if (batches.length === 0) return { pager: '', html: '', page: 0 };
  const sorted = sortedBatches(batches, view.sortBy, view.descending, columns);
  const pages = Math.max(1, Math.ceil(sorted.length / PAGE_SIZE));
  const page = Math.min(Math.max(0, view.page), pages - 1);
  const shown = columns.filter((c) => c.shownFor?.(batches) ?? true);
  const heads = shown.map((c) => {
    const order = c.key === view.sortBy ? (view.descending ? 'descending' : 'ascending') : 'none';
    return `<th class="sortable" data-table="${tableId}" data-sort="${c.key}" aria-sort="${order}" title="Sort by this column">${esc(c.head(table.summary, batches))}</th>`;
  });
  const rows = sorted
    .slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE)
    .map((b) => row(shown.map((c) => c.cell(b, table))));
  return {
    pager:
      pages > 1
        ? `Page: ${Array.from({ length: pages }, (_, i) => `<button data-table="${tableId}" data-page="${i}"${i === page ? ' disabled' : ''}>${i + 1}</button>`).join('')}`
        : '',
    html: `<table><tr>${heads.join('')}</tr>${rows.join('')}</table>`,
    page,
  };
}

/**
 * The Completed Batches table as `view` has it: its title, its pager and the table's HTML, and the page it shows.
 */
export function completedBatchesTable(summary, view = DEFAULT_VIEW) {
  const table = batchesTable('completed', COMPLETED_COLUMNS, summary.batches, view, {
    summary,
    linked: true,
  });
  return {
    title: `Completed Batches (last ${count(summary.batches.length)} out of ${count(summary.completedBatches)})`,
    ...table,
  };
}

/**
 * The Active Batches table as `view` has it (sorted and paged as the completed one is): its title, its pager and
 * the table's HTML, and the page it shows. An active batch has no page yet: its time is not a link.
 */
export function activeBatchesTable(summary, view = DEFAULT_VIEW) {
  const table = batchesTable('active', ACTIVE_COLUMNS, summary.active, view, { summary, linked: false });
  return { title: `Active Batches (${count(summary.active.length)})`, ...table };
}
