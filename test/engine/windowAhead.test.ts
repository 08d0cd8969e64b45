import { describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';
import { TAG_BATCHES } from '../helpers/windowAheadJobs';

const jobs = new URL('../helpers/windowAheadJobs.ts', import.meta.url).pathname;
const job = (exportName: string) => ({ kind: 'module', path: jobs, exportName }) as const;

/** The output operations of a batch that only compute ahead of a window's slide. */
const aheadOps = (info: BatchInfo) => (info.outputOps ?? []).filter((op) => op.ahead);
/** Stages that read the batch's input blocks: one per input batch whose per-batch stream is computed. */
const inputStages = (info: BatchInfo) =>
  (info.outputOps ?? [])
    .flatMap((op) => op.jobs.flatMap((j) => j.stages))
    .filter((s) => s.description.startsWith('block'));

/** Counts of the good tags in the 1 s batches (t − window, t], at every slide. */
function expectedCounts(windowBatches: number, slideBatches: number): Array<Array<[string, number]>> {
  const out: Array<Array<[string, number]>> = [];
  for (let end = slideBatches; end <= TAG_BATCHES.length; end += slideBatches) {
    const counts = new Map<string, number>();
    for (const tag of TAG_BATCHES.slice(Math.max(0, end - windowBatches), end).flat()) {
      if (tag !== 'bad') counts.set(tag, (counts.get(tag) ?? 0) + 1);
    }
    out.push([...counts].sort());
  }
  return out;
}

const sortedCounts = (batches: unknown[][]) =>
  batches.map((b) => (b as Array<[string, number]>).filter(([, n]) => n > 0).sort());

for (const workers of [0, 2]) {
  describe(`a window sliding every second batch (${workers} worker threads)`, () => {
    for (const exportName of ['tagsEverySecondBatch', 'tagsEverySecondBatchRecomputed']) {
      it(`${exportName}: computes each in-between batch's per-batch stream in that batch, with the same counts`, async () => {
        // given a 4 s window sliding every 2 s on 1 s batches
        // when six batches run
        const result = await runBatches(job(exportName), 6, { workers });
        expect(result.error).toBeUndefined();
        // then the counts are those of the batches in each window, as without computing ahead
        expect(sortedCounts(result.recordsOf('counts'))).toEqual(expectedCounts(4, 2));
        const [b1, b2, b3, b4, b5, b6] = result.batches;
        // and each in-between batch ran one job ahead of the slide, which read that batch's input
        for (const inBetween of [b1!, b3!, b5!]) {
          expect(aheadOps(inBetween)).toHaveLength(1);
          expect(inputStages(inBetween)).toHaveLength(1);
          expect(inBetween.tasks).toBeGreaterThan(0);
        }
        // and each slide's batch read only its own input: the batch before was computed already
        for (const slide of [b2!, b4!, b6!]) {
          expect(aheadOps(slide)).toEqual([]);
          expect(inputStages(slide)).toHaveLength(1);
        }
        // and the malformed tag of the first batch is one dead letter, of that batch
        expect(result.deadLetters.map((l) => [l.batchTime, l.record])).toEqual([[1000, 'bad']]);
      });
    }

    it('computes nothing ahead for a batch that no window reads', async () => {
      // given a 1 s window sliding every 2 s: the odd batches fall between windows
      const result = await runBatches(job('windowShorterThanSlide'), 6, { workers });
      // then no batch computes ahead, and each window holds its own batch
      expect(result.error).toBeUndefined();
      expect(result.batches.flatMap(aheadOps)).toEqual([]);
      expect(result.recordsOf('tags').map((b) => [...b].sort())).toEqual([['a'], ['c'], []]);
    });

    it('leaves a failure computing ahead to the slide, which reports it', async () => {
      // given a window whose per-batch stream cannot be computed for the in-between batch
      const result = await runBatches(job('failsInBetween'), 2, { workers });
      // then the in-between batch did not fail, and the slide's batch failed with the reason
      expect(result.batches[0]!.error).toBeUndefined();
      expect(aheadOps(result.batches[0]!)).toHaveLength(1);
      expect(result.batches[1]!.error).toMatch(/the partition holding x cannot be computed/);
      expect(result.recordsOf('counts')).toEqual([]);
    });
  });
}

describe('a slide due while the batch before is still computed ahead (system clock, two jobs at once)', () => {
  it('waits for it rather than compute that batch a second time', async () => {
    // given a first batch whose per-batch counts take 1.5 s on a worker thread, and two output jobs allowed at once
    // when the slide at 2 s comes due while that batch is still running
    const result = await runBatches(job('slowAheadTwoJobsAtOnce'), 2, { workers: 2, clock: 'system' });
    // then the counts are right, and the slide read only its own input: it waited for the batch before
    expect(result.error).toBeUndefined();
    expect(sortedCounts(result.recordsOf('counts'))).toEqual([
      [
        ['a', 1],
        ['slow', 1],
      ],
    ]);
    const slide = result.batches.find((b) => b.batchTime === 2000)!;
    expect(inputStages(slide)).toHaveLength(1);
  }, 30_000);
});
