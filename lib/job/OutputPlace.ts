import { posix } from 'node:path';
import { isObject } from './documentValues';
import { jsonPath } from './JobDocument';
import { outputPathProblem } from './outputPathProblem';

/** A batch time for the folder a `saveAsTextFiles` output writes, when one of its folders stands for all. */
const SAMPLE_BATCH_TIME = 1000;

/**
 * Where one output of a job document writes, relative to the output folder: a `jsonl` file, or the folders
 * `prefix-<batchTime>[.suffix]` of a `saveAsTextFiles` output. It tells whether a path is at or inside what the
 * output writes, so that two outputs (or an output and the store) that would overwrite each other, or need one
 * path to be both a file and a folder, are found before a batch runs.
 */
export class OutputPlace {
  private constructor(
    /** The output's index in `outputs`. */
    readonly index: number,
    /** The field that holds the path: `path` or `prefix`. */
    readonly field: 'path' | 'prefix',
    /** The path as written in the document. */
    readonly written: string,
    /** A path the output writes: the file, or the folder of one batch. */
    readonly sample: string,
    /** Whether a path is at or inside what the output writes. */
    readonly contains: (path: string) => boolean,
    /** What the output writes, in words: `jsonl to "out/counts.jsonl"`. */
    readonly description: string,
  ) {}

  /** The JSON path of the field that holds the output's path. */
  get jsonPath(): string {
    return jsonPath('outputs', this.index, this.field);
  }

  /**
   * The places of a document's `jsonl` outputs to a file and its `saveAsTextFiles` outputs, leaving out those
   * whose path another check refuses (absolute, climbing out: `outputPathProblem`).
   */
  static ofDocument(doc: Record<string, unknown>): OutputPlace[] {
    const places: OutputPlace[] = [];
    (Array.isArray(doc.outputs) ? doc.outputs : []).forEach((output: unknown, index) => {
      if (!isObject(output)) return;
      if (output.type === 'jsonl' && typeof output.path === 'string' && output.path !== '') {
        if (outputPathProblem(output.path, true) !== undefined) return;
        const file = normalized(output.path);
        places.push(
          new OutputPlace(
            index,
            'path',
            output.path,
            file,
            (path) => isAtOrInside(path, file),
            `jsonl to ${JSON.stringify(file)}`,
          ),
        );
      } else if (
        output.type === 'saveAsTextFiles' &&
        typeof output.prefix === 'string' &&
        output.prefix !== ''
      ) {
        if (outputPathProblem(output.prefix, false) !== undefined) return;
        const prefix = normalized(output.prefix);
        const suffix = typeof output.suffix === 'string' && output.suffix !== '' ? `.${output.suffix}` : '';
        const folders = new RegExp(`^${escaped(prefix)}-\\d+${escaped(suffix)}(?:/|$)`);
        places.push(
          new OutputPlace(
            index,
            'prefix',
            output.prefix,
            `${prefix}-${SAMPLE_BATCH_TIME}${suffix}`,
            (path) => folders.test(path),
            `saveAsTextFiles to ${JSON.stringify(`${prefix}-<batchTime>${suffix}`)}`,
          ),
        );
      }
    });
    return places;
  }

  /** How this place and `other` collide: `same` paths, one `nested` in the other, or undefined when apart. */
  collisionWith(other: OutputPlace): 'same' | 'nested' | undefined {
    if (this.field === other.field && this.sample === other.sample) return 'same';
    return this.contains(other.sample) || other.contains(this.sample) ? 'nested' : undefined;
  }
}

/** Whether `path` is `place` or inside it; the empty path is the whole folder. */
export function isAtOrInside(path: string, place: string): boolean {
  return place === '' || path === place || path.startsWith(`${place}/`);
}

/** A relative output path in one spelling: `/` separators, no `.` segments, no trailing `/`. */
function normalized(path: string): string {
  const result = posix.normalize(path.replaceAll('\\', '/')).replace(/\/+$/, '');
  return result === '.' ? '' : result;
}

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
