import type { JobIssue } from '../errors';
import { childPath } from './JobDocument';

/** At most this many duplicates are listed: the rest of a document of copies would say the same. */
const MAX_DUPLICATES = 20;

/** An open object of the text (its keys so far, the one whose value is read) or array (the index of its value). */
type Frame =
  | {
      readonly kind: 'object';
      readonly path: string;
      readonly keys: Set<string>;
      expectKey: boolean;
      key: string;
    }
  | { readonly kind: 'array'; readonly path: string; index: number };

/**
 * The keys of a JSON text that appear twice in one object, each at its JSON path (`streams.counts`). JSON.parse
 * keeps the last of them without a word, so a job file with two streams of one name ran the second alone, and an
 * op with `windowMs` given twice ran with whichever came last. `text` must be valid JSON (it is scanned, not
 * parsed: a key counts as JSON.parse decodes it, so `"a"` and `"\u0061"` are one); an explicit stack, any depth.
 */
export function duplicateKeyIssues(text: string): JobIssue[] {
  const issues: JobIssue[] = [];
  const stack: Frame[] = [];
  const valuePath = (): string => {
    const top = stack.at(-1);
    if (top === undefined) return '';
    return top.kind === 'object' ? childPath(top.path, top.key) : childPath(top.path, top.index);
  };
  for (let i = 0; i < text.length && issues.length < MAX_DUPLICATES; i++) {
    const c = text[i];
    if (c === '{')
      stack.push({ kind: 'object', path: valuePath(), keys: new Set(), expectKey: true, key: '' });
    else if (c === '[') stack.push({ kind: 'array', path: valuePath(), index: 0 });
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',') {
      const top = stack.at(-1);
      if (top?.kind === 'object') top.expectKey = true;
      else if (top?.kind === 'array') top.index++;
    } else if (c === '"') {
      const end = endOfString(text, i);
      const top = stack.at(-1);
      if (top?.kind === 'object' && top.expectKey) {
        const key = JSON.parse(text.slice(i, end)) as string;
        if (top.keys.has(key)) {
          issues.push({
            path: childPath(top.path, key),
            message:
              'is given twice in one object; JSON keeps only the last, and the first would be dropped without a ' +
              'word: remove one, or give each its own name',
          });
        }
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = end - 1;
    }
  }
  return issues;
}

/** The index just after the string whose opening quote is at `start`. */
function endOfString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i + 1;
  }
  return text.length;
}
