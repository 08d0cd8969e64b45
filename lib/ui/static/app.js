// The Streaming UI page: polls the JSON of the server it came from and draws Spark's Streaming tab with uPlot.
import { batchPageHtml } from './batchPage.js';
import { activeBatchesTable, completedBatchesTable, DEFAULT_VIEW, sortedBy } from './batchTables.js';
import {
  ApiError,
  activeBatchesNote,
  averageLabel,
  batchDateLabel,
  batchPageError,
  countLabel as count,
  durationLabel as duration,
  escapeHtml as esc,
  histogram,
  inputStreamStatusRows,
  msLabel as ms,
  pollDelayMs,
  pollErrorLine,
  receiversLabel,
  htmlRow as row,
  runEndBanner,
  stabilityLine,
  startedAtLabel,
  statisticsCharts,
  statisticsTitle,
  htmlTable as table,
  unreadableNote,
} from './pageFormat.js';

const page = document.getElementById('page');
const charts = {}; // by name; the browser test reads their data through window.sluiceCharts
window.sluiceCharts = charts;
// The reader's view of each table of batches (its page, the column it is sorted by), kept across polls.
const views = { active: DEFAULT_VIEW, completed: DEFAULT_VIEW };
let timer;
let lastSummary;

async function getJson(url) {
  const response = await fetch(url);
  if (!response.ok) {
    // The API answers its errors as `{ error }` in a sentence: that sentence is what the page shows.
    const body = await response.json().catch(() => ({}));
    throw new ApiError(response.status, body.error ?? `${url}: ${response.status}`);
  }
  return response.json();
}

// ---- the streaming page ----------------------------------------------------------------------------------
// The charts' names and labels, before the first poll; their data comes from statisticsCharts.
const METRICS = statisticsCharts({ batches: [], batchIntervalMs: 1000 });

function streamingSkeleton() {
  page.innerHTML = `<div id="ended" hidden></div><p id="unreadable" class="failed" hidden></p><div id="header"></div><div id="stability"></div>
    <h3 id="statistics-title">Statistics</h3><div class="stats">${METRICS.map((m) => `<div><b>${m.label}</b><br>${m.name === 'inputRate' ? '<span id="receivers" hidden></span>' : ''}<span id="avg-${m.name}"></span></div><div id="tl-${m.name}"></div><div id="hist-${m.name}"></div>`).join('')}</div>
    <div id="input-streams" hidden><h3>Input Streams</h3><div id="input-streams-table"></div></div>
    <h3 id="active-title">Active Batches</h3><p id="active-fresh"></p><div class="pager" id="active-pager"></div><div id="active"></div>
    <h3 id="completed-title">Completed Batches</h3><div class="pager" id="completed-pager"></div><div id="completed"></div>`;
  for (const key of Object.keys(charts)) delete charts[key];
}

function drawCharts(summary) {
  document.getElementById('statistics-title').textContent = statisticsTitle(summary);
  const xs = summary.batches.map((b) => b.batchTime / 1000);
  let previous;
  for (const m of statisticsCharts(summary)) {
    chartRow(m, previous);
    previous = m;
    document.getElementById(`avg-${m.name}`).textContent = averageLabel(m.values, m.unit);
    const series = [
      { label: 'batch time (s)' },
      { label: `${m.label} (${m.unit})`, stroke: '#1f77b4', points: { show: xs.length < 200 } },
    ];
    const data = [xs, m.values];
    if (m.intervalLine !== undefined) {
      series.push({ label: 'batch interval', stroke: '#d62728', dash: [6, 4], points: { show: false } });
      data.push(xs.map(() => m.intervalLine));
    }
    // Both axes name what they measure, and the y range starts at 0 (shared by the delays: see statisticsCharts).
    update(
      `tl-${m.name}`,
      m.name,
      m,
      {
        width: 600,
        height: 170,
        series,
        scales: { y: { range: () => [0, yMaxOf[m.name]] } },
        axes: [{ label: 'batch time (s)' }, { label: m.unit, size: 60 }],
        hooks: { ready: [openBatchOnClick] },
      },
      data,
    );
    // The histogram: how many batches fell in each of 20 bins, over the same range as the timeline.
    const { edges, counts } = histogram(m.values, 20, m.yMax);
    const bars = uPlot.paths.bars({ size: [0.9, 100], align: 1 });
    update(
      `hist-${m.name}`,
      `${m.name}Histogram`,
      m,
      {
        width: 300,
        height: 170,
        legend: { show: false },
        series: [
          { label: m.unit },
          { label: 'batches', fill: '#9ecae1', stroke: '#1f77b4', paths: bars, points: { show: false } },
        ],
        // From the first bin's left edge to the last one's right edge, unpadded: every bar inside.
        scales: { x: { time: false, range: (_u, min, max) => [min, max] } },
        axes: [{ label: m.unit }, { label: 'batches', size: 50 }],
      },
      [edges, counts],
    );
  }
}

