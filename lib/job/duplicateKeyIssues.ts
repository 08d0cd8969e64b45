import { visit } from 'jsonc-parser';
import type { JobIssue } from '../errors';
import { childPath } from './JobDocument';

/** At most this many duplicates are listed: the rest of a document of copies would say the same. */
const MAX_DUPLICATES = 20;

/**
 * The keys of a JSON text that appear twice in one object, each at its JSON path (`streams.counts`). JSON.parse
 * keeps the last of them without a word, so a job file with two streams of one name ran the second alone, and an
 * op with `windowMs` given twice ran with whichever came last. A key counts as JSON.parse decodes it, so `"a"` and
 * `"\u0061"` are one. `text` must be valid JSON nested no deeper than a job may be (see `tooDeepPath`): the
 * scanner (jsonc-parser's) recurses once per level.
 */
export function duplicateKeyIssues(text: string): JobIssue[] {
  const issues: JobIssue[] = [];
  // The keys seen so far in each object being read, innermost last.
  const open: Set<string>[] = [];
  visit(text, {
    onObjectBegin: () => {
      open.push(new Set());
    },
    onObjectEnd: () => {
      open.pop();
    },
    onObjectProperty: (key, _offset, _length, _line, _column, pathOfObject) => {
      const keys = open.at(-1)!; // a property is read inside its object
      if (keys.has(key) && issues.length < MAX_DUPLICATES) {
        issues.push({
          path: childPath('', ...pathOfObject(), key),
          message:
            'is given twice in one object; JSON keeps only the last, and the first would be dropped without a ' +
            'word: remove one, or give each its own name',
        });
      }
      keys.add(key);
    },
  });
  return issues;
}
