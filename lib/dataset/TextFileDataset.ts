import { Dataset, type DatasetOrigin, type DatasetSpec, sliceBounds } from './Dataset';
import type { TaskContext } from './TaskContext';

/** The lines of a static text file named in the job, such as a spam list to join against (Spark's textFile). */
export class TextFileDataset extends Dataset<string> {
  readonly type = 'textFile';

  constructor(
    origin: DatasetOrigin,
    readonly path: string,
  ) {
    super(origin);
  }

  /** Rebuilds the dataset inside a task. */
  static fromSpec(spec: DatasetSpec): TextFileDataset {
    return new TextFileDataset({ spec }, spec.args.path as string);
  }

  protected args(): Record<string, unknown> {
    return { path: this.path };
  }

  async compute(partition: number, tc: TaskContext): Promise<string[]> {
    // A UTF-8 byte order mark is no part of the first line, as Hadoop's LineRecordReader skips it.
    const text = (await tc.readText(this.path)).replace(/^\uFEFF/, '');
    const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    const [from, to] = sliceBounds(lines.length, this.numPartitions, partition);
    return lines.slice(from, to);
  }
}
