/**
 * A batch's date as the Streaming UI writes it (`batchDateLabel` of `lib/ui/static/pageFormat.js`, a browser file
 * the engine cannot import; a test holds the two equal): UTC, with milliseconds when the interval is under a second.
 *
 * @example
 * batchDateLabel(Date.UTC(2026, 10, 30, 21, 40, 3, 250), 500); // '2026/11/30 21:40:03.250'
 */
export function batchDateLabel(dueAtMs: number, batchIntervalMs: number): string {
  const iso = new Date(dueAtMs).toISOString();
  return `${iso.slice(0, 10).replaceAll('-', '/')} ${iso.slice(11, batchIntervalMs < 1000 ? 23 : 19)}`;
}

/**
 * How a log line names a batch after the word "batch": its stream time, `3000 ms`, and on the real clock (`dueAtMs`
 * given) the date the Streaming UI shows too, `3000 ms (2026/11/30 21:40:03 UTC)`, so a line and the UI's row of
 * the batch are found from each other. On the logical clock (--fast) batches fall due at no date worth showing.
 */
export function batchLogLabel(
  batchTime: number,
  dueAtMs: number | undefined,
  batchIntervalMs: number,
): string {
  const date = dueAtMs === undefined ? '' : ` (${batchDateLabel(dueAtMs, batchIntervalMs)} UTC)`;
  return `${batchTime} ms${date}`;
}
