/** Small statistics for the benchmark: medians of repeated timings. */

/** The median of `values` (the mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** The `p`-th percentile of `values` by linear interpolation between closest ranks; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

/** A rate in records a second, rounded to three significant digits and grouped: `1 230 000`. */
export function formatRate(recordsPerSec: number): string {
  if (!Number.isFinite(recordsPerSec)) return 'n/a';
  return roundSignificant(recordsPerSec, 3).toLocaleString('en-US').replaceAll(',', ' ');
}

/** `x` rounded to `digits` significant digits. */
export function roundSignificant(x: number, digits: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const scale = 10 ** (digits - Math.ceil(Math.log10(Math.abs(x))));
  return Math.round(x * scale) / scale;
}

/** A ratio as a percentage with one decimal: `12.3%`. */
export function formatPercent(ratio: number): string {
  return Number.isFinite(ratio) ? `${(ratio * 100).toFixed(1)}%` : 'n/a';
}
