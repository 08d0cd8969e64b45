import type { JobIssue } from '../errors';
import { OutputPlace } from './OutputPlace';

/**
 * Outputs that would write over each other: two with the same path (two `saveAsTextFiles` of one prefix and
 * suffix replace each other's folders), or one inside the other (a `jsonl` file `out` and a prefix `out/x`, which
 * needs `out` to be a folder: ENOTDIR at run time). Each collision is reported at the later output's field,
 * naming the earlier output.
 */
export function outputCollisionIssues(doc: Record<string, unknown>): JobIssue[] {
  const issues: JobIssue[] = [];
  const places = OutputPlace.ofDocument(doc);
  places.forEach((later, i) => {
    // The first output it collides with is enough to say what to change.
    for (const earlier of places.slice(0, i)) {
      const collision = earlier.collisionWith(later);
      if (collision === undefined) continue;
      const other = `outputs[${earlier.index}] (${earlier.description})`;
      issues.push({
        path: later.jsonPath,
        message:
          collision === 'nested'
            ? `collides with ${other}: one would write inside the other's file or folders (a path cannot be ` +
              'both a file and a folder); give them paths where neither lies inside the other'
            : later.field === 'path'
              ? `writes the same file as ${other}: the lines of both would mix in it; give one of them another path`
              : `writes the same folders as ${other}: each batch's files of one would replace the other's; give ` +
                'one of them another prefix or suffix',
        value: later.written,
      });
      break;
    }
  });
  return issues;
}
