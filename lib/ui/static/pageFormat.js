// What the Streaming UI page writes, apart from the page itself: plain functions, so that the unit tests can
// import them without a browser (pageFormat.d.ts gives their types to the tests).

/** A dead letter's record for the batch page, cut to 300 characters; a letter may have none. */
export function deadLetterRecord(letter) {
  // A letter read back from JSON lacks `record` when the record was undefined: JSON.stringify gives no text.
  if (letter.record === undefined) return '(no record)';
  return JSON.stringify(letter.record).slice(0, 300);
}

/** The sentence a batch page shows when its batch could not be shown: the API's own for a 404, else what failed. */
export function batchPageError(batchTime, error) {
  if (error.status === 404) return `${error.message[0]?.toUpperCase()}${error.message.slice(1)}.`;
  return error.status === undefined
    ? `The page of batch ${batchTime} could not be drawn: ${error.message}`
    : `The UI could not read batch ${batchTime} (${error.status}): ${error.message}`;
}

/** An error of the JSON API: the HTTP status and the API's sentence (`{ error }`). */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * A histogram of `values` in `bins` bins from 0 to the largest value (at least `atLeast`, and at least 1): each
 * bin's left edge with its count, then the right edge of the last bin with no count. uPlot draws a bar from its
 * left edge (align 1) and scales x to the data: without the closing edge, the last bin, where the largest value
 * and a constant input fall, would start at the scale's end and be drawn outside the chart.
 */
export function histogram(values, bins, atLeast = 0) {
  const max = Math.max(1, atLeast, ...values);
  const counts = new Array(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v / max) * bins))]++;
  return {
    edges: Array.from({ length: bins + 1 }, (_, i) => (i * max) / bins),
    counts: [...counts, null],
  };
}

/**
 * A batch time in seconds with as many decimals as the batch interval needs (at least those of the time itself):
 * at 50 ms, 1.05 s and 1.10 s, not 1.1 s twice; at 1 s, 7 s.
 */
export function batchTimeLabel(batchTimeMs, batchIntervalMs) {
  const decimals = (ms) => (ms % 1000 === 0 ? 0 : ms % 100 === 0 ? 1 : ms % 10 === 0 ? 2 : 3);
  return `${(batchTimeMs / 1000).toFixed(Math.max(decimals(batchIntervalMs), decimals(batchTimeMs)))} s`;
}

/**
 * A batch's date as Spark writes a batch time, in UTC: `2026/11/30 18:40:05`, with milliseconds when the batch
 * interval is under a second (`18:40:05.050`), where whole seconds would not tell batches apart.
 */
export function batchDateLabel(dueAtMs, batchIntervalMs) {
  const iso = new Date(dueAtMs).toISOString();
  return `${iso.slice(0, 10).replaceAll('-', '/')} ${iso.slice(11, batchIntervalMs < 1000 ? 23 : 19)}`;
}

/**
 * How the page names a batch: by its date (`batchDateLabel`) when it fell due on the wall clock (`dueAtMs`, given
 * only then), else by its stream time (`batchTimeLabel`), all a batch on the logical clock has.
 */
export function batchLabel(batchTimeMs, dueAtMs, batchIntervalMs) {
  return dueAtMs === undefined
    ? batchTimeLabel(batchTimeMs, batchIntervalMs)
    : batchDateLabel(dueAtMs, batchIntervalMs);
}

/**
 * A count (records, events, batches, tasks) or a rate, grouped by thousands as Spark writes them: `1,234,567`,
 * `1,234.50` with `decimals`. The one way the pages write a count; in English on every machine, so that the page
 * reads the same wherever it is opened.
 */
