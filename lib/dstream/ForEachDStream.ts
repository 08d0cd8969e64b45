import type { Dataset } from '../dataset/Dataset';
import { FnScope } from '../dataset/FnScope';
import { DStream } from './DStream';

/** What an output operation does with a batch's dataset; it runs in the driver. */
export type OutputFn<T> = (dataset: Dataset<T>, batchTime: number) => void | Promise<void>;

/** One output operation (Spark's ForEachDStream): each batch, one job that hands the dataset to a function. */
export class ForEachDStream<T> extends DStream<void> {
  constructor(
    private readonly parent: DStream<T>,
    private readonly outputFn: OutputFn<T>,
    name: string,
  ) {
    super(parent.ssc);
    this.name = name;
    this.ssc.graph.addOutput(this);
  }

  get dependencies() {
    return [this.parent];
  }

  get slideMs() {
    return this.parent.slideMs;
  }

  protected async compute(): Promise<undefined> {
    return undefined;
  }

  /** The job of this output for a batch, or undefined when the parent has no dataset at that time. */
  async generateJob(batchTime: number): Promise<(() => Promise<void>) | undefined> {
    const dataset = await this.parent.getOrCompute(batchTime);
    if (!dataset) return undefined;
    // Functions created inside the body can only live here: the body has side effects, so no worker may re-run
    // it to learn them. Stages that use them run in the driver.
    const scope = new FnScope(this.ssc.functions, `${this.id}@${batchTime}`, true);
    return async () => {
      await this.outputFn(dataset.inScope(scope), batchTime);
    };
  }

  protected override forget(batchTime: number): void {
    this.ssc.functions.deleteScope(`${this.id}@${batchTime}`);
  }
}
