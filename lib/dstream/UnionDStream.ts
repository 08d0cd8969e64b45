import type { Dataset } from '../dataset/Dataset';
import { unionOf } from '../dataset/unionOf';
import { StreamGraphError } from '../errors';
import { DStream } from './DStream';

/** The records of several streams with the same slide, batch by batch (Spark's UnionDStream). */
export class UnionDStream<T> extends DStream<T> {
  constructor(private readonly parents: readonly DStream<T>[]) {
    super(UnionDStream.first(parents).ssc);
    const slides = new Set(parents.map((p) => p.slideMs));
    if (slides.size > 1) {
      throw new StreamGraphError(
        `union combines its inputs batch by batch, so their slides must be equal; ${slidesDiffer(parents)}`,
        this.origin,
      );
    }
    this.name = 'union';
  }

  private static first<T>(parents: readonly DStream<T>[]): DStream<T> {
    if (parents.length === 0) throw new StreamGraphError('union needs at least one stream');
    return parents[0]!;
  }

  get dependencies() {
    return this.parents;
  }

  get slideMs() {
    return this.parents[0]!.slideMs;
  }

  protected async compute(batchTime: number): Promise<Dataset<T> | undefined> {
    const datasets = await Promise.all(this.parents.map((p) => p.getOrCompute(batchTime)));
    const missing = datasets.indexOf(undefined);
    if (missing >= 0) {
      throw new StreamGraphError(
        `union: stream ${this.parents[missing]!.name} has no dataset at ${batchTime} ms`,
      );
    }
    return unionOf(datasets as Dataset<T>[]);
  }
}

/** `w slides every 2000 ms but lines every 1000 ms`: the first input against those that slide otherwise. */
export function slidesDiffer(parents: readonly DStream<any>[]): string {
  const first = parents[0]!; // called with inputs whose slides differ: at least two
  const others = parents.filter((p) => p.slideMs !== first.slideMs);
  return `${first.name} slides every ${first.slideMs} ms but ${others.map((p) => `${p.name} every ${p.slideMs} ms`).join(', ')}`;
}
