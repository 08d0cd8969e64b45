import type { OutputJob } from '../scheduler/BatchRun';
import { builtinFunctions } from './builtinFunctions';

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
    // `builtin:sortBy:<asc|desc>:<key function id>` sorts a partition by another function of the graph; it is
    // derived from that id, so no closure needs a name of its own.
    this.addDeriver((id) => {
      const match = /^builtin:sortBy:(asc|desc):(.+)$/.exec(id);
      if (!match) return false;
      this.fns.set(id, sortPartition(this.get(match[2]!), match[1] === 'asc' ? 1 : -1));
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
   */
  constructor(
    readonly table: FunctionTable,
    readonly prefix: string,
    readonly driverOnly = false,
    readonly job?: OutputJob,
  ) {}

  /** Registers a function and returns its id. */
  register(fn: AnyFn): string {
    if (typeof fn !== 'function') throw new TypeError(`expected a function, got ${typeof fn}`);
    const id = `${this.prefix}/${this.next++}`;
    this.table.set(id, fn);
    return id;
  }
}

/** Sorts a partition by a key function that may return promises; numbers and strings compare naturally. */
function sortPartition(key: AnyFn, sign: 1 | -1): AnyFn {
  return async (records: unknown[]) => {
    const keyed = await Promise.all(records.map(async (r) => [await key(r), r] as const));
    keyed.sort(([a], [b]) => sign * (a === b ? 0 : (a as number) < (b as number) ? -1 : 1));
    return keyed.map(([, r]) => r);
  };
}
