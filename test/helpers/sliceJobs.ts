import { defineJob } from '../../lib/job/JobModule';
import type { Source } from '../../lib/source/Source';

/** Jobs that slice a stream inside an output; module-level exports so that worker threads can rebuild them. */

/**
 * A source that cannot replay a batch, as a socket: each batch takes the next record, whatever its time
 * (`r0`, `r1`, …), so asking it again for a past batch would hand that batch a record of the current one.
 */
class NextRecordSource implements Source<string> {
  readonly description = 'next-record';
  readonly replayable = false;
  private taken = 0;

  async recordsFor(): Promise<string[]> {
    return [`r${this.taken++}`];
  }
}

/**
 * slice(t − backMs, t) over a source that cannot replay a batch, with `rememberMs` kept (none: the default, the
 * stream's slide).
 */
const sliceUnreplayable = (backMs: number, rememberMs?: number) =>
  defineJob({ batchIntervalMs: 1000 }, (ssc) => {
    const s = ssc.sourceStream(new NextRecordSource(), 1);
    if (rememberMs !== undefined) ssc.remember(rememberMs);
    s.foreachRDD(async (_ds, t) => {
      const datasets = await s.slice(t - backMs, t);
      const records = (await Promise.all(datasets.map((d) => d.collect()))).flat();
      ssc.emitOutput({ output: 'slice', type: 'foreachRDD', batchTime: t, records, count: records.length });
    }, 'slice');
  });
export const slicePreviousUnreplayable = sliceUnreplayable(1000);
export const sliceForgottenUnreplayable = sliceUnreplayable(2000);
export const sliceRememberedUnreplayable = sliceUnreplayable(2000, 3000);

/**
 * slice(t − 3000, t) over a queue, which remembers only its newest batch, so each slice computes the older batches
 * again; the batch at `failAt` fails after its slice, ending the run.
 */
const sliceQueue = (failAt?: number) =>
  defineJob({ batchIntervalMs: 1000 }, (ssc) => {
    const s = ssc.queueStream([[1], [2], [3], [4], [5]]);
    s.foreachRDD(async (_ds, t) => {
      const datasets = await s.slice(t - 3000, t);
      const records = (await Promise.all(datasets.map((d) => d.collect()))).flat();
      if (t === failAt) throw new Error(`batch ${t} fails after its slice`);
      ssc.emitOutput({ output: 'slice', type: 'foreachRDD', batchTime: t, records, count: records.length });
    }, 'slice');
  });
export const sliceForgottenQueue = sliceQueue();
export const sliceForgottenQueueThenFail = sliceQueue(4000);
