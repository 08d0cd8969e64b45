import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A value of the run in progress (a worker's task: its logger, its held-back reports; the driver's output job that
 * a `foreachRDD` function runs in), found from anywhere in the run's async calls. When runs do not overlap (Lambda
 * runs one invocation at a time in a container; a job with `concurrentJobs` 1 runs one output job at a time) the
 * value sits in a plain slot; only a run that starts while another runs (the development host runs several
 * invocations in one process, `concurrentJobs` above 1 several output jobs) is carried by an `AsyncLocalStorage`.
 * Once any `AsyncLocalStorage` has run, Node 20 calls a hook for every promise of the thread, for good: it made a
 * JSONata expression cost half as much again. Runs one at a time never pay it.
 *
 * A run in the slot is found wherever no storage holds a value: in its own calls, since storage only ever runs for
 * the runs that start while it runs.
 */
export class TaskLocal<T> {
  private readonly storage = new AsyncLocalStorage<T>();
  private slot: { readonly value: T } | undefined;

  /** Runs `run` as a run whose value is `value`. */
  async run<R>(value: T, run: () => Promise<R>): Promise<R> {
    if (this.slot !== undefined) return this.storage.run(value, run);
    const slot = { value };
    this.slot = slot;
    try {
      return await run();
    } finally {
      if (this.slot === slot) this.slot = undefined;
    }
  }

  /** The value of the run in progress, or undefined outside any. */
  get(): T | undefined {
    return this.storage.getStore() ?? this.slot?.value;
  }
}
