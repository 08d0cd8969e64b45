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
        `union needs streams with the same slide interval, got ${parents
          .map((p) => `${p.name} every ${p.slideMs} ms`)
          .join(', ')}`,
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
