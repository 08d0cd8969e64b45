import { BodyPersistence } from '../dataset/BodyPersistence';
import type { Dataset } from '../dataset/Dataset';
import { FnScope } from '../dataset/FnScope';
import type { OutputJob } from '../scheduler/BatchRun';
import { DStream } from './DStream';

/** What an output operation does with a batch's dataset; it runs in the driver. */
export type OutputFn<T> = (dataset: Dataset<T>, batchTime: number) => void | Promise<void>;

/** An output's job for one batch, run in its batch (see `JobScheduler`). */
export interface OutputJobRun {
  readonly run: (job: OutputJob) => Promise<void>;
  /**
   * True when the function may run actions on datasets it was not handed, so its job also runs as the running
   * output job (see `runInOutputJob`): a function of the user's.
   */
  readonly needsRunningJob: boolean;
}

/** One output operation (Spark's ForEachDStream): each batch, one job that hands the dataset to a function. */
export class ForEachDStream<T> extends DStream<void> {
  /** What each batch's run of the function persisted, by batch time, until the batch is forgotten. */
  private readonly bodies = new Map<number, BodyPersistence>();

  /**
   * @param actsOnItsDataset true for the built-in outputs, whose function runs actions only on the dataset it is
   *   handed (which knows its job), so their jobs need not be the running output job
   */
  constructor(
    private readonly parent: DStream<T>,
    private readonly outputFn: OutputFn<T>,
    name: string,
    private readonly actsOnItsDataset = false,
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
  async generateJob(batchTime: number): Promise<OutputJobRun | undefined> {
    const dataset = await this.parent.getOrCompute(batchTime);
    if (!dataset) return undefined;
    return {
      run: async (job) => {
        // Functions created inside the body can only live here: the body has side effects, so no worker may
        // re-run it to learn them. Stages that use them run in the driver. The scope also names the job, so the
        // body's actions on this dataset, and on datasets made from it, run in its batch.
        // What the function persists and makes belongs to this batch alone (it is not restored after a restart, as
        // in Spark): the batch's tasks may keep it until the batch is done. The dataset it is handed is its stream's,
        // kept as long as that stream remembers the batch (see `BodyPersistence`).
        const body = new BodyPersistence(this.id, batchTime, batchTime, this.rememberedUntil);
        this.bodies.set(batchTime, body);
        const scope = new FnScope(
          this.ssc.functions,
          `${this.id}@${batchTime}`,
          true,
          job,
          body,
          this.origin,
        );
        // Ops the function applies to the graph's datasets (a static lookup table) make their functions here too.
        this.ssc.enterOutputBody(job, scope);
        await this.outputFn(dataset.inScope(scope), batchTime);
      },
      needsRunningJob: !this.actsOnItsDataset,
    };
  }

  /**
   * An output generates no datasets, so it has no previous batch to remember (Spark's ForEachDStream holds no RDDs):
   * only `ssc.remember` holds its parents back, and what they remember on their own account.
   */
  override forgetBound(
    _lastCompletedBatch: number,
    _minRememberMs: number,
    neededAfter: number,
    rememberedAfter: number,
  ): number {
    return Math.min(neededAfter, rememberedAfter);
  }

  /**
   * An output generates no datasets of its own, so the base's walk over them never reaches the batches its function
   * ran for: they are forgotten here, once done (at or before `keepAfter`).
   */
  override clearMetadata(keepAfter: number): number {
    for (const batchTime of [...this.bodies.keys()]) if (batchTime <= keepAfter) this.forget(batchTime);
    return super.clearMetadata(keepAfter);
  }

  protected override forget(batchTime: number): void {
    this.ssc.functions.deleteScope(`${this.id}@${batchTime}`);
    this.unpersistBody(this.bodies.get(batchTime)?.datasets ?? []);
    this.bodies.delete(batchTime);
  }
}
