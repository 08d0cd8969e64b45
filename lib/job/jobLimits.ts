import type { JobIssue } from '../errors';
import { entriesOf, isObject, isPositiveInteger } from './documentValues';
import { childPath, jsonPath } from './JobDocument';

// How long a window may be is the engine's to say: see `MAX_WINDOW_BATCHES` in `lib/dstream/WindowedDStream.ts`.

/**
 * Ops in a whole document, streams and datasets together. A DStream graph is walked recursively every batch, so
 * a chain of ops is bounded, as are the lists the schema bounds (streams, ops of one stream, outputs). Real jobs
 * have tens of ops; a job that needs more splits into several jobs or is written as a TypeScript job module.
 */
export const MAX_OPS = 1000;

/** The longest batch interval, in ms: the schema's maximum of `batchIntervalMs`. */
export const MAX_BATCH_INTERVAL_MS = 3_600_000;

/** The most partitions of a job: the schema's maximum of `defaultPartitions`, a stage's 256 tasks. */
export const MAX_PARTITIONS = 256;

/** Problems reported at once: a broken document should not produce a message of megabytes. */
export const MAX_ISSUES_SHOWN = 100;

/** Unknown names that get "did you mean" suggestions; past these, a message names only what is unknown. */
export const MAX_SUGGESTIONS = 20;

/** Records a generator may produce per batch, and bytes of lines per batch: one batch is held in memory. */
export const MAX_GENERATED_RECORDS_PER_BATCH = 1_000_000;
export const MAX_GENERATED_BYTES_PER_BATCH = 256 * 1024 * 1024;

/** The most records a second a generator source may make: the schema's maximum of `ratePerSec`. */
export const MAX_GENERATOR_RATE_PER_SEC = 1_000_000;

/**
 * The highest whole rate a generator source of this kind and line length may be given at a batch interval: the
 * schema's maximum, and what keeps one batch within the records and, for lines, the bytes a batch may hold (see
 * {@link generatorBatchIssues}). What `sluice tune` may feed a job's generators.
 */
export function maxGeneratorRatePerSec(
  spec: { readonly kind?: unknown; readonly lineBytes?: unknown },
  intervalMs: number,
): number {
  const perSec = (records: number) => Math.floor((records * 1000) / intervalMs);
  let max = Math.min(MAX_GENERATOR_RATE_PER_SEC, perSec(MAX_GENERATED_RECORDS_PER_BATCH));
  if (spec.kind === 'lines') {
    const lineBytes = typeof spec.lineBytes === 'number' ? spec.lineBytes : 100;
    max = Math.min(max, perSec(Math.floor(MAX_GENERATED_BYTES_PER_BATCH / lineBytes)));
  }
  return max;
}

/**
 * Levels of nesting of any value in a document (args, records): every consumer of a value, from a built-in's
 * args check to JSON serialization, may walk it recursively.
 */
export const MAX_NESTING = 100;

/** Entries of `sources`, `datasets`, `streams` and `outputs` each: the schema's `maxProperties` and `maxItems`. */
const MAX_ENTRIES = 1000;

/** True when no section of the document has more entries than the schema allows. */
export function withinEntryLimits(doc: Record<string, unknown>): boolean {
  const sizes = [doc.sources, doc.datasets, doc.streams, doc.outputs].map((section) =>
    Array.isArray(section) ? section.length : isObject(section) ? Object.keys(section).length : 0,
  );
  return sizes.every((size) => size <= MAX_ENTRIES);
}

/** The total op count, reported at the first op past {@link MAX_OPS}. */
export function sizeIssues(doc: Record<string, unknown>): JobIssue[] {
  let ops = 0;
  for (const section of ['datasets', 'streams'] as const) {
    for (const [name, spec] of entriesOf(doc[section])) {
      if (!isObject(spec) || !Array.isArray(spec.ops)) continue;
      if (ops + spec.ops.length > MAX_OPS) {
        const index = MAX_OPS - ops;
        return [
          {
            path: jsonPath(section, name, 'ops', index),
            message: `is op number ${MAX_OPS + 1} of the job, which may have at most ${MAX_OPS} ops in all; split it into several jobs, or write it as a TypeScript job module`,
          },
        ];
      }
      ops += spec.ops.length;
    }
  }
  return [];
}

/** The path of the first value nested deeper than {@link MAX_NESTING}, found without recursion; or undefined. */
export function tooDeepPath(doc: unknown): string | undefined {
  interface Visit {
    readonly value: unknown;
    readonly depth: number;
    readonly key: string | number;
    readonly parent: Visit | undefined;
  }
  const pending: Visit[] = [{ value: doc, depth: 0, key: '', parent: undefined }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, depth } = next;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_NESTING) {
      const segments: (string | number)[] = [];
      for (let at: Visit | undefined = next; at?.parent !== undefined; at = at.parent)
        segments.unshift(at.key);
      // The first levels say where in the document; the hundred after them say nothing more.
      return `${jsonPath(...segments.slice(0, 8))}…`;
    }
    const children: [string | number, unknown][] = Array.isArray(value)
      ? value.map((v, i) => [i, v] as [number, unknown])
      : Object.entries(value);
    for (const [key, child] of children) pending.push({ value: child, depth: depth + 1, key, parent: next });
  }
  return undefined;
}

/** A generator's batch, and its pool, are held in memory at once: bound their records, and for lines their bytes. */
export function generatorBatchIssues(doc: Record<string, unknown>): JobIssue[] {
  const issues: JobIssue[] = [];
  const interval = doc.batchIntervalMs;
  if (!isPositiveInteger(interval)) return issues;
  for (const [name, spec] of entriesOf(doc.sources)) {
    if (!isObject(spec) || spec.type !== 'generator' || typeof spec.ratePerSec !== 'number') continue;
    const records = Math.ceil((spec.ratePerSec * interval) / 1000);
    const path = jsonPath('sources', name);
    if (records > MAX_GENERATED_RECORDS_PER_BATCH) {
      issues.push({
        path: childPath(path, 'ratePerSec'),
        message: `makes ${records} records per batch of ${interval} ms, more than the ${MAX_GENERATED_RECORDS_PER_BATCH} a batch may hold; lower the rate or the batch interval`,
        value: spec.ratePerSec,
      });
      continue;
    }
    const lineBytes = typeof spec.lineBytes === 'number' ? spec.lineBytes : 100;
    if (spec.kind === 'lines' && records * lineBytes > MAX_GENERATED_BYTES_PER_BATCH) {
      issues.push({
        path: childPath(path, 'lineBytes'),
        message: `makes ${records} lines of ${lineBytes} bytes per batch, more than the ${MAX_GENERATED_BYTES_PER_BATCH / 1024 / 1024} MiB a batch may hold; lower the rate, the line length or the batch interval`,
        value: spec.lineBytes,
      });
    }
    const pool = typeof spec.poolRecords === 'number' ? spec.poolRecords : 0;
    if (spec.kind === 'lines' && pool * lineBytes > MAX_GENERATED_BYTES_PER_BATCH) {
      issues.push({
        path: childPath(path, 'poolRecords'),
        message: `keeps a pool of ${pool} lines of ${lineBytes} bytes in memory, more than the ${MAX_GENERATED_BYTES_PER_BATCH / 1024 / 1024} MiB a batch may hold; lower poolRecords or the line length`,
        value: spec.poolRecords,
      });
    }
  }
  return issues;
}
