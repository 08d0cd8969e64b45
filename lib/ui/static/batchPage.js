// The batch page (Spark's "Details of batch"): a plain function of the batch's JSON, so that the unit tests render
// it from what a running UI serves, without a browser (batchPage.d.ts gives its type to the tests).
import {
  batchLabel,
  batchTimeLabel,
  bytesLabel as bytes,
  deadLetterRecord,
  escapeHtml as esc,
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
        (op.error ? `<pre class="error">${esc(op.error)}</pre>` : '') +
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
                      s.stageId,
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
                          t.partition,
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
  const inputs = inputStreamRows(b).map((input) =>
    row([esc(input.name), input.records, input.took.length ? input.took.map(esc).join('<br>') : '-']),
  );
  const letters = d.deadLetters.map((l) =>
    row([esc(l.op ?? l.dataset), esc(l.error), esc(deadLetterRecord(l))]),
  );
  // Named by its date when it has one (the wall clock), as in Spark; its stream time is the number in its address.
  const dated = b.dueAtMs !== undefined;
  return `<p><a href="#/">Back to Streaming</a></p><h3>Details of batch at ${batchLabel(b.batchTime, b.dueAtMs, d.batchIntervalMs)}${dated ? ' UTC' : ''}</h3>
    <ul>${dated ? `<li>Stream time: ${batchTimeLabel(b.batchTime, d.batchIntervalMs)} (batch ${b.batchTime})</li>` : ''}<li>Batch Interval: ${ms(d.batchIntervalMs)}</li><li>Records: ${b.records}</li><li>Scheduling delay: ${ms(b.schedulingDelayMs)}</li><li>Processing time: ${ms(b.processingTimeMs)}</li><li>Total delay: ${ms(b.totalDelayMs)}</li>
    <li>Tasks: ${b.tasks} (${b.taskAttempts} attempts, ${b.speculativeTasks} speculative copies, ${b.speculativeWins} won)</li>
    ${b.cost ? `<li>Cost: $${b.cost.dollars.toFixed(6)} (${esc(b.cost.prices)})</li>` : ''}
    ${slowest ? `<li>Slowest stage: <b>${slowest.stageId}: ${esc(slowest.description)}</b> (${ms(slowest.durationMs)})</li>` : ''}</ul>
    ${b.error ? `<h3>Error</h3><pre class="error">${esc(b.error)}</pre>` : ''}
    ${inputs.length ? `<h3>Input Streams</h3>${table(['Input Stream', 'Records', 'Input Metadata'], inputs)}` : ''}
    <h3>Output Operations</h3>${ops || '<p>No output operation details in these metrics.</p>'}
    <h3>Dead Letters (${d.deadLetters.length + d.deadLettersNotShown})</h3>${letters.length ? table(['Op', 'Error', 'Record'], letters) : '<p>None.</p>'}`;
}