/**
 * A click on a timeline opens the page of the batch under the cursor, as a click on a point of Spark's timelines
 * leads to that batch; a drag still zooms. The chart's data is read at the click: a poll replaces it without making
 * the chart again. Read from mousedown and mouseup, as uPlot swallows a click it takes for the end of a drag.
 */
function openBatchOnClick(u) {
  let downAt;
  u.over.addEventListener('mousedown', (event) => {
    downAt = event.offsetX;
  });
  u.over.addEventListener('mouseup', (event) => {
    if (downAt === undefined || Math.abs(event.offsetX - downAt) > 3) return;
    downAt = undefined;
    const x = u.data[0][u.posToIdx(event.offsetX)];
    // The x values are batch times in seconds: back to the whole milliseconds of the batch's address.
    if (x !== undefined) location.hash = `#/batch/${Math.round(x * 1000)}`;
  });
}

/**
 * The row of an input stream's rate, made under the chart before it the first time the summary names the stream
 * (the skeleton is drawn before the first poll, when the page does not know the job's input streams yet).
 */
function chartRow(m, previous) {
  if (document.getElementById(`tl-${m.name}`)) return;
  document
    .getElementById(`hist-${previous.name}`)
    .insertAdjacentHTML(
      'afterend',
      `<div class="input-stream"><b>${esc(m.label)}</b><br><span id="avg-${esc(m.name)}"></span></div><div id="tl-${esc(m.name)}"></div><div id="hist-${esc(m.name)}"></div>`,
    );
}

// The top of each timeline's y range, read by its scale on every redraw.
const yMaxOf = {};

/** Draws `data` in the chart `name`; made again when its unit changed (ms to sec as delays grow), as axes keep labels. */
function update(elementId, name, metric, options, data) {
  yMaxOf[metric.name] = metric.yMax;
  const chart = charts[name];
  if (chart && chart.unit === metric.unit) {
    chart.setData(data);
    return;
  }
  chart?.destroy();
  charts[name] = new uPlot(
    { ...options, scales: { ...(options.scales || {}), x: { time: false, ...(options.scales?.x || {}) } } },
    data,
    document.getElementById(elementId),
  );
  charts[name].unit = metric.unit;
}

function drawStreaming(s) {
  document.getElementById('job').textContent =
    `${s.jobName}${s.readOnly ? ' (read-only, from the metrics on AWS)' : ''}`;
  const records = count(s.records);
  const last = s.batches.at(-1);
  // The coordinator on AWS keeps stream time, not when the job started: say what the kept batches cover.
  document.getElementById('header').innerHTML = s.readOnly
    ? `Batches of <b>${ms(s.batchIntervalMs)}</b> up to <b>${duration(last?.batchTime ?? 0)}</b> of stream time` +
      (last?.dueAtMs === undefined
        ? ' '
        : `, the newest at <b>${batchDateLabel(last.dueAtMs, s.batchIntervalMs)} UTC</b> `) +
      `(<b>${count(s.completedBatches)}</b> completed batches kept, <b>${records}</b> records)`
    : `${s.ended ? 'Ran' : 'Running'} batches of <b>${ms(s.batchIntervalMs)}</b> for <b>${duration((s.ended?.atMs ?? Date.now()) - s.startedAtMs)}</b> since <b>${esc(startedAtLabel(s.startedAtMs))}</b> ` +
      `(<b>${count(s.completedBatches)}</b> completed batches, <b>${records}</b> records)`;
  // A run that has ended says so above all, so the page is not read as live.
  const ended = document.getElementById('ended');
  const banner = runEndBanner(s);
  ended.hidden = banner === undefined;
  ended.className = s.ended?.error === undefined ? 'ended' : 'ended failed';
  ended.textContent = banner ?? '';
  const unreadable = document.getElementById('unreadable');
  const note = unreadableNote(s);
  unreadable.hidden = note === undefined;
  unreadable.textContent = note ?? '';
  const stability = stabilityLine(s);
  const stabilityClass =
    stability.stable === undefined ? 'pending' : stability.stable ? 'stable' : 'unstable';
  document.getElementById('stability').innerHTML = `<p class="${stabilityClass}">${esc(stability.text)}</p>`;
  drawCharts(s);
  // Under the Input Rate, as in Spark: how many of the streams that receive over a connection are connected.
  const receivers = document.getElementById('receivers');
  const receiversText = receiversLabel(s.inputStreams);
  receivers.hidden = receiversText === undefined;
  receivers.innerHTML = receiversText === undefined ? '' : `${esc(receiversText)}<br>`;
  // Spark's receivers' table: a stream's state and latest error; nothing when no stream has either.
  const streams = inputStreamStatusRows(s.inputStreams);
  document.getElementById('input-streams').hidden = streams.length === 0;
  document.getElementById('input-streams-table').innerHTML = table(
    ['Input Stream', 'Status', 'Last Error Time', 'Last Error'],
    streams.map((i) => row([esc(i.name), esc(i.state), esc(i.lastErrorTime), esc(i.lastError)])),
  );
  const fresh = document.getElementById('active-fresh');
  const freshNote = activeBatchesNote(s, Date.now());
  fresh.hidden = freshNote === undefined;
  fresh.textContent = freshNote ?? '';
  drawBatchesTable('active', activeBatchesTable(s, views.active));
  drawBatchesTable('completed', completedBatchesTable(s, views.completed));
}

