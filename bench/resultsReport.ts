import type { ProfileSummary, RoleSummary } from './cpuProfile';
import type { EmptyBatchOverhead } from './emptyBatchOverhead';
import type { LoopTiming } from './handWrittenLoops';
import { BATCH_INTERVAL_MS, GREP_WORD, LINE_BYTES } from './jobs';
import { formatPercent, formatRate, median } from './stats';
import type { Placement, RateTrial, SustainableRate, ThroughputEstimate, Workload } from './sustainableRate';

/** Everything one workload measured. */
export interface WorkloadResult {
  readonly workload: Workload;
  readonly loop: LoopTiming;
  readonly estimate: ThroughputEstimate;
  readonly search: SustainableRate;
}

/** Everything one `npm run bench` measured. */
export interface BenchResults {
  readonly started: Date;
  readonly durationMs: number;
  readonly cpuModel: string;
  /** `os.availableParallelism()`. */
  readonly cores: number;
  readonly nodeVersion: string;
  /** `os.loadavg()` before and after: other processes on the machine skew every figure. */
  readonly loadBefore: readonly number[];
  readonly loadAfter: readonly number[];
  readonly placement: Placement;
  /** Median lines a second the generator makes in one thread. */
  readonly generationPerSec: number;
  readonly workloads: readonly WorkloadResult[];
  readonly emptyBatches: readonly EmptyBatchOverhead[];
  readonly profile:
    | { readonly ratePerSec: number; readonly batches: number; readonly summary: ProfileSummary }
    | { readonly error: string };
}

const TITLES: Record<Workload, string> = { wordCount: 'WordCount', grep: 'Grep' };
/** Sluice must reach this share of the hand-written loop on the same cores. */
const TARGET_SHARE = 0.5;
/** An empty batch must cost less than this, in milliseconds. */
const EMPTY_BATCH_TARGET_MS = 5;

