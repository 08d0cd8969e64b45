import type { ConfigResult } from './searchRate';

/** Pads the cells of `rows` into aligned columns, the first left-aligned and the others right-aligned. */
function columns(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '),
    )
    .join('\n');
}

/** `text` cut to `max` characters, with an ellipsis when cut. */
function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The search as a table: one row per configuration, with the rate found and the bottleneck at that rate. */
export function tuneTable(results: readonly ConfigResult[]): string {
  return columns(tuneCells(results));
}

/** The table's cells, the header first: the CLI pads them, the Streaming UI's tune page shows them as they are. */
export function tuneCells(results: readonly ConfigResult[]): string[][] {
  const header = [
    'interval',
    'partitions',
    'estimate/s',
    'sustained/s',
    'total delay',
    'real trials',
    'bottleneck stage',
    'time mostly in',
  ];
  const rows = results.map((r) => {
    const split = r.bottleneck?.split;
    const total = split ? split.computeMs + split.storageMs + split.shuffleMs + split.driverMs : 0;
    const share =
      split && total > 0 ? ` (${Math.round((split[`${r.bottleneck!.mostlyIn}Ms`] / total) * 100)}%)` : '';
    return [
      `${r.intervalMs / 1000} s`,
      String(r.partitions),
      r.estimatePerSec > 0 ? String(r.estimatePerSec) : '-',
      r.error
        ? r.trials.length === 0
          ? 'invalid'
          : 'failed'
        : r.sustainablePerSec !== undefined
          ? `${r.ceilingPerSec !== undefined ? '≥ ' : ''}${r.sustainablePerSec}`
          : 'none',
      r.medianTotalDelayMs !== undefined ? `${Math.round(r.medianTotalDelayMs)} ms` : '-',
      // The real-clock trials, what --max-trials bounds; the logical-clock runs before them are in the JSON.
      String(r.trials.filter((t) => t.clock === 'system').length),
      r.bottleneck ? shorten(r.bottleneck.stage, 60) : '-',
      r.bottleneck ? `${r.bottleneck.mostlyIn}${share}` : '-',
    ];
  });
  return [header, ...rows];
}
