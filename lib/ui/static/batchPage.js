// The batch page (Spark's "Details of batch"): a plain function of the batch's JSON, so that the unit tests render
// it from what a running UI serves, without a browser (batchPage.d.ts gives its type to the tests).
import {
  batchLabel,
  batchTimeLabel,
  bytesLabel as bytes,
  countLabel as count,
  deadLetterRecord,
  escapeHtml as esc,
  hasStatus,
  inputStreamRows,
  msLabel as ms,
  htmlRow as row,
  htmlTable as table,
} from './pageFormat.js';

/** The HTML of a batch's page, from `/api/batch/<batch time>` (a `BatchDetail`). */
export function batchPageHtml(d) {
  const b = d.info;
  const stages = (b.outputOps || []).flatMap((op) => op.jobs.flatMap((j) => j.stages));
  const slowest = stages.reduce((a, s) => (a && a.durationMs >= s.durationMs ? a : s), undefined);
  const ops = (b.outputOps || [])
    .map(
      (op) =>
        `<h4>Output Op ${op.id}: ${esc(op.name)} (${ms(op.durationMs)}, ${op.error ? '<span class="failed">failed</span>' : 'succeeded'})</h4>` +
        op.jobs
          .map(
            (j) =>
              `<p>Job ${j.jobId}: ${esc(j.action)}, planning ${ms(j.planningMs)}</p>` +
              table(
                [
                  'Stage Id',
                  'Description',
                  'Ran On',
                  'Duration',
                  'Tasks',
                  'Records In',
                  'Records Out',
                  'Shuffle Read',
                  'Shuffle Write',
                  'Storage Requests',
                  'Compute Time',
                  'Storage Time',
                ],
                j.stages.map((s) =>
                  row(
                    [
                      // An id, not a count: never grouped by thousands.
                      String(s.stageId),
                      esc(s.description),
                      esc(s.ranOn),
                      ms(s.durationMs),
                      s.tasks.length,
                      s.recordsIn,
                      s.recordsOut,
                      bytes(s.shuffleBytesRead),
                      bytes(s.shuffleBytesWritten),
                      s.storageRequests,
                      ms(s.computeMs),
                      ms(s.storageMs),
                    ],
                    s === slowest ? 'slowest stage' : 'stage',
                  ),
                ),
              ) +
              j.stages
                .map(
                  (s) =>
                    `<details><summary>Tasks of stage ${s.stageId}</summary>` +
                    table(
                      ['Partition', 'Duration', 'Attempts', 'Speculative Copy', 'Ran On'],
                      s.tasks.map((t) =>
                        row([
                          String(t.partition),
                          ms(t.durationMs),
                          t.attempts,
                          t.speculative ?? 'none',
                          esc(s.ranOn),
                        ]),
                      ),
                    ) +
                    '</details>',
                )
                .join(''),
          )
          .join(''),
    )
    .join('');
  // A stream's state and latest error as the batch completed, in columns of their own when a stream has one.
  const withStatus = hasStatus(Object.values(b.inputs ?? {}));
  const inputs = inputStreamRows(b).map((input) =>
    row([
      esc(input.name),
      input.records,
      input.took.length ? input.took.map(esc).join('<br>') : '-',
      ...(withStatus ? [esc(input.state), esc(input.lastErrorTime), esc(input.lastError)] : []),
    ]),
  );
  const letters = d.deadLetters.map((l) =>
    row([esc(l.op ?? l.dataset), esc(l.error), esc(deadLetterRecord(l))]),
  );
  // Named by its date when it has one (the wall clock), as in Spark; its stream time is the number in its address.
  const dated = b.dueAtMs !== undefined;
  const unreadable = (d.unreadable ?? []).map((u) => `<p class="failed">${esc(u)}</p>`).join('');
  return `<p><a href="#/">Back to Streaming</a></p>${unreadable}<h3>Details of batch at ${batchLabel(b.batchTime, b.dueAtMs, d.batchIntervalMs)}${dated ? ' UTC' : ''}</h3>
    <ul>${dated ? `<li>Stream time: ${batchTimeLabel(b.batchTime, d.batchIntervalMs)} (batch ${b.batchTime})</li>` : ''}<li>Batch Interval: ${ms(d.batchIntervalMs)}</li><li>Records: ${count(b.records)}</li><li>Scheduling delay: ${ms(b.schedulingDelayMs)}</li><li>Processing time: ${ms(b.processingTimeMs)}</li><li>Total delay: ${ms(b.totalDelayMs)}</li>
    <li>Tasks: ${count(b.tasks)} (${count(b.taskAttempts)} attempts, ${count(b.speculativeTasks)} speculative copies, ${count(b.speculativeWins)} won)</li>
    ${b.cost ? `<li>Cost: $${b.cost.dollars.toFixed(6)} (${esc(b.cost.prices)})</li>` : ''}
    ${slowest ? `<li>Slowest stage: <b>${slowest.stageId}: ${esc(slowest.description)}</b> (${ms(slowest.durationMs)})</li>` : ''}</ul>
    ${b.error ? `<h3>Error</h3><pre class="error">${esc(b.error)}</pre>` : ''}
    ${inputs.length ? `<h3>Input Streams</h3>${table(['Input Stream', 'Records', 'Input Metadata', ...(withStatus ? ['Status', 'Last Error Time', 'Last Error'] : [])], inputs)}` : ''}
    <h3>Output Operations</h3>${ops ? outputOpsTable(b.outputOps) + ops : '<p>No output operation details in these metrics.</p>'}
    <h3>Dead Letters (${count(d.deadLetters.length + d.deadLettersNotShown)})</h3>${letters.length ? table(['Op', 'Error', 'Record'], letters) : '<p>None.</p>'}`;
}

