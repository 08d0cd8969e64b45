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

/** The least-squares slope of `ys` against `xs` (their index when none are given); 0 for fewer than two points. */
export function slope(ys: readonly number[], xs: readonly number[] = ys.map((_, i) => i)): number {
  const n = ys.length;
  if (n < 2) return 0;
  const meanX = xs.reduce((a, b) => a + b, 0) / n;
  const meanY = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - meanX) * (ys[i]! - meanY);
    den += (xs[i]! - meanX) ** 2;
  }
  return num / den;
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
