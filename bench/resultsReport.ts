import { RETAINED_BATCHES } from '../lib/ui/StreamingUiState';
import type { ProfileSummary, RoleSummary } from './cpuProfile';
import type { EmptyBatchOverhead } from './emptyBatchOverhead';
import type { LoopTiming } from './handWrittenLoops';
import { BATCH_INTERVAL_MS, GREP_WORD, LINE_BYTES } from './jobs';
import { heapGrowth, type MemoryOverBatches } from './memoryOverBatches';
import { table } from './resultsFile';
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
  /** Absent from runs before it was measured. */
  readonly memory?: MemoryOverBatches;
  readonly profile:
    | { readonly ratePerSec: number; readonly batches: number; readonly summary: ProfileSummary }
    | { readonly error: string };
}

const TITLES: Record<Workload, string> = { wordCount: 'WordCount', grep: 'Grep' };
/** Sluice must reach this share of the hand-written loop on the same cores. */
const TARGET_SHARE = 0.5;
/** An empty batch must cost less than this, in milliseconds. */
const EMPTY_BATCH_TARGET_MS = 5;

/** The id of the section of `bench/RESULTS.md` that `npm run bench` rewrites (see `writeSection`). */
export const RUN_SECTION = 'run';

/**
 * The figures of one `npm run bench`, for its section of `bench/RESULTS.md`; how each is measured is the
 * "Method" section written above it there.
 */
