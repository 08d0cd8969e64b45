/**
 * A source's kind as a sentence says it, with its article: `a socket source`, `an s3Prefix source` (read
 * "ess-three"). Only the kinds Sluice makes are known; any other takes `a`, as it did before, so a checkpoint's
 * words for a source of a job's own kind stay what they were (see `checkpointMismatch`).
 */
export function sourceKindWords(kind: string): string {
  return `${kind === 's3Prefix' ? 'an' : 'a'} ${kind} source`;
}
