import type { Dataset } from '../../lib/dataset/Dataset';
import { DStream } from '../../lib/dstream/DStream';

/** A test-only stream that passes its parent through at a slower slide, as a window will (for union checks). */
export class SlowerDStream<T> extends DStream<T> {
  constructor(
    private readonly parent: DStream<T>,
    private readonly factor: number,
  ) {
    super(parent.ssc);
  }

  get dependencies() {
    return [this.parent];
  }

  get slideMs() {
    return this.parent.slideMs * this.factor;
  }

  protected compute(batchTime: number): Promise<Dataset<T> | undefined> {
    return this.parent.getOrCompute(batchTime);
  }
}
