import type { OutputJob } from '../scheduler/BatchRun';
import type { BodyPersistence } from './BodyPersistence';
import { builtinFunctions, firstByKey, zippedWithIndex } from './builtinFunctions';
import { SAMPLE, samplerOf } from './PartitionSampler';

/** Any user or built-in function a dataset applies to its records. */
export type AnyFn = (...args: any[]) => any;

/**
 * Names functions so a plan can refer to them without shipping code. Every process that runs tasks rebuilds
 * the same stream graph from the same job, so the k-th function registered in a scope gets the same id
 * everywhere: `g/3` for the fourth function of the graph, `n7@2000/1` for the second function created by
 * node n7's transform at batch time 2000.
 */
export class FunctionTable {
  private readonly fns = new Map<string, AnyFn>();
  private readonly derivers: Array<(id: string) => boolean> = [];

  constructor() {
    for (const [id, fn] of Object.entries(builtinFunctions)) this.fns.set(id, fn);
    // `builtin:keyBy:<key function id>` pairs a record with its key by another function of the graph (sortBy's
    // first step); it is derived from that id, so no closure needs a name of its own.
    this.addDeriver((id) => {
      if (!id.startsWith(KEY_BY)) return false;
      this.fns.set(id, keyedBy(this.get(id.slice(KEY_BY.length))));
      return true;
    });
    // `builtin:firstByKey:<asc|desc>:<n>` keeps a partition's n first pairs by key (top, takeOrdered): n is in
    // the id, so every process derives the same function without a closure of the driver's.
    this.addDeriver((id) => {
      const match = /^builtin:firstByKey:(asc|desc):(\d+)$/.exec(id.startsWith(FIRST_BY_KEY) ? id : '');
      if (!match) return false;
      this.fns.set(id, firstByKey(match[1] === 'asc' ? 1 : -1, Number(match[2])));
      return true;
    });
    // `sample`'s settings and `zipWithIndex`'s partition offsets are in their ids, for the same reason.
    this.addDeriver((id) => {
      const sampler = id.startsWith(SAMPLE) ? samplerOf(id) : undefined;
      if (!sampler) return false;
      this.fns.set(id, sampler);
      return true;
    });
    this.addDeriver((id) => {
      const match = /^builtin:zipWithIndex:(\d+(?:,\d+)*)$/.exec(id.startsWith(ZIP_WITH_INDEX) ? id : '');
      if (!match) return false;
      this.fns.set(id, zippedWithIndex(match[1]!.split(',').map(Number)));
      return true;
    });
  }

  /** Records `fn` under `id`. */
  set(id: string, fn: AnyFn): void {
    this.fns.set(id, fn);
  }

  /**
   * Adds a way to recreate missing dynamic functions (a transform re-run on placeholders). It returns true when
   * it recognised the id and registered it.
   */
  addDeriver(derive: (id: string) => boolean): void {
    this.derivers.push(derive);
  }

  /** The function registered under `id`, re-deriving dynamic ones on demand. */
  get(id: string): AnyFn {
    let fn = this.fns.get(id);
    if (fn === undefined) {
      for (const derive of this.derivers) if (derive(id)) break;
      fn = this.fns.get(id);
    }
    if (fn === undefined) {
      throw new Error(
        `function ${id} is not known to this process; every worker must build the same stream graph from the same job`,
      );
    }
    return fn;
  }

  /** Forgets the dynamic functions of every scope whose prefix matches, when their batch is done. */
  deleteScope(prefix: string): void {
    for (const id of this.fns.keys()) if (id.startsWith(`${prefix}/`)) this.fns.delete(id);
  }

  /** How many functions are held (tests check that batches do not leak them). */
  get size(): number {
    return this.fns.size;
  }
}

/** A naming scope: functions registered in it are numbered in creation order. */
export class FnScope {
  private next = 0;

  /**
   * @param prefix the scope's id prefix, such as `g` or `n7@2000`
   * @param driverOnly true when workers cannot recreate this scope's functions (they were created inside
   *   foreachRDD, whose body has side effects), so stages that use them run in the driver
   * @param job the output job whose body this scope is (a foreachRDD's): actions on its datasets, and on
   *   datasets made from them, run in that job's batch
   * @param body set when the scope is a stream's body for one batch (a transform's or a foreachRDD's function):
   *   the datasets persisted in it are named and unpersisted with that batch
   * @param origin where the output whose body this scope is was written (`job.ts:12 (foreachRDD)`): a failure of
   *   a dataset the body made names it (see `StreamingContext.runJob`)
   */
  constructor(
    readonly table: FunctionTable,
    readonly prefix: string,
    readonly driverOnly = false,
    readonly job?: OutputJob,
    readonly body?: BodyPersistence,
    readonly origin?: string,
  ) {}

  /** True for the graph's scope (`g`), whose functions every process registers while it builds the job. */
  get isGraph(): boolean {
    return this.prefix === GRAPH_SCOPE;
  }

  /** Registers a function and returns its id. */
  register(fn: AnyFn): string {
    if (typeof fn !== 'function') throw new TypeError(`expected a function, got ${typeof fn}`);
    const id = `${this.prefix}/${this.next++}`;
    this.table.set(id, fn);
    return id;
  }
}

/** The prefix of the id of a function that pairs a record with its key: `builtin:keyBy:<key function id>`. */
export const KEY_BY = 'builtin:keyBy:';

/** The prefix of the graph's scope: the functions of the ops a job's graph is built with. */
export const GRAPH_SCOPE = 'g';

/** The prefix of the id of a partition's first pairs by key: `builtin:firstByKey:<asc|desc>:<n>`. */
export const FIRST_BY_KEY = 'builtin:firstByKey:';

/** The prefix of the id of `zipWithIndex`'s partition function: `builtin:zipWithIndex:<offset>,<offset>,…`. */
export const ZIP_WITH_INDEX = 'builtin:zipWithIndex:';

/** `[key(record), record]`, for a key function that may return a promise. */
function keyedBy(key: AnyFn): AnyFn {
  return (record: unknown) => {
    const k = key(record);
    return k instanceof Promise ? k.then((resolved) => [resolved, record]) : [k, record];
  };
}
