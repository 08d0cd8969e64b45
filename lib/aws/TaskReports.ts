import { TaskLocal } from '../scheduler/TaskLocal';
import type { BlockStore } from '../storage/BlockStore';

/**
 * The input reports of direct-reading tasks (where a task's Kinesis ranges ended, how many lines its S3 objects
 * held) travel back in the task's Lambda answer instead of through S3: a PUT by every map task and a GET by the
 * coordinator per batch, the largest per-task cost of a running job, saved.
 *
 * Nothing relies on a report reaching the bucket. A report is read by the coordinator that planned the batch,
 * from its inbox; one that is lost (the coordinator died, or handed over before the next plan) costs what a missing
 * report always did: the next plan starts from the last known position and reads past the unreported batch by
 * its recorded cut (see `KinesisSource`), and the batch's count is 0.
 */
const collecting = new TaskLocal<Map<string, string>>();

/**
 * Runs a task with the reports written through {@link collectReports}' stores held back, and returns them beside
 * the task's result (the worker puts them in its answer). A failed task's reports are dropped with it.
 */
export async function withCollectedReports<T>(
  run: () => Promise<T>,
): Promise<{ result: T; reports: Record<string, string> }> {
  const reports = new Map<string, string>();
  const result = await collecting.run(reports, run);
  return { result, reports: Object.fromEntries(reports) };
}

/**
 * The store the direct readers write their reports to, on the worker: inside {@link withCollectedReports} a
 * write is held for the answer, outside it (a reader called on its own) it goes to `store`.
 */
export function collectReports(store: BlockStore): BlockStore {
  return {
    put: (key, bytes) => {
      const reports = collecting.get();
      if (reports === undefined) return store.put(key, bytes);
      reports.set(key, typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
      return Promise.resolve();
    },
    get: (key) => store.get(key),
    getRange: (key, start, end) => store.getRange(key, start, end),
    list: (prefix) => store.list(prefix),
    deletePrefix: (prefix) => store.deletePrefix(prefix),
  };
}

/** Reports kept at most: a few batches of a thousand tasks; an older one counts as lost (see above). */
const INBOX_SIZE = 10_000;

/** The key of a task's input report in the job's store: `input/<stream>/<batchTime>/read-<partition>.json`. */
const REPORT_KEY = /^input\/.+\/read-\d+\.json$/;

/**
 * The coordinator's side: the job's store, whose `get` answers a report from the answers that brought it. A report
 * that did not come (its task still runs: the next batch is planned while one runs; or it was lost) is answered as
 * missing without asking S3, where no worker writes reports. Every other call goes to the store it wraps (the fenced
 * store: fencing is unchanged).
 */
export class TaskReportInbox implements BlockStore {
  private readonly reports = new Map<string, Uint8Array>();
  /** The wrapped store's `deleteKeys`, when it has one (see `BlockStore.deleteKeys`). */
  readonly deleteKeys?: (keys: readonly string[]) => Promise<void>;
  /** The wrapped store's `deleteLeftovers`, when it has one (see `BlockStore.deleteLeftovers`). */
  readonly deleteLeftovers?: (keys: readonly string[]) => Promise<void>;

  constructor(private readonly store: BlockStore) {
    const { deleteKeys, deleteLeftovers } = store;
    if (deleteKeys) this.deleteKeys = (keys) => deleteKeys.call(store, keys);
    if (deleteLeftovers) this.deleteLeftovers = (keys) => deleteLeftovers.call(store, keys);
  }

  /** Takes in the reports of one task's answer. */
  deliver(reports: Readonly<Record<string, string>>): void {
    for (const [key, text] of Object.entries(reports)) {
      this.reports.delete(key);
      this.reports.set(key, new TextEncoder().encode(text));
      if (this.reports.size > INBOX_SIZE) this.reports.delete(this.reports.keys().next().value!);
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    if (REPORT_KEY.test(key)) return this.reports.get(key);
    return this.store.get(key);
  }

  put(key: string, bytes: Uint8Array | string): Promise<void> {
    return this.store.put(key, bytes);
  }

  getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    return this.store.getRange(key, start, end);
  }

  list(prefix: string): Promise<string[]> {
    return this.store.list(prefix);
  }

  deletePrefix(prefix: string): Promise<void> {
    return this.store.deletePrefix(prefix);
  }
}