/** Draws the table of batches `id` (`active` or `completed`): its title, pager and rows; keeps the page it shows. */
function drawBatchesTable(id, table) {
  views[id] = { ...views[id], page: table.page };
  document.getElementById(`${id}-title`).textContent = table.title;
  document.getElementById(`${id}-pager`).innerHTML = table.pager;
  document.getElementById(id).innerHTML = table.html;
}

// ---- the batch page --------------------------------------------------------------------------------------
function drawBatch(d) {
  page.innerHTML = batchPageHtml(d);
}

// ---- the tune page: a search that `sluice tune --out` wrote (sluice ui --tune) ----------------------------
let tune; // fetched once: a finished search does not change

function drawTune(t) {
  for (const key of Object.keys(charts)) delete charts[key];
  const configs = t.table
    .slice(1)
    .map((r, i) => row(r.map(esc), t.configs[i].recommended ? 'recommended' : 'config'));
  page.innerHTML = `<h3>sluice tune of ${esc(t.job)}</h3><p class="recommendation">${esc(t.recommendation)}</p>
    <p>Searched for ${duration(t.durationMs)} from ${esc(startedAtLabel(Date.parse(t.startedAt)))} on ${t.cores} cores. ${esc(t.rule)}</p>
    <div id="tune-table">${table(t.table[0], configs)}</div><h3>Total Delay of each real-clock trial</h3>
    <div class="curves">${t.configs.map((c, i) => `<div><b>${esc(c.title)}</b>${c.recommended ? ' (recommended)' : ''}<div id="curve-${i}">${c.trials.length ? '' : 'No real-clock trial.'}</div></div>`).join('')}</div>`;
  t.configs.forEach((c, i) => {
    if (c.trials.length === 0) return;
    // Trials cut short have fewer batches: every trial on the same batch times, gaps where one had none.
    const xs = [...new Set(c.trials.flatMap((tr) => tr.batchTimesS))].sort((a, b) => a - b);
    const ys = c.trials.map((tr) => xs.map((x) => tr.totalDelaysMs[tr.batchTimesS.indexOf(x)] ?? null));
    const series = c.trials.map((tr, k) => ({
      label: tr.label,
      stroke: `hsl(${tr.stable ? 140 : 0}, 65%, ${30 + ((k * 9) % 40)}%)`,
    }));
    charts[`tune${i}`] = new uPlot(
      {
        width: 600,
        height: 200,
        series: [
          { label: 'batch time (s)' },
          ...series,
          { label: 'batch interval', stroke: '#888', dash: [6, 4], points: { show: false } },
        ],
        scales: { x: { time: false } },
        axes: [{}, { size: 60 }],
      },
      [xs, ...ys, xs.map(() => c.intervalMs)],
      document.getElementById(`curve-${i}`),
    );
  });
}

// ---- routing and polling ---------------------------------------------------------------------------------
async function route() {
  clearTimeout(timer);
  if (location.hash === '#/tune') {
    if (tune) drawTune(tune);
    else
      page.innerHTML =
        '<p class="failed">No sluice tune search on this page: give one with sluice ui --tune tune.json.</p>';
    return;
  }
  const batch = /^#\/batch\/(\d+)$/.exec(location.hash);
  if (batch) {
    try {
      drawBatch(await getJson(`/api/batch/${batch[1]}`));
    } catch (error) {
      page.innerHTML = `<p><a href="#/">Back to Streaming</a></p><p class="failed">${esc(batchPageError(batch[1], error))}</p>`;
    }
    return;
  }
  streamingSkeleton();
  const poll = async () => {
    try {
      lastSummary = await getJson('/api/streaming');
      drawStreaming(lastSummary);
    } catch (error) {
      // A page of a tune search only has no streaming job: it opens on the search.
      if (tune && error.status === 404) {
        location.hash = '#/tune';
        return;
      }
      document.getElementById('header').textContent = pollErrorLine(error);
    }
    timer = setTimeout(poll, pollDelayMs(lastSummary));
  };
  await poll();
}

page.addEventListener('click', (event) => {
  // Each table's pager buttons and heads name their table: a click changes that table's view only.
  const pageButton = event.target.closest('button[data-page]');
  const sortHead = event.target.closest('th[data-sort]');
  if (pageButton) {
    const id = pageButton.dataset.table;
    views[id] = { ...views[id], page: Number(pageButton.dataset.page) };
  } else if (sortHead) {
    const id = sortHead.dataset.table;
    views[id] = sortedBy(views[id], sortHead.dataset.sort);
  } else return;
  if (lastSummary) drawStreaming(lastSummary);
});
window.addEventListener('hashchange', () => void route());
getJson('/api/tune')
  .then((t) => {
    tune = t;
    document.getElementById('tune-link').hidden = false;
  })
  .catch(() => {})
  .finally(() => void route());
