import type { Dataset } from '../../lib/dataset/Dataset';
import { DStream } from '../../lib/dstream/DStream';
import { defineJob, type JobModule } from '../../lib/job/JobModule';

/** A test-only stream that passes its parent through but has no dataset at `missingAtMs`. */
export class GappyDStream<T> extends DStream<T> {
  constructor(
    private readonly parent: DStream<T>,
    private readonly missingAtMs: number,
  ) {
    super(parent.ssc);
    this.name = 'gappy';
  }

  get dependencies() {
    return [this.parent];
  }

  get slideMs() {
    return this.parent.slideMs;
  }

  protected async compute(batchTime: number): Promise<Dataset<T> | undefined> {
    return batchTime === this.missingAtMs ? undefined : this.parent.getOrCompute(batchTime);
  }
}

type Pairs = DStream<[string, number]>;

/** The operations over two parents whose second one has no dataset at 2000 ms. */
const operations: Record<string, (a: () => Pairs, b: Pairs) => DStream<any>> = {
  transform: (_a, b) => b.transform((ds) => ds),
  transformWith: (a, b) => a().transformWith(b, (x, y) => x.union(y)),
  join: (a, b) => a().join(b),
  leftOuterJoin: (a, b) => a().leftOuterJoin(b),
  rightOuterJoin: (a, b) => a().rightOuterJoin(b),
  fullOuterJoin: (a, b) => a().fullOuterJoin(b),
  // (a key b lacks, so that the batch before the gap has records)
  subtractByKey: (a, b) =>
    a()
      .map(([, v]) => ['j', v] as [string, number])
      .subtractByKey(b),
  cogroup: (a, b) => a().cogroup(b),
  union: (a, b) => a().union(b),
};

/** One job per operation: batch 1000 ms computes, batch 2000 ms meets the missing parent. */
export const cases: Record<string, JobModule> = Object.fromEntries(
  Object.entries(operations).map(([name, operation]) => [
    name,
    defineJob({ batchIntervalMs: 1000, defaultPartitions: 2, maxTaskAttempts: 1 }, (ssc) => {
      // Made only when the operation uses it: a stream no output reads is never started.
      const a = () => ssc.queueStream<[string, number]>([[['k', 1]], [['k', 2]], [['k', 3]]]);
      const b = new GappyDStream(
        ssc.queueStream<[string, number]>([[['k', 10]], [['k', 20]], [['k', 30]]]),
        2000,
      );
      operation(a, b).collectBatches('out');
    }),
  ]),
);
