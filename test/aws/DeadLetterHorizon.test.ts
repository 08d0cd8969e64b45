import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lib/aws/awsClients';
import { DEAD_LETTER_HORIZON_KEY, deadLetterKey } from '../../lib/aws/bucketLayout';
import { DeadLetterHorizon, sameDigitRanges } from '../../lib/aws/DeadLetterHorizon';
import { S3BlockStore } from '../../lib/aws/S3BlockStore';
import { uniqueName } from './localstack';

/**
 * How a coordinator's restore finds the dead letters of the batches after its checkpoint's last completed batch
 * (see `discardDeadLettersAfter` in `BatchDriver`), against LocalStack's S3: only those, in a number of requests
 * that does not grow with the job's age, whatever digit counts the batch times have (they count from the job's
 * start, so a month of 1 s batches goes from 4 to 10 digits, and S3 lists keys in lexicographic order).
 */

const bucket = uniqueName('horizon');
const INTERVAL_MS = 1000;
let job = 0;

/** A fresh job's store. */
function jobStore() {
  job++;
  return new S3BlockStore({ client: s3Client(), bucket, prefix: `jobs/h${job}/store/` });
}

/** Writes batch `batchTime`'s letters as a coordinator does: the horizon raised first. */
async function writeLetters(store: S3BlockStore, horizon: DeadLetterHorizon, batchTime: number) {
  await horizon.raiseTo(batchTime);
  await store.put(deadLetterKey(batchTime), `{"batchTime":${batchTime}}\n`);
}

/** Writes the letters of `batchTimes` straight into the store, 50 at a time, as a store of an older Sluice holds them. */
async function writeOldLetters(store: S3BlockStore, batchTimes: number[]) {
  for (let i = 0; i < batchTimes.length; i += 50) {
    await Promise.all(batchTimes.slice(i, i + 50).map((t) => store.put(deadLetterKey(t), '{}\n')));
  }
}

/** The batch times of dead-letter keys, sorted as numbers. */
const timesOf = (keys: string[]) =>
  keys.map((k) => Number(/(\d+)\.jsonl$/.exec(k)?.[1])).sort((a, b) => a - b);

/** The requests a fresh coordinator's restore sends to find the letters after `lastCompleted`, and what it finds. */
async function restore(store: S3BlockStore, lastCompleted: number) {
  const before = store.requests;
  const keys = await new DeadLetterHorizon(store, INTERVAL_MS).lettersAfter(lastCompleted);
  return { times: timesOf(keys), requests: store.requests - before };
}

beforeAll(async () => {
  await s3Client().send(new CreateBucketCommand({ Bucket: bucket }));
});

describe('the dead letters a restore discards', () => {
  it('given many old dead-letter objects, when a coordinator restores, then its requests are those of a young job', async () => {
    // given a job with the letters of 2,100 batches from 1000 to 2,100,000 (4 to 7 digits), and a young job,
    // each with letters of two batches after its last completed batch, 2,101,000
    const old = jobStore();
    await writeOldLetters(
      old,
      Array.from({ length: 2100 }, (_, k) => (k + 1) * INTERVAL_MS),
    );
    const young = jobStore();
    for (const store of [old, young]) {
      const horizon = new DeadLetterHorizon(store, INTERVAL_MS);
      await writeLetters(store, horizon, 2_100_000);
      await writeLetters(store, horizon, 2_102_000);
      await writeLetters(store, horizon, 2_105_000);
    }
    // when a coordinator restores each from batch 2,101,000
    const [ofOld, ofYoung] = [await restore(old, 2_101_000), await restore(young, 2_101_000)];
    // then both find exactly the two batches after it, in the same requests: one read of the horizon, one listing
    expect(ofOld.times).toEqual([2_102_000, 2_105_000]);
    expect(ofYoung.times).toEqual([2_102_000, 2_105_000]);
    expect(ofOld.requests).toBe(ofYoung.requests);
    expect(ofOld.requests).toBe(2);
  }, 120_000);

  it('given letters of batches with more digits than the last completed one, when a coordinator restores, then it finds them all', async () => {
    // given a job whose last completed batch is 5000, with letters of batches before it (of fewer digits too) and
    // after it, of 4 to 7 digits: a plain listing after `dead-letter/5000.jsonl` misses 10000 and 1000000, which
    // sort before it, and meets 600, which sorts after it
    const store = jobStore();
    const horizon = new DeadLetterHorizon(store, INTERVAL_MS);
    for (const t of [600, 3000, 5000, 6000, 10_000, 12_000, 100_000, 1_000_000]) {
      await writeLetters(store, horizon, t);
    }
    // when a coordinator restores from batch 5000
    const { times } = await restore(store, 5000);
    // then every batch after 5000 is found, and none before
    expect(times).toEqual([6000, 10_000, 12_000, 100_000, 1_000_000]);
  });

  it('given a last completed batch past the horizon, when a coordinator restores, then it lists nothing', async () => {
    // given a job whose letters were written up to batch 3000, and which completed 1,500 batches since
    const store = jobStore();
    const horizon = new DeadLetterHorizon(store, INTERVAL_MS);
    for (const t of [1000, 3000]) await writeLetters(store, horizon, t);
    // when a coordinator restores from batch 1,503,000
    const { times, requests } = await restore(store, 1_503_000);
    // then it reads the horizon and finds nothing after it
    expect(times).toEqual([]);
    expect(requests).toBe(1);
  });

  it('given a store of an older Sluice without a horizon, when a coordinator restores, then it lists it whole once and records one', async () => {
    // given letters of batches 1000 to 9000 and 10000, and no horizon
    const store = jobStore();
    await writeOldLetters(store, [1000, 2000, 9000, 10_000]);
    // when coordinators restore from batch 2000, one after the other
    const first = await restore(store, 2000);
    const second = await restore(store, 2000);
    // then each finds those after it, the second by the horizon the first recorded (at or after 10000)
    expect(first.times).toEqual([9000, 10_000]);
    expect(second.times).toEqual([9000, 10_000]);
    const recorded = JSON.parse(Buffer.from((await store.get(DEAD_LETTER_HORIZON_KEY))!).toString('utf8'));
    expect(recorded.batchTime).toBeGreaterThanOrEqual(10_000);
  });

  it('given a coordinator that read the horizon before another raised it, when it raises it less far, then it stays where the other put it', async () => {
    // given a horizon read by two coordinators, then raised by the first past batch 9,000,000
    const store = jobStore();
    const [ahead, behind] = [
      new DeadLetterHorizon(store, INTERVAL_MS),
      new DeadLetterHorizon(store, INTERVAL_MS),
    ];
    await ahead.lettersAfter(0);
    await behind.lettersAfter(0);
    await ahead.raiseTo(9_000_000);
    // when the second raises it to 2,000,000 (a stale coordinator, say)
    await behind.raiseTo(2_000_000);
    // then a restore still finds batch 8,000,000's letters
    await store.put(deadLetterKey(8_000_000), '{}\n');
    expect((await restore(store, 1_000_000)).times).toEqual([8_000_000]);
  });
});

describe('sameDigitRanges', () => {
  it('cuts a range of batch times where the digit count changes', () => {
    expect(sameDigitRanges(5001, 120_000)).toEqual([
      [5001, 9999],
      [10_000, 99_999],
      [100_000, 120_000],
    ]);
    expect(sameDigitRanges(1, 9)).toEqual([[1, 9]]);
    expect(sameDigitRanges(7, 6)).toEqual([]);
  });
});
