import { GeneratorSource } from '../source/GeneratorSource';
import type { DirectSource } from '../source/Source';
import { type ConsumeChunk, Dataset, type DatasetOrigin, type DatasetSpec, sliceBounds } from './Dataset';
import type { TaskContext } from './TaskContext';

/** Rebuilt direct sources, one per distinct spec in this process: building a generator's tables costs ms. */
const sources = new Map<string, DirectSource>();

function directSource(spec: DirectSource['directSpec']): DirectSource {
  const key = JSON.stringify(spec);
  let source = sources.get(key);
  if (!source) {
    if (spec.kind !== 'generator') throw new Error(`unknown direct source kind ${spec.kind}`);
    source = new GeneratorSource(spec.options as never) as DirectSource;
    sources.set(key, source);
  }
  return source;
}

/**
 * A batch of a direct source (the generator), as an index range: each task makes its own partition, records
 * [first + ⌊i·n/p⌋, first + ⌊(i+1)·n/p⌋), the same split an input block would have. No record crosses
 * threads or touches storage before the first transformation.
 */
export class DirectInputDataset<T = unknown> extends Dataset<T> {
  readonly type = 'directInput';

  constructor(
    origin: DatasetOrigin,
    readonly source: DirectSource['directSpec'],
    /** The index of the batch's first record (not `first`, which is the action every dataset has). */
    readonly firstIndex: number,
    readonly end: number,
  ) {
    super(origin);
  }

  /** Rebuilds the dataset inside a task. */
  static fromSpec(spec: DatasetSpec): DirectInputDataset {
    const { source, first, end } = spec.args as {
      source: DirectSource['directSpec'];
      first: number;
      end: number;
    };
    return new DirectInputDataset({ spec }, source, first, end);
  }

  protected args(): Record<string, unknown> {
    return { source: this.source, first: this.firstIndex, end: this.end };
  }

  compute(partition: number): T[] {
    const [from, to] = sliceBounds(this.end - this.firstIndex, this.numPartitions, partition);
    return this.records(directSource(this.source), from, to) as T[];
  }

  /** The partition's records {@link CHUNK_RECORDS} at a time, each chunk made when its turn comes. */
  async forEachChunk(partition: number, _tc: TaskContext, consume: ConsumeChunk): Promise<void> {
    const [from, to] = sliceBounds(this.end - this.firstIndex, this.numPartitions, partition);
    const source = directSource(this.source);
    for (let start = from; start < to; start += CHUNK_RECORDS) {
      const pending = consume(this.records(source, start, Math.min(to, start + CHUNK_RECORDS)));
      if (pending) await pending;
    }
  }

  /** Records [from, to) of the batch, counted from its first. */
  private records(source: DirectSource, from: number, to: number): unknown[] {
    const out = new Array<unknown>(to - from);
    for (let i = from; i < to; i++) out[i - from] = source.recordAt(this.firstIndex + i);
    return out;
  }
}

/** Records made per chunk: a few hundred KiB of 100-byte lines, which die young (see `Dataset.forEachChunk`). */
const CHUNK_RECORDS = 4096;
