import type { JobIssue } from '../errors';
import { jsonPath } from './JobDocument';

/**
 * Every number of a document that JSON cannot hold, at its path: JSON.parse reads one beyond ±1.8e308 (`1e400`)
 * as ±Infinity, which the schema catches only where it bounds the field. In a queue's records, an op's `args` or
 * a `zero` it went on as Infinity locally, and as null on AWS, where the stored document is JSON again: either
 * way not the number written, without a word. Paths among `reported` (the schema's, with the same hint) are
 * skipped. Call after `tooDeepPath`: the walk goes as deep as the document.
 */
export function infiniteNumberIssues(doc: unknown, reported: readonly JobIssue[]): JobIssue[] {
  const known = new Set(reported.map((issue) => issue.path));
  const issues: JobIssue[] = [];
  const pending: Array<{ value: unknown; segments: readonly (string | number)[] }> = [
    { value: doc, segments: [] },
  ];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, segments } = next;
    if (typeof value === 'number' && !Number.isFinite(value)) {
      const path = jsonPath(...segments);
      if (!known.has(path)) {
        issues.push({
          path,
          message: `is a number beyond ±1.8e308, such as 1e400, which is too large for JSON and reads as ${value}; write a smaller one`,
          value,
        });
      }
    }
    if (value === null || typeof value !== 'object') continue;
    const children: [string | number, unknown][] = Array.isArray(value)
      ? value.map((v, i) => [i, v] as [number, unknown])
      : Object.entries(value);
    // Pushed in reverse, so the issues come in document order.
    for (let i = children.length - 1; i >= 0; i--) {
      const [key, child] = children[i]!;
      pending.push({ value: child, segments: [...segments, key] });
    }
  }
  return issues;
}