export function renderResults(r: BenchResults): string {
  const out: string[] = [];
  const load = (l: readonly number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  const n = r.placement.workers;
  out.push('## Latest run', '');
  out.push(
    ...table(
      ['Date', 'Took', 'CPU', 'Cores', 'Node', 'Load (1/5/15 min) before', 'after'],
      [
        [
          r.started.toISOString(),
          `${Math.round(r.durationMs / 1000)} s`,
          r.cpuModel,
          r.cores,
          r.nodeVersion,
          load(r.loadBefore),
          load(r.loadAfter),
        ],
      ],
    ),
    '',
  );
  out.push(
    ...table(
      [
        'Worker threads',
        'Input partitions',
        'Shuffle partitions',
        'Batch interval (ms)',
        'Line (bytes)',
        'Generator, 1 thread (lines/s)',
        'Loop passes',
        'Grep word',
      ],
      [
        [
          n,
          r.placement.partitions,
          r.placement.partitions,
          BATCH_INTERVAL_MS,
          LINE_BYTES,
          formatRate(r.generationPerSec),
          r.workloads[0]?.loop.repeatsPerSec.length ?? 0,
          `\`${GREP_WORD}\``,
        ],
      ],
    ),
    '',
  );

  out.push('## Summary', '');
  out.push(
    ...table(
      [
        'Workload',
        'Sluice, highest sustainable rate (lines/s)',
        'Hand-written loop, 1 core (lines/s)',
        `Loop × ${n} cores`,
        'Sluice / loop on 1 core',
        `Sluice / loop on ${n} cores`,
        `Target: ≥ ${formatPercent(TARGET_SHARE)} on the same cores`,
        'Logical clock, processing (lines/s)',
        'Logical clock, end to end (lines/s)',
      ],
      r.workloads.map((w) => {
        const sluice = w.search.ratePerSec;
        const sameCores = w.loop.recordsPerSec * n;
        const share = sluice === undefined ? 0 : sluice / sameCores;
        const ofLoop = (rate: number) => `${formatRate(rate)} (${formatPercent(rate / sameCores)})`;
        return [
          TITLES[w.workload],
          sluice === undefined
            ? `none stable (≥ ${formatRate(w.search.lowPerSec)} tried)`
            : formatRate(sluice),
          formatRate(w.loop.recordsPerSec),
          formatRate(sameCores),
          sluice === undefined ? 'n/a' : formatPercent(sluice / w.loop.recordsPerSec),
          formatPercent(share),
          share >= TARGET_SHARE ? '**met**' : '**not met**',
          ofLoop(w.estimate.processingRecordsPerSec),
          ofLoop(w.estimate.endToEndRecordsPerSec),
        ];
      }),
    ),
    '',
  );

  for (const w of r.workloads) out.push(...renderWorkload(w, r.placement));
  out.push(...renderEmptyBatches(r.emptyBatches));
  if (r.memory) out.push(...renderMemory(r.memory));
  out.push(...renderProfile(r));
  return `${out.join('\n')}\n`;
}

function modeOf(e: EmptyBatchOverhead): string {
  return e.workers === 0 ? 'in-process (workers: 0)' : `worker threads (workers: ${e.workers})`;
}

function renderWorkload(w: WorkloadResult, placement: Placement): string[] {
  const out: string[] = [];
  out.push(`## ${TITLES[w.workload]}`, '');
  out.push('### Hand-written loop (one thread)', '');
  out.push(
    ...table(
      ['Lines per pass', 'Passes (lines/s)', 'Median (lines/s)', 'Best (lines/s)', 'Answer'],
      [
        [
          w.loop.lines.toLocaleString('en-US'),
          w.loop.repeatsPerSec.map(formatRate).join(', '),
          `**${formatRate(w.loop.recordsPerSec)}**`,
          formatRate(Math.max(...w.loop.repeatsPerSec)),
          w.workload === 'wordCount'
            ? `${w.loop.answer} distinct words`
            : `${w.loop.answer} lines matched (${formatPercent(w.loop.answer / w.loop.lines)})`,
        ],
      ],
    ),
    '',
  );

  const e = w.estimate;
  out.push('### Throughput estimate (logical clock)', '');
  out.push(`Runs at ${formatRate(e.ratePerSec)} lines/s (${placement.workers} worker threads):`, '');
  out.push(
    ...table(
      [
        'Run',
        'Processing (lines/s)',
        'End to end (lines/s)',
        'Processing per batch (ms)',
        'Total delay per batch (ms)',
      ],
      e.runs.map((run, i) => [
        i + 1,
        formatRate(run.processingRecordsPerSec),
        formatRate(run.endToEndRecordsPerSec),
        run.batches.map((b) => b.processingTimeMs).join(', '),
        run.batches.map((b) => b.totalDelayMs).join(', '),
      ]),
    ),
    '',
    `Estimate (median): **${formatRate(e.processingRecordsPerSec)} lines/s** of processing, ` +
      `${formatRate(e.endToEndRecordsPerSec)} lines/s end to end.`,
    '',
  );

  const s = w.search;
  out.push('### Highest sustainable rate (real clock)', '');
  out.push(`Search range ${formatRate(s.lowPerSec)}–${formatRate(s.highPerSec)} lines/s.`, '');
  out.push(
    ...table(
      [
        'Trial',
        'Purpose',
        'Rate (lines/s)',
        'Verdict',
        'Why',
        'Total delay per batch (ms)',
        'Processing per batch (ms)',
        'Output per batch',
      ],
      s.trials.map((t, i) => [
        i + 1,
        t.purpose,
        formatRate(t.ratePerSec),
        t.stable ? 'stable' : 'unstable',
        t.reason,
        t.batches.map((b) => b.totalDelayMs).join(', '),
        t.batches.map((b) => b.processingTimeMs).join(', '),
        t.outputs.map(String).join(', '),
      ]),
    ),
    '',
  );
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
    `${median(batches.map((b) => b.schedulingDelayMs))} ms, ` +
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
    ...table(
      [
        'Mode',
        'Batches per run',
        'Median per run (ms)',
        'Mean per run (ms)',
        'p90 per run (ms)',
        'Median total delay per run (ms)',
        'Median of medians',
        `Target < ${EMPTY_BATCH_TARGET_MS} ms`,
      ],
      overheads.map((e) => [
        modeOf(e),
        e.batches,
        e.runs.map((x) => x.medianMs).join(', '),
        e.runs.map((x) => x.meanMs.toFixed(2)).join(', '),
        e.runs.map((x) => x.p90Ms.toFixed(1)).join(', '),
        e.runs.map((x) => x.medianTotalMs).join(', '),
        `**${e.medianMs} ms**`,
        e.medianMs < EMPTY_BATCH_TARGET_MS ? 'met' : 'not met',
      ]),
    ),
    '',
  );
  return out;
}