/** The Markdown of `bench/RESULTS.md`. */
export function renderResults(r: BenchResults): string {
  const out: string[] = [];
  const load = (l: readonly number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  out.push('# Sluice benchmark results', '');
  out.push(`Written by \`npm run bench\` (\`bench/run.ts\`); every run overwrites it.`, '');
  out.push(`- Date: ${r.started.toISOString()} (the bench took ${Math.round(r.durationMs / 1000)} s)`);
  out.push(`- CPU: ${r.cpuModel}; ${r.cores} cores (\`os.availableParallelism()\`)`);
  out.push(`- Node: ${r.nodeVersion}`);
  out.push(
    `- Load average (1/5/15 min) before: ${load(r.loadBefore)}, after: ${load(r.loadAfter)}. Other processes ` +
      'on the machine take cores from the run; a load near or above the core count makes every figure pessimistic.',
  );
  out.push(
    `- Setup: local mode, ${r.placement.workers} worker threads (one per core), ${r.placement.partitions} input ` +
      `partitions and ${r.placement.partitions} shuffle partitions, ${BATCH_INTERVAL_MS} ms batches, generated ` +
      `${LINE_BYTES}-byte text lines (\`GeneratorSource\` kind \`lines\`, seed 1). The generator is a direct ` +
      `source: each task generates its own partition's lines inside its timing, at about ` +
      `${formatRate(r.generationPerSec)} lines/s per core (median of 3 × 1 000 000 lines), while the hand-written ` +
      'loop generates its lines before its timing starts. Grep does almost nothing per line, so for Grep that ' +
      'generation, not the engine, bounds Sluice far below the loop.',
    '',
  );

  out.push('## Summary', '');
  const n = r.placement.workers;
  out.push(
    `| Workload | Sluice, highest sustainable rate (lines/s) | Hand-written loop, 1 core (lines/s) | Loop × ${n} cores | ` +
      `Sluice / loop on 1 core | Sluice / loop on ${n} cores | Target: ≥ ${formatPercent(TARGET_SHARE)} on the same cores |`,
    '|---|---|---|---|---|---|---|',
  );
  for (const w of r.workloads) {
    const sluice = w.search.ratePerSec;
    const sameCores = w.loop.recordsPerSec * n;
    const share = sluice === undefined ? 0 : sluice / sameCores;
    out.push(
      `| ${TITLES[w.workload]} | ${sluice === undefined ? `none stable (≥ ${formatRate(w.search.lowPerSec)} tried)` : formatRate(sluice)} | ` +
        `${formatRate(w.loop.recordsPerSec)} | ${formatRate(sameCores)} | ` +
        `${sluice === undefined ? 'n/a' : formatPercent(sluice / w.loop.recordsPerSec)} | ${formatPercent(share)} | ` +
        `${share >= TARGET_SHARE ? '**met**' : '**not met**'} |`,
    );
  }
  out.push('');
  for (const w of r.workloads) {
    const sameCores = w.loop.recordsPerSec * n;
    out.push(
      `- ${TITLES[w.workload]} on the logical clock (batches back to back, no real-time effects): ` +
        `${formatRate(w.estimate.processingRecordsPerSec)} lines/s counting processing time only ` +
        `(${formatPercent(w.estimate.processingRecordsPerSec / sameCores)} of the loop on ${n} cores), ` +
        `${formatRate(w.estimate.endToEndRecordsPerSec)} lines/s counting the driver's input step too ` +
        `(${formatPercent(w.estimate.endToEndRecordsPerSec / sameCores)}).`,
    );
  }
  for (const e of r.emptyBatches) {
    out.push(
      `- Scheduling overhead per empty batch, ${modeOf(e)}: median ${e.medianMs} ms of processing time ` +
        `(target < ${EMPTY_BATCH_TARGET_MS} ms: **${e.medianMs < EMPTY_BATCH_TARGET_MS ? 'met' : 'not met'}**).`,
    );
  }
  out.push('');

  out.push('## Method', '');
  out.push(
    '- **Hand-written loop**: the lines are generated first with the same `GeneratorSource`, outside the timing; ' +
      "then one thread runs a plain `for` loop as fast as it can (WordCount: `split(' ')` and a `Map` of counts; " +
      `Grep: count the lines that \`includes('${GREP_WORD}')\`). ${r.workloads[0]?.loop.repeatsPerSec.length ?? 0} ` +
      "passes, half before and half after the workload's Sluice runs so that a burst of load from other " +
      'processes does not decide it alone; median reported. "Loop × cores" is that rate times the cores Sluice was given: the limit of ' +
      'perfect parallelism with no engine at all.',
    '- **Throughput estimate**: on the logical clock (batches back to back), a 3-batch calibration run at ' +
      '50 000 lines/s sizes the estimate runs so one batch is about one interval of processing; then 3 runs × 5 ' +
      'batches at that rate (at most 1 000 000 lines/s). Estimate = records / processing time over batches 2–5, ' +
      'median of the runs. "End to end" divides by total delay instead, which also counts the driver generating, ' +
      'encoding and storing the input block before the jobs start.',
    '- **Highest sustainable rate**: binary search between 10% and 150% of the end-to-end estimate (the ' +
      'processing-only one ignores the input step, which on the real clock delays every batch), 6 trials on the real ' +
      `(\`system\`) clock, each a fresh runtime with a fresh store under the OS temp folder (removed after), 10 ` +
      `batches of ${BATCH_INTERVAL_MS} ms. A trial is **stable** when all 10 batches ran and, over the last 4, ` +
      'processing time < interval, total delay < 1.5 × interval, and total delay does not grow (never falling ' +
      'while rising by more than 10% of the interval). A trial whose total delay passes 3 intervals is stopped ' +
      'early (it can only grow) and counts as unstable. If no trial is stable the bottom of the range is tried too. ' +
      'The rate found is then run twice more and kept only if most of its trials are stable; otherwise the next ' +
      'lower stable rate of the search (or 15% lower) is confirmed the same way, at most 4 times and never ' +
      'below the search range.',
    `- **Scheduling overhead**: the \`empty\` job (\`ssc.queueStream([])\`, \`count().collectBatches()\`) for ` +
      `${r.emptyBatches[0]?.batches ?? 0} batches on the logical clock, ${r.emptyBatches[0]?.runs.length ?? 0} runs per mode; ` +
      'median processing time per batch (BatchInfo times are whole milliseconds, so the mean is shown too).',
    '',
  );

  for (const w of r.workloads) out.push(...renderWorkload(w, r.placement));
  out.push(...renderEmptyBatches(r.emptyBatches));
  out.push(...renderProfile(r));
  return `${out.join('\n')}\n`;
}

function modeOf(e: EmptyBatchOverhead): string {
  return e.workers === 0 ? 'in-process (workers: 0)' : `worker threads (workers: ${e.workers})`;
}

function renderWorkload(w: WorkloadResult, placement: Placement): string[] {
  const out: string[] = [];
  const title = TITLES[w.workload];
  out.push(`## ${title}`, '');
  out.push(
    w.workload === 'wordCount'
      ? "`flatMap(line => line.split(' '))`, `map(w => [w, 1])`, `reduceByKey(sum)`, then `count()` of the " +
          'distinct words with `collectBatches`: the count needs every word through the shuffle.'
      : `\`filter(line => line.includes('${GREP_WORD}'))\`, then \`count()\` with \`collectBatches\`.`,
    '',
  );
  out.push('### Hand-written loop (one thread)', '');
  out.push(
    `${w.loop.lines.toLocaleString('en-US')} lines per pass; passes (lines/s): ` +
      `${w.loop.repeatsPerSec.map(formatRate).join(', ')} (the first half before the Sluice runs below, the ` +
      `second after them); median **${formatRate(w.loop.recordsPerSec)}**, best ` +
      `${formatRate(Math.max(...w.loop.repeatsPerSec))}. ` +
      (w.workload === 'wordCount'
        ? `It found ${w.loop.answer} distinct words.`
        : `${w.loop.answer} lines matched (${formatPercent(w.loop.answer / w.loop.lines)}).`),
    '',
  );

  const e = w.estimate;
  out.push('### Throughput estimate (logical clock)', '');
  out.push(`Runs at ${formatRate(e.ratePerSec)} lines/s (${placement.workers} worker threads):`, '');
  out.push(
    '| Run | Processing (lines/s) | End to end (lines/s) | Processing per batch (ms) | Total delay per batch (ms) |',
  );
  out.push('|---|---|---|---|---|');
  e.runs.forEach((run, i) => {
    out.push(
      `| ${i + 1} | ${formatRate(run.processingRecordsPerSec)} | ${formatRate(run.endToEndRecordsPerSec)} | ` +
        `${run.batches.map((b) => b.processingTimeMs).join(', ')} | ${run.batches.map((b) => b.totalDelayMs).join(', ')} |`,
    );
  });
  out.push(
    '',
    `Estimate (median): **${formatRate(e.processingRecordsPerSec)} lines/s** of processing, ` +
      `${formatRate(e.endToEndRecordsPerSec)} lines/s end to end.`,
    '',
  );

  const s = w.search;
  out.push('### Highest sustainable rate (real clock)', '');
  out.push(`Search range ${formatRate(s.lowPerSec)}–${formatRate(s.highPerSec)} lines/s.`, '');
  out.push(
    '| Trial | Purpose | Rate (lines/s) | Verdict | Why | Total delay per batch (ms) | Processing per batch (ms) | Output per batch |',
  );
  out.push('|---|---|---|---|---|---|---|---|');
  s.trials.forEach((t, i) => {
    out.push(
      `| ${i + 1} | ${t.purpose} | ${formatRate(t.ratePerSec)} | ${t.stable ? 'stable' : 'unstable'} | ${t.reason} | ` +
        `${t.batches.map((b) => b.totalDelayMs).join(', ')} | ${t.batches.map((b) => b.processingTimeMs).join(', ')} | ` +
        `${t.outputs.map(String).join(', ')} |`,
    );
  });
  out.push('');
  out.push(
    s.ratePerSec === undefined
      ? `**No rate was stable in most of its trials** (range from ${formatRate(s.lowPerSec)} lines/s).`
      : `Highest sustainable rate: **${formatRate(s.ratePerSec)} lines/s**, stable in ${s.confirmed.stable} of ` +
          `${s.confirmed.runs} trials. ${delaysAt(s)} ${outputCheck(w, s.trials)}`,
    '',
  );
  return out;
}

/** Where a batch's time went at the sustainable rate: waiting for its input step, or processing. */
function delaysAt(s: SustainableRate): string {
  const batches = s.trials
    .filter((t) => t.ratePerSec === s.ratePerSec && t.stable)
    .flatMap((t) => t.batches.slice(-4));
  if (batches.length === 0) return '';
  return (
    `Over the last 4 batches of its stable trials, median scheduling delay ` +
    `${median(batches.map((b) => b.schedulingDelayMs))} ms (the driver making and storing the input block, plus any wait for the batch before), ` +
    `processing ${median(batches.map((b) => b.processingTimeMs))} ms, total ${median(batches.map((b) => b.totalDelayMs))} ms.`
  );
}

/** Shows that the stable trials computed what the loop computed. */
function outputCheck(w: WorkloadResult, trials: readonly RateTrial[]): string {
  const best = trials.find((t) => t.stable && t.ratePerSec === w.search.ratePerSec);
  if (!best) return '';
  const outputs = best.outputs.filter((o): o is number => typeof o === 'number');
  if (w.workload === 'wordCount') {
    return `Its batches counted ${[...new Set(outputs)].join(' / ')} distinct words (the loop: ${w.loop.answer}).`;
  }
  const matched = outputs.reduce((a, b) => a + b, 0);
  const records = best.batches.reduce((a, b) => a + b.records, 0);
  return (
    `Its batches matched ${formatPercent(matched / Math.max(1, records))} of the lines ` +
    `(the loop: ${formatPercent(w.loop.answer / w.loop.lines)}).`
  );
}

function renderEmptyBatches(overheads: readonly EmptyBatchOverhead[]): string[] {
  const out = ['## Scheduling overhead per empty batch', ''];
  out.push(
    '| Mode | Median per run (ms) | Mean per run (ms) | p90 per run (ms) | Median total delay per run (ms) | Median of medians | Target < 5 ms |',
    '|---|---|---|---|---|---|---|',
  );
  for (const e of overheads) {
    out.push(
      `| ${modeOf(e)} | ${e.runs.map((x) => x.medianMs).join(', ')} | ${e.runs.map((x) => x.meanMs.toFixed(2)).join(', ')} | ` +
        `${e.runs.map((x) => x.p90Ms.toFixed(1)).join(', ')} | ${e.runs.map((x) => x.medianTotalMs).join(', ')} | ` +
        `**${e.medianMs} ms** | ${e.medianMs < EMPTY_BATCH_TARGET_MS ? 'met' : 'not met'} |`,
    );
  }
  out.push('');
  return out;
}

function renderProfile(r: BenchResults): string[] {
  const out = ['## Where the time goes', ''];
  if ('error' in r.profile) {
    out.push(`Not profiled: the profiled run failed (${r.profile.error}).`, '');
    return out;
  }
  const { ratePerSec, batches, summary } = r.profile;
  out.push(
    `WordCount at ${formatRate(ratePerSec)} lines/s, ${batches} batches on the logical clock, ` +
      `${r.placement.workers} worker threads, under \`node --cpu-prof\` (every thread profiled; ` +
      `\`bench/profileChild.ts\`). Batch processing times under the profiler: ` +
      `${summary.batches.map((b) => b.processingTimeMs).join(', ')} ms. Self time per function, threads of a role ` +
      'added up; a built-in is listed with the Sluice function that called it, and functions V8 inlined count ' +
      'towards their caller (a `Map` lookup shows as the Sluice function that made it). Start-up (loading TypeScript ' +
      'through tsx: `makeSyncRequest`, `waitForWorker`, `compile…`) is in the figures too. Totals including ' +
      'callees stop at an `await`, so async callers show less than they cost.',
    '',
  );
  for (const role of ['worker', 'driver'] as const) {
    const s = summary.roles.find((x) => x.role === role);
    if (s) out.push(...renderRole(s));
  }
  const other = summary.roles.find((x) => x.role === 'other');
  if (other) {
    out.push(
      `The other ${other.threads} threads (tsx's module-loader threads) were busy ${Math.round(other.busyMs)} ms in all.`,
      '',
    );
  }
  return out;
}

function renderRole(s: RoleSummary): string[] {
  const title = s.role === 'worker' ? `Worker threads (${s.threads})` : 'Driver thread';
  const out = [`### ${title}`, ''];
  const share = (ms: number) => `${Math.round(ms)} ms (${formatPercent(ms / Math.max(1, s.busyMs))})`;
  out.push(
    `Busy ${Math.round(s.busyMs)} ms of ${Math.round(s.wallMs)} ms profiled (${formatPercent(s.busyMs / s.wallMs)}; ` +
      `the rest idle, waiting for work); garbage collection ${Math.round(s.gcMs)} ms ` +
      `(${formatPercent(s.gcMs / Math.max(1, s.busyMs))} of busy time).`,
    '',
    `By who is to blame: garbage collection ${share(s.byCategory.gc)}, Sluice's code (\`lib/\`, with the ` +
      `built-ins it calls) ${share(s.byCategory.engine)}, the job's own record functions (\`bench/jobs.ts\`, ` +
      `with \`split\` and the like, which the hand-written loop pays too) ${share(s.byCategory.job)}, start-up ` +
      `and Node internals ${share(s.byCategory.other)}.`,
    '',
    '| Self time (ms) | Share of busy | Function |',
    '|---|---|---|',
  );
  for (const t of s.top) {
    out.push(`| ${Math.round(t.ms)} | ${formatPercent(t.ms / Math.max(1, s.busyMs))} | \`${t.name}\` |`);
  }
  out.push('', 'Including what they call (a caller includes its callees, so the rows overlap):', '');
  out.push('| Total time (ms) | Share of busy | Function |', '|---|---|---|');
  for (const t of s.topInclusive) {
    out.push(`| ${Math.round(t.ms)} | ${formatPercent(t.ms / Math.max(1, s.busyMs))} | \`${t.name}\` |`);
  }
  out.push('');
  return out;
}
