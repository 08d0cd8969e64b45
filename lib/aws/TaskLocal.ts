import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A value of the task a worker is running (its logger, its held-back reports), found from anywhere in the task's
 * async calls. Lambda runs one invocation at a time in a container, so the value sits in a plain slot; only a task
 * that starts while another runs (the development host runs several invocations in one process) is carried by an
 * `AsyncLocalStorage`. Once any `AsyncLocalStorage` has run, Node 20 calls a hook for every promise of the thread,
 * which made a JSONata expression cost half as much again: one task at a time never pays it.
 *
 * A task in the slot is found wherever no storage holds a value: in its own calls, since storage only ever runs for
 * the tasks that start while it runs.
 */
export class TaskLocal<T> {
  private readonly storage = new AsyncLocalStorage<T>();
  private slot: { readonly value: T } | undefined;

  /** Runs `run` as a task whose value is `value`. */
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

  /** The running task's value, or undefined outside a task. */
  get(): T | undefined {
    return this.storage.getStore() ?? this.slot?.value;
  }
}
