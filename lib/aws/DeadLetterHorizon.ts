import { SluiceError } from '../errors';
import {
  batchTimeOfDeadLetterKey,
  DEAD_LETTER_HORIZON_KEY,
  DEAD_LETTER_PREFIX,
  deadLetterKey,
} from './bucketLayout';
import type { S3BlockStore } from './S3BlockStore';

/** How far past a batch whose letters are written the horizon is raised, in batches: one raise per this many. */
export const HORIZON_AHEAD_BATCHES = 1000;
/** How many times a raise reads again a horizon another coordinator rewrote under it. */
const RAISE_ATTEMPTS = 5;

/** What the horizon needs of the job's store. */
export type HorizonStore = Pick<S3BlockStore, 'getWithEtag' | 'putConditional' | 'list' | 'listRange'>;

/**
 * Where a restore looks for the dead letters of the batches it runs again, so that its cost does not grow with the
 * job's age. `dead-letter/` keeps every batch's letters for the user (a month of 1 s batches with letters is 2.6M
 * objects), and the restore must find those after the checkpoint's last completed batch, including batches the
 * checkpoint never knew (see `discardDeadLettersAfter` in `BatchDriver`).
 *
 * A listing from the last completed batch (`StartAfter`) is not enough: S3 lists keys in lexicographic order and
 * batch times are numbers counted from the job's start (1000, …, 9000, 10000, …), so `dead-letter/10000.jsonl`
 * comes before `dead-letter/5000.jsonl`, and every shorter key of an older batch that sorts after the last completed
 * one (`dead-letter/600000.jsonl` after `dead-letter/1000000.jsonl`) would be listed too: most of the folder, just
 * after the digit count grew. So the coordinator keeps a horizon, a batch time at or after every batch whose letters
 * were written: before a batch's letters, it raises the horizon past the batch ({@link HORIZON_AHEAD_BATCHES}
 * ahead, so one PUT serves that many batches). The restore then lists only the batch times between the last
 * completed batch and the horizon, one range per digit count, in each of which lexicographic order is numeric
 * order: the older keys such a range also meets are the shorter ones between its bounds, about a ninth of the
 * batches in it. None when the horizon is behind the last completed batch, the common case.
 *
 * Raised with conditional writes on the ETag read, so it never goes down, whichever coordinator writes last (a
 * stale one included). A store without a horizon (written by a Sluice before it, or without letters yet) is
 * listed whole once, and the restore records the horizon it found.
 */
export class DeadLetterHorizon {
  /** The horizon as this coordinator last read or wrote it; undefined: to be read. */
  private known: StoredHorizon | undefined;
  /** Raises are chained, so that this coordinator never writes over its own higher one. */
  private raising: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: HorizonStore,
    /** The job's batch interval, in ms. */
    private readonly batchIntervalMs: number,
  ) {}

  /** Makes sure the stored horizon is at or after `batchTime`: call before writing the batch's letters. */
  raiseTo(batchTime: number): Promise<void> {
    const raise = this.raising.then(() => this.raise(batchTime));
    this.raising = raise.catch(() => {});
    return raise;
  }

  /** The keys of the dead letters of every batch after `lastCompletedBatch`, in a job's store. */
  async lettersAfter(lastCompletedBatch: number): Promise<string[]> {
    this.known = await this.read();
    const horizon = this.known.batchTime;
    if (
      horizon === undefined ||
      !Number.isSafeInteger(horizon) ||
      !Number.isSafeInteger(lastCompletedBatch)
    ) {
      return this.listWhole(lastCompletedBatch);
    }
    const keys: string[] = [];
    for (const [from, to] of sameDigitRanges(lastCompletedBatch + 1, horizon)) {
      const [low, high] = [String(from), String(to)];
      // From `dead-letter/<from>`, just before `dead-letter/<from>.jsonl`, within the digits both bounds share.
      const listed = await this.store.listRange(
        DEAD_LETTER_PREFIX + commonPrefix(low, high),
        DEAD_LETTER_PREFIX + low,
        deadLetterKey(to),
      );
      for (const key of listed) {
        const time = batchTimeOfDeadLetterKey(key);
        if (time !== undefined && time >= from && time <= to) keys.push(key);
      }
    }
    return keys;
  }

  /**
   * A store without a horizon: every key is listed, and the horizon found is recorded for the next restore. A job
   * without letters gets none: its listing is one request, and its store stays as one without letters was.
   */
  private async listWhole(lastCompletedBatch: number): Promise<string[]> {
    const keys = await this.store.list(DEAD_LETTER_PREFIX);
    let newest = lastCompletedBatch;
    for (const key of keys) newest = Math.max(newest, batchTimeOfDeadLetterKey(key) ?? 0);
    if (keys.length > 0) await this.raiseTo(newest);
    return keys.filter((key) => (batchTimeOfDeadLetterKey(key) ?? 0) > lastCompletedBatch);
  }

  private async raise(batchTime: number): Promise<void> {
    for (let attempt = 0; attempt < RAISE_ATTEMPTS; attempt++) {
      this.known ??= await this.read();
      const { batchTime: horizon, etag } = this.known;
      if (horizon !== undefined && horizon >= batchTime) return;
      const raised = batchTime + HORIZON_AHEAD_BATCHES * this.batchIntervalMs;
      const written = await this.store.putConditional(
        DEAD_LETTER_HORIZON_KEY,
        JSON.stringify({ batchTime: raised }),
        etag,
      );
      // Undefined: another coordinator wrote it since it was read; read it again, it may be far enough already.
      this.known = written === undefined ? undefined : { batchTime: raised, etag: written };
      if (written !== undefined) return;
    }
    throw new SluiceError(
      `could not raise the dead-letter horizon to batch ${batchTime} ms in ${RAISE_ATTEMPTS} attempts: another coordinator keeps rewriting it`,
    );
  }

  /** The stored horizon; its batch time is undefined when there is none, or it is damaged (then replaced). */
  private async read(): Promise<StoredHorizon> {
    const stored = await this.store.getWithEtag(DEAD_LETTER_HORIZON_KEY);
    if (!stored) return {};
    try {
      const { batchTime } = JSON.parse(Buffer.from(stored.bytes).toString('utf8')) as { batchTime?: unknown };
      return typeof batchTime === 'number' ? { batchTime, etag: stored.etag } : { etag: stored.etag };
    } catch {
      return { etag: stored.etag };
    }
  }
}

/** The horizon as stored: its batch time, and the ETag a raise writes over (none: there is no object). */
interface StoredHorizon {
  readonly batchTime?: number;
  readonly etag?: string;
}

/** `[from, to]` cut where the digit count changes: [5001, 120000] gives [5001, 9999], [10000, 99999], [100000, 120000]. */
export function sameDigitRanges(from: number, to: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (let low = from; low <= to; ) {
    const high = Math.min(to, 10 ** String(low).length - 1);
    ranges.push([low, high]);
    low = high + 1;
  }
  return ranges;
}

function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return a.slice(0, i);
}
