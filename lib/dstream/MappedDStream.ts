import type { Dataset } from '../dataset/Dataset';
import type { MapKind } from '../dataset/MapPartitionsDataset';
import { DStream } from './DStream';

/**
 * A record-level transformation of one parent: map, flatMap, filter, mapPartitions, glom, mapValues or
 * flatMapValues (Spark's MappedDStream and its siblings, which differ only in the dataset method they call).
 */
export class MappedDStream<T, U> extends DStream<U> {
  private readonly fnId: string;

  constructor(
    private readonly parent: DStream<T>,
    private readonly kind: MapKind,
    fn: ((...args: any[]) => unknown) | undefined,
  ) {
    super(parent.ssc);
    this.fnId = fn ? this.ssc.graphScope.register(fn) : '';
    this.name = kind;
    // A filter passes records on as they are: groups stay groups for `print`.
    if (kind === 'filter') this.valueShape = parent.valueShape;
  }

  get dependencies() {
    return [this.parent];
  }

  get slideMs() {
    return this.parent.slideMs;
  }

  protected async compute(batchTime: number): Promise<Dataset<U> | undefined> {
    const ds = (await this.parent.getOrCompute(batchTime)) as Dataset<any> | undefined;
    if (!ds) return undefined;
    if (this.kind === 'glom') return ds.glom() as Dataset<any>;
    // Every kind but glom is a dataset method of the same name taking the function's id.
    return (ds as any)[this.kind]({ fnId: this.fnId });
  }
}