/**
 * Spark's table of a batch's output operations: a row per operation (its id, its name and where it was written,
 * duration, status, and its error: the first line, the rest under it) spanning the rows of the jobs it ran (id and
 * action, duration, stages completed of its plan's, tasks of those stages). An operation that ran no job has one row.
 */
export function outputOpsTable(ops) {
  const heads = [
    'Output Op Id',
    'Description',
    'Duration',
    'Status',
    'Job Id',
    'Job Duration',
    'Stages: Succeeded/Total',
    'Tasks',
    'Error',
  ];
  const cell = (html, span, text = true) =>
    `<td${span > 1 ? ` rowspan="${span}"` : ''}${text ? ' class="text"' : ''}>${html}</td>`;
  const rows = ops.flatMap((op) => {
    const span = Math.max(1, op.jobs.length);
    const described = `${esc(op.name)}${op.origin ? `<br><small>${esc(op.origin)}</small>` : ''}`;
    const status = op.error ? '<span class="failed">failed</span>' : 'succeeded';
    const opCells =
      cell(op.id, span, false) +
      cell(described, span) +
      cell(ms(op.durationMs), span, false) +
      cell(status, span);
    const jobCells = (j) =>
      cell(`${j.jobId} (${esc(j.action)})`, 1) +
      cell(ms(j.durationMs), 1, false) +
      cell(j.stagesTotal === undefined ? j.stages.length : `${j.stages.length}/${j.stagesTotal}`, 1, false) +
      cell(count(j.stages.reduce((n, s) => n + s.tasks.length, 0)), 1, false);
    const errorCell = cell(op.error ? errorSummary(op.error) : '-', span);
    if (op.jobs.length === 0) {
      return [`<tr class="output-op">${opCells}${cell('-', 1).repeat(4)}${errorCell}</tr>`];
    }
    return op.jobs.map(
      (j, i) =>
        `<tr class="output-op">${i === 0 ? opCells : ''}${jobCells(j)}${i === 0 ? errorCell : ''}</tr>`,
    );
  });
  return `<table class="output-ops"><tr>${heads.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.join('')}</table>`;
}

/** An error's first line, and the whole error under it when it has more (Spark's "+details"). */
function errorSummary(error) {
  const [first, ...rest] = error.split('\n');
  const summary = `<span class="failed">${esc(first)}</span>`;
  return rest.length === 0
    ? summary
    : `<details><summary>${summary}</summary><pre class="error">${esc(error)}</pre></details>`;
}
