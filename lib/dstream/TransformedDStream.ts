import { BodyPersistence } from '../dataset/BodyPersistence';
import { Dataset } from '../dataset/Dataset';
import { FnScope } from '../dataset/FnScope';
import { PlaceholderDataset } from '../dataset/PlaceholderDataset';
import { StreamGraphError, UserFunctionError } from '../errors';
import { DStream } from './DStream';
import { slidesDiffer } from './UnionDStream';

/** A dataset-to-dataset function over one or more streams' datasets of the same batch. */
export type TransformFn<U> = (datasets: Dataset<any>[], batchTime: number) => Dataset<U>;

/**
 * Applies any dataset-to-dataset function every batch (Spark's TransformedDStream): `transform`,
 * `transformWith`, and the joins. Functions the body creates are named in a scope of their own
 * (`n7@2000/0`, …); a worker that meets such an id re-runs the body on placeholders to learn it, so the body
 * must build the same graph every time for the same batch time, and must not run actions. The functions a worker
 * learns so capture the worker's values, not the driver's: data the driver changes between batches travels as a
 * dataset the body makes (`parallelize`), whose records the plan carries.
 */
export class TransformedDStream<U> extends DStream<U> {
  /** What the body persisted, by batch time, until the batch is forgotten. */
  private readonly bodies = new Map<number, BodyPersistence>();

  constructor(
    private readonly parents: readonly DStream<any>[],
    private readonly transformFn: TransformFn<U>,
  ) {
    super(TransformedDStream.first(parents).ssc);
    if (new Set(parents.map((p) => p.slideMs)).size > 1) {
      throw new StreamGraphError(
        `transformWith, the joins and cogroup combine their inputs batch by batch, so their slides must be equal; ${slidesDiffer(parents)}`,
        this.origin,
      );
    }
    this.name = 'transform';
    const pattern = new RegExp(`^${this.id}@(\\d+)/`);
    this.ssc.functions.addDeriver((fnId) => {
      const match = pattern.exec(fnId);
      if (!match) return false;
      this.rederive(Number(match[1]));
      return true;
    });
  }

  private static first(parents: readonly DStream<any>[]): DStream<any> {
    if (parents.length === 0) throw new StreamGraphError('transform needs at least one stream');
    return parents[0]!;
  }

  get dependencies() {
    return this.parents;
  }

  get slideMs() {
    return this.parents[0]!.slideMs;
  }

  protected async compute(batchTime: number): Promise<Dataset<U> | undefined> {
    const datasets = await Promise.all(this.parents.map((p) => p.getOrCompute(batchTime)));
    // As Spark's TransformedDStream: a parent without a dataset fails the batch; skipping it would silently
    // drop the other parents' records of that batch (a join would lose one side).
    const missing = datasets.indexOf(undefined);
    if (missing >= 0) {
      throw new StreamGraphError(
        `${this.name} (${this.id}): its parent stream ${this.parents[missing]!.name} has no dataset at ${batchTime} ms, so the batch cannot be computed`,
      );
    }
    // A window over this stream reads its dataset, and so what the body persisted, as long as it is remembered.
    const body = new BodyPersistence(this.id, batchTime, batchTime + this.rememberMs, this.rememberedUntil);
    this.bodies.set(batchTime, body);
    const scope = this.scopeAt(batchTime, body);
    const result = this.ssc.inBody(
      scope,
      () =>
        this.transformFn(
          (datasets as Dataset<any>[]).map((d) => d.inScope(scope)),
          batchTime,
        ),
      `the transform function of stream ${this.name} (${this.id}) for batch ${batchTime} ms`,
    );
    if (!(result instanceof Dataset)) {
      throw new UserFunctionError(
        `the transform function of stream ${this.name} (${this.id}) returned ${
          result === undefined ? 'nothing' : typeof result
        } for batch ${batchTime} ms; it must return a dataset`,
      );
    }
    return result;
  }

  protected override forget(batchTime: number): void {
    this.ssc.functions.deleteScope(`${this.id}@${batchTime}`);
    this.unpersistBody(this.bodies.get(batchTime)?.datasets ?? []);
    this.bodies.delete(batchTime);
  }

  private scopeAt(batchTime: number, body?: BodyPersistence): FnScope {
    return new FnScope(this.ssc.functions, `${this.id}@${batchTime}`, false, undefined, body);
  }

  /** Re-runs the body on placeholders so this process learns the function ids it creates at `batchTime`. */
  private rederive(batchTime: number): void {
    const scope = this.scopeAt(batchTime);
    const placeholders = this.parents.map(
      () => new PlaceholderDataset({ ctx: this.ssc.placeholderContext, scope, deps: [], numPartitions: 1 }),
    );
    this.ssc.inBody(scope, () => this.transformFn(placeholders, batchTime));
  }
}
