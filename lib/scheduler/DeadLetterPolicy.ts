import type { DeadLetter } from '../dataset/TaskContext';

/** Settings of the dead-letter policy: when a flood of bad records fails its batch. Per job. */
export interface DeadLetterPolicyOptions {
  /** The share of a batch's records, from 0 to 1, that may be dead letters: a batch with more fails instead. */
  readonly maxShare: number;
  /**
   * A batch with fewer dead letters than this never fails, whatever its share, so that one bad record among
   * two is not a flood. Default 10.
   */
  readonly minCount?: number;
}

/** The reasons a flood's error quotes, the first ones of the batch. */
const QUOTED_REASONS = 3;

/** The most characters of one quoted reason: an error can quote a whole record. */
const REASON_CHARS = 200;

/**
 * Kafka Connect's `errors.tolerance` turned into a share: dead letters let a job go on past records it cannot
 * process, and this says when there are too many for that to be the right thing (a changed input format, a
 * broken function) and the batch must fail instead. The share is the batch's dead letters (each written once,
 * see `DeadLetterLedger`) over the records that entered the batch through its sources; a record refused by two
 * streams is two letters, so a share can pass 1. A batch with no record but `minCount` letters (a static dataset
 * gone bad) is over any share. The rule only judges; the job scheduler fails the batch before it writes the
 * letters or commits the batch, so the failed batch, rerun after a change, writes its outputs and letters once.
 *
 * @example
 * const policy = new DeadLetterPolicy({ maxShare: 0.05 });
 * policy.judge(letters, 100, 4000); // 12 letters for 100 records: "batch 4000 failed: 12 dead letters for …"
 */
export class DeadLetterPolicy {
  /** The share above which a batch fails; undefined: never. */
  readonly maxShare: number | undefined;
  /** The least dead letters a failing batch has. */
  readonly minCount: number;

  /** @param options the policy; undefined: a batch never fails for its dead letters. */
  constructor(options?: DeadLetterPolicyOptions) {
    const maxShare = options?.maxShare;
    const minCount = options?.minCount ?? 10;
    if (maxShare !== undefined && !(typeof maxShare === 'number' && maxShare >= 0 && maxShare <= 1)) {
      throw new RangeError(
        `deadLetters.maxShare must be a share from 0 to 1 (0.05 is 5%), got ${JSON.stringify(maxShare)}`,
      );
    }
    if (!Number.isInteger(minCount) || minCount < 1) {
      throw new RangeError(
        `deadLetters.minCount must be a positive whole number, got ${JSON.stringify(minCount)}`,
      );
    }
    this.maxShare = maxShare;
    this.minCount = minCount;
  }

  /**
   * Why batch `batchTime`, with `records` records in and these dead letters, must fail; undefined when it may
   * complete. The sentence gives the share, the threshold, the first reasons and the fields to change.
   */
  judge(letters: readonly DeadLetter[], records: number, batchTime: number): string | undefined {
    if (this.maxShare === undefined || letters.length < this.minCount) return undefined;
    if (records > 0 && letters.length <= this.maxShare * records) return undefined;
    const share = records > 0 ? ` (${percent(letters.length / records)})` : '';
    const reasons = letters
      .slice(0, QUOTED_REASONS)
      .map((l) => `${l.op ?? l.dataset}: ${cut(l.error)}`)
      .join('; ');
    return (
      `batch ${batchTime} failed: ${letters.length} dead letters for its ${records} records${share}, above ` +
      `deadLetters.maxShare of ${percent(this.maxShare)} (judged from deadLetters.minCount, ${this.minCount} ` +
      `letters); first reasons: ${reasons}. Its dead letters were not written and it did not complete: fix the ` +
      'input or the functions, or raise deadLetters.maxShare (or deadLetters.minCount) in the job and start it ' +
      'again, which runs the batch again'
    );
  }
}

function percent(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}

function cut(error: string): string {
  const line = error.split('\n')[0] ?? error;
  return line.length > REASON_CHARS ? `${line.slice(0, REASON_CHARS)}…` : line;
}