export function countLabel(n, decimals = 0) {
  return n.toLocaleString('en', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** A statistic's average over the retained batches; a run with no batch yet has none, not 0. */
export function averageLabel(values, unit) {
  if (values.length === 0) return 'Avg: -';
  const avg = values.reduce((a, v) => a + v, 0) / values.length;
  return `Avg: ${countLabel(avg, unit === 'ms' ? 0 : 2)} ${unit}`;
}

/** The banner of a run that has ended (`summary.ended`), or undefined while it runs. */
export function runEndBanner(summary) {
  if (!summary.ended) return undefined;
  return summary.ended.error === undefined ? 'The run has ended.' : `The run failed: ${summary.ended.error}`;
}

/**
 * The warning above the header when some of the job's metrics could not be read (`summary.unreadable`, on AWS), or
 * undefined when all were: the page shows the rest, and says what it left out rather than a chart that looks whole.
 */
export function unreadableNote(summary) {
  const unreadable = summary.unreadable ?? [];
  if (unreadable.length === 0) return undefined;
  return `Some of the job's metrics could not be read and are left out: ${unreadable.join('; ')}.`;
}

/**
 * What the page says when a poll failed: the server's own sentence when it answered (it is up, but could not read
 * the metrics: the page goes on polling), else that the run's server is gone or cannot be reached.
 */
export function pollErrorLine(error) {
  return error.status === undefined
    ? `The run is gone or unreachable: ${error.message}`
    : `The UI could not read the job's metrics (${error.status}): ${error.message}`;
}

/** How often the page polls: every second while the run is live, then seldom, to notice the server stopping. */
export function pollDelayMs(summary) {
  return summary?.ended ? 10_000 : 1000;
}

/** A duration as the header writes it: `5 seconds`, `2 minutes 5 seconds`, `3 hours 4 minutes`. */
export function durationLabel(ms) {
  const s = Math.floor(ms / 1000);
  return s < 60
    ? `${s} seconds`
    : s < 3600
      ? `${Math.floor(s / 60)} minutes ${s % 60} seconds`
      : `${Math.floor(s / 3600)} hours ${Math.floor((s % 3600) / 60)} minutes`;
}

/**
 * The line under Active Batches, or undefined for none: a run that ended left them and they will never complete
 * (a page read later must not take them for a backlog still being worked on); on AWS, how old they are.
 */
export function activeBatchesNote(summary, nowMs) {
  if (summary.ended && summary.active.length > 0) {
    return 'The run ended before these batches completed: they never will, and their delays are as of its end.';
  }
  if (!summary.readOnly) return undefined;
  return summary.activeAsOfMs === undefined
    ? 'The coordinator has not written its active batches (it does so with its kept metrics).'
    : `As the coordinator wrote them ${durationLabel(Math.max(0, nowMs - summary.activeAsOfMs))} ago (it does every 5 seconds while batches complete).`;
}

/** Batches in a row of growing total delay from which a job is not stable: the CLI's and the alarm's rule. */
export const UNSTABLE_AFTER = 10;

/**
 * The stability line above the charts, `{ stable, text }`, or `stable` undefined when there is nothing to judge.
 * The delay trend counts completed batches only; a job whose batches take so long that none completes while they
 * pile up in the queue would read as stable, so as many queued batches as the trend's limit say the same.
 */
export function stabilityLine(summary) {
  const growing = summary.delayGrowingFor;
  const queued = summary.active.filter((a) => a.status === 'queued').length;
  if (growing >= UNSTABLE_AFTER) {
    return {
      stable: false,
      text: `Not stable: the total delay has grown ${countLabel(growing)} batches in a row; batches arrive faster than they are done.`,
    };
  }
  if (queued >= UNSTABLE_AFTER) {
    return {
      stable: false,
      text: `Not stable: ${countLabel(queued)} batches are queued for a job slot; batches arrive faster than they are done.`,
    };
  }
  if (summary.batches.length === 0) {
    return {
      stable: undefined,
      text: 'No batch has completed yet: stability is judged from the total delay of completed batches.',
    };
  }
  return {
    stable: true,
    text: `Stable: the total delay has grown ${growing} batch${growing === 1 ? '' : 'es'} in a row (not stable from ${UNSTABLE_AFTER}).`,
  };
}

/**
 * The unit of the delay charts, Spark's: ms below a second, then sec, min and hrs, so a delay of twenty minutes
 * reads 20 min, not 1200000.
 */
export function delayUnit(maxMs) {
  if (maxMs < 1000) return { unit: 'ms', msPerUnit: 1 };
  if (maxMs < 60_000) return { unit: 'sec', msPerUnit: 1000 };
  if (maxMs < 3_600_000) return { unit: 'min', msPerUnit: 60_000 };
  return { unit: 'hrs', msPerUnit: 3_600_000 };
}

/**
 * The Statistics' charts, each `{ name, label, unit, values, yMax, intervalLine?, inputStream? }`, values by batch
 * in the chart's unit: the input rate, each input stream's rate when there are several (`inputStream` its id), and
 * the three delays. As in Spark, the three delay charts share one unit and one y range from 0, so that a scheduling
 * delay of 5 ms does not fill its chart as a processing time of 5 s does; the range reaches the batch interval at
 * least, so the dashed interval line that tells a stable job (processing time below it) is always in view.
 */
export function statisticsCharts(summary) {
  const { batches, batchIntervalMs } = summary;
  const delayMaxMs = batches.reduce(
    (max, b) => Math.max(max, b.schedulingDelayMs, b.processingTimeMs, b.totalDelayMs),
    0,
  );
  const { unit, msPerUnit } = delayUnit(delayMaxMs);
  const delayChart = (name, label, ofBatch, withInterval) => ({
    name,
    label,
    unit,
    values: batches.map((b) => ofBatch(b) / msPerUnit),
    yMax: Math.max(delayMaxMs, batchIntervalMs) / msPerUnit,
    ...(withInterval ? { intervalLine: batchIntervalMs / msPerUnit } : {}),
  });
  const perSecond = batchIntervalMs / 1000;
  const rates = batches.map((b) => b.records / perSecond);
  const rateMax = rates.reduce((max, r) => Math.max(max, r), 1);
  // As Spark, each input stream's rate under the total, on the total's range so their heights compare; with one
  // stream the total is that stream's rate, and a second chart of it would only repeat it.
  const streams = summary.inputStreams ?? [];
  const streamRates =
    streams.length < 2
      ? []
      : streams.map(({ id, name }) => ({
          name: `inputRate-${id}`,
          label: name,
          unit: 'records/sec',
          values: batches.map((b) => (b.inputRecords?.[id] ?? 0) / perSecond),
          yMax: rateMax,
          inputStream: id,
        }));
  return [
    { name: 'inputRate', label: 'Input Rate', unit: 'records/sec', values: rates, yMax: rateMax },
    ...streamRates,
    delayChart('schedulingDelay', 'Scheduling Delay', (b) => b.schedulingDelayMs, false),
    delayChart('processingTime', 'Processing Time', (b) => b.processingTimeMs, true),
    delayChart('totalDelay', 'Total Delay', (b) => b.totalDelayMs, true),
  ];
}

/**
 * When the run started, for the header: in UTC and saying so, since the server's and the reader's zones differ; written
 * as a batch time is (Spark writes both one way), so the start and the first batch compare at a glance.
 */
export function startedAtLabel(startedAtMs) {
  return `${batchDateLabel(startedAtMs, 1000)} UTC`;
}

/**
 * The Statistics' heading: which batches the charts and averages cover (Spark's "Timelines (Last N batches, …)").
 * They cover the retained completed batches only; active ones have no total delay yet.
 */
export function statisticsTitle(summary) {
  const shown = summary.batches.length;
  return `Statistics (last ${countLabel(shown)} completed batch${shown === 1 ? '' : 'es'} of ${countLabel(summary.completedBatches)}; ${countLabel(summary.active.length)} active, not charted)`;
}

/**
 * The batch page's input streams, Spark's "Input Metadata": each stream's name, its records and what the batch
 * took from it (files and byte ranges, shards and sequence numbers, blocks, index ranges), the lines the metrics
 * kept then `… and K more`; none in metrics written before streams were named. When a stream has a state or has had
 * an error, every row has the status cells too (see `inputStreamStatusRows`).
 */
export function inputStreamRows(info) {
  const withStatus = hasStatus(Object.values(info.inputs ?? {}));
  return Object.entries(info.inputs ?? {}).map(([id, input]) => ({
    name: input.name,
    records: info.inputRecords?.[id] ?? 0,
    took: [
      ...(input.took ?? []),
      ...(input.tookNotShown ? [`… and ${countLabel(input.tookNotShown)} more`] : []),
    ],
    ...(withStatus ? inputStreamStatus(input) : {}),
  }));
}

/**
 * The input streams' table, Spark's receivers' table: each stream's state (a socket's `connected` or `retrying`) and
 * its latest error, its time in UTC written as a batch time is and a line of its class and text; empty cells where
 * there is nothing to say. No rows when no stream has a state or has had an error (a job of queues and generators),
 * so that the page says nothing of them.
 */
export function inputStreamStatusRows(streams) {
  if (!hasStatus(streams)) return [];
  return streams.map((stream) => ({ name: stream.name, ...inputStreamStatus(stream) }));
}

/**
 * The receivers line under the Input Rate's average, as Spark's Statistics have it (`Receivers: 1 / 2 active`): of
 * the streams that receive over a connection (a socket, the streams with a state), those connected now; a stream
 * retrying a refused or lost connection is not, as Spark's receiver is inactive while it restarts. Undefined when no
 * stream receives (queues, folders, generators, Kinesis), as Spark's line is absent without receivers.
 */
export function receiversLabel(streams) {
  const receivers = streams.filter((stream) => stream.state !== undefined);
  if (receivers.length === 0) return undefined;
  const active = receivers.filter((stream) => stream.state === 'connected').length;
  return `Receivers: ${countLabel(active)} / ${countLabel(receivers.length)} active`;
}

/** True when one of `streams` has a state or has had an error: the tables then get their columns. */
export function hasStatus(streams) {
  return streams.some((stream) => stream.state !== undefined || stream.lastError !== undefined);
}

/** A stream's state and latest error as the tables' cells show them, empty where it has none. */
function inputStreamStatus(stream) {
  return {
    state: stream.state ?? '',
    lastErrorTime: stream.lastError ? `${batchDateLabel(stream.lastError.atMs, 1000)} UTC` : '',
    lastError: stream.lastError?.message ?? '',
  };
}

/** Text made safe to put in HTML, in an element or an attribute. */
export function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A duration in the tables: `250 ms`, `1.5 s`, and from a minute on in minutes, then hours, as Spark's tables write
 * them (`20.0 min`, `1.5 h`), so that the delays of a job falling behind read at a glance; `-` when unknown.
 */
export function msLabel(ms) {
  if (ms === undefined) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** A size in bytes: `512 B`, `1.5 KiB`, `2.0 MiB`. */
export function bytesLabel(n) {
  return n < 1024
    ? `${n} B`
    : n < 1048576
      ? `${(n / 1024).toFixed(1)} KiB`
      : `${(n / 1048576).toFixed(1)} MiB`;
}

/**
 * A table row of HTML cells (`-` for a missing one); a string cell is text, aligned as such; a number cell is a count,
 * written by `countLabel` and aligned as a number.
 */
export function htmlRow(cells, cls = '') {
  const cell = (c) =>
    typeof c === 'number'
      ? `<td>${countLabel(c)}</td>`
      : `<td${typeof c === 'string' ? ' class="text"' : ''}>${c ?? '-'}</td>`;
  return `<tr class="${cls}">${cells.map(cell).join('')}</tr>`;
}

/** A table of `heads` (text) over `rows` (HTML, from `htmlRow`). */
export function htmlTable(heads, rows) {
  return `<table><tr>${heads.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>${rows.join('')}</table>`;
}