/** The heap may trend up this much per 1,000 batches once the UI's history is full and still count as flat. */
const FLAT_HEAP_GROWTH = 0.1;

function renderMemory(m: MemoryOverBatches): string[] {
  const growth = heapGrowth(m);
  return [
    `## Memory over ${m.batches.toLocaleString('en-US')} batches`,
    '',
    `The soak's job (\`bench/soakJob.ts\`: 200 tweets/s, an incremental 30 s window, updateStateByKey and mapWithState over 500 users, checkpoints every 10 batches) on the logical clock, in process, ${m.seconds.toFixed(0)} s; the heap is sampled after a full GC. The Streaming UI keeps the newest ${RETAINED_BATCHES.toLocaleString('en-US')} batches (Spark's \`spark.streaming.ui.retainedBatches\`), so the heap grows until batch ${m.baselineBatch.toLocaleString('en-US')} by design; after that a batch must add nothing.`,
    '',
    ...table(
      [
        'After batch',
        'Heap after GC (MiB)',
        'Median processing of the batches since the last sample (ms)',
        'Store files',
        'Store size (KiB)',
      ],
      m.samples.map((s) => [
        s.batch,
        s.heapMiB.toFixed(1),
        s.medianProcessingMs.toFixed(1),
        s.storeFiles,
        s.storeKiB.toFixed(0),
      ]),
    ),
    '',
    `Heap trend from batch ${m.baselineBatch.toLocaleString('en-US')} on (the least-squares slope of the samples, the last one left out): ${growth >= 0 ? '+' : ''}${formatPercent(growth)} per 1,000 batches of the heap there (target: flat, at most +${formatPercent(FLAT_HEAP_GROWTH)}; **${growth <= FLAT_HEAP_GROWTH ? 'met' : 'not met'}**).`,
    '',
  ];
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
      `${r.placement.workers} worker threads, under \`node --cpu-prof\`. Batch processing times under the ` +
      `profiler: ${summary.batches.map((b) => b.processingTimeMs).join(', ')} ms.`,
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
  const share = (ms: number) => formatPercent(ms / Math.max(1, s.busyMs));
  const byFunction = (rows: RoleSummary['top']) =>
    rows.map((t) => [Math.round(t.ms), share(t.ms), `\`${t.name}\``]);
  return [
    `### ${title}`,
    '',
    `Busy ${Math.round(s.busyMs)} ms of ${Math.round(s.wallMs)} ms profiled (${formatPercent(s.busyMs / s.wallMs)}).`,
    '',
    ...table(
      ['Blame', 'Time (ms)', 'Share of busy'],
      [
        ['garbage collection', Math.round(s.byCategory.gc), share(s.byCategory.gc)],
        ["Sluice's code (`lib/`)", Math.round(s.byCategory.engine), share(s.byCategory.engine)],
        [
          "the job's record functions (`bench/jobs.ts`)",
          Math.round(s.byCategory.job),
          share(s.byCategory.job),
        ],
        ['start-up and Node internals', Math.round(s.byCategory.other), share(s.byCategory.other)],
      ],
    ),
    '',
    ...table(['Self time (ms)', 'Share of busy', 'Function'], byFunction(s.top)),
    '',
    'Including what they call:',
    '',
    ...table(['Total time (ms)', 'Share of busy', 'Function'], byFunction(s.topInclusive)),
    '',
  ];
}
