import { describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../lib/dataset/TaskContext';
import { StreamingUiState, withLiveStatus } from '../../lib/ui/StreamingUiState';
import { batchInfo } from '../helpers/batchInfo';

/** A dead letter of `batchTime`, its record named after it. */
function letter(batchTime: number, record: unknown = `line of ${batchTime}`): DeadLetter {
  return { batchTime, dataset: 'map#1', fn: 'f1', error: 'bad record', record };
}

describe('StreamingUiState with concurrent batches', () => {
  it("files each dead letter under its own batch, whichever batch completes after it's reported", async () => {
    // given batch 2000 reports its letters while batch 1000, which has none, is still checkpointing
    const state = new StreamingUiState('j', 1000);
    state.onDeadLetters([letter(2000), letter(2000, 'second')]);
    // when batch 1000 completes first, then batch 2000
    state.onBatchCompleted(batchInfo({ batchTime: 1000 }));
    state.onBatchCompleted(batchInfo({ batchTime: 2000, deadLetters: 2 }));
    // then batch 1000's page has none, and batch 2000's has both
    expect((await state.batch(1000))?.deadLetters).toEqual([]);
    expect((await state.batch(2000))?.deadLetters.map((l) => l.record)).toEqual(['line of 2000', 'second']);
  });

  it('keeps 100 letters of a batch and counts the rest, even when they are reported in several calls', async () => {
    // given 150 letters of batch 1000 reported in two calls, and one of batch 2000 between them
    const state = new StreamingUiState('j', 1000);
    state.onDeadLetters(Array.from({ length: 90 }, () => letter(1000)));
    state.onDeadLetters([letter(2000)]);
    state.onDeadLetters(Array.from({ length: 60 }, () => letter(1000)));
    state.onBatchCompleted(batchInfo({ batchTime: 1000 }));
    state.onBatchCompleted(batchInfo({ batchTime: 2000 }));
    // then batch 1000 shows 100 and counts 50 more; batch 2000 shows its one
    const first = await state.batch(1000);
    expect([first?.deadLetters.length, first?.deadLettersNotShown]).toEqual([100, 50]);
    expect((await state.batch(2000))?.deadLetters).toHaveLength(1);
  });
});

describe('StreamingUiState with batches that complete out of order', () => {
  it('lists them by batch time and feeds the delay trend in batch time', async () => {
    // given batch 2000 (total delay 30 ms) completes before batch 1000 (50 ms), both submitted first
    const state = new StreamingUiState('j', 1000);
    state.onBatchSubmitted(1000, 1, Date.now(), 1);
    state.onBatchSubmitted(2000, 1, Date.now(), 1);
    state.onBatchCompleted(batchInfo({ batchTime: 2000, processingTimeMs: 30 }));
    state.onBatchCompleted(batchInfo({ batchTime: 1000, processingTimeMs: 50 }));
    // then the summary lists 1000 before 2000, and the delay did not grow from 1000 to 2000
    const summary = await state.summary();
    expect(summary.batches.map((b) => b.batchTime)).toEqual([1000, 2000]);
    expect(summary.delayGrowingFor).toBe(0);
  });

  it('retains the newest 1,000 by batch time, not the last 1,000 to complete', async () => {
    // given batches 2000 to 1,001,000 complete, then batch 1000, the oldest, last of all
    const state = new StreamingUiState('j', 1000);
    for (let n = 2; n <= 1001; n++) state.onBatchCompleted(batchInfo({ batchTime: n * 1000 }));
    state.onDeadLetters([letter(1000)]);
    state.onBatchCompleted(batchInfo({ batchTime: 1000 }));
    // then batch 1000 is the one not retained, and the rest stay in order
    const summary = await state.summary();
    expect(summary.batches).toHaveLength(1000);
    expect(summary.batches[0]!.batchTime).toBe(2000);
    expect(summary.batches.at(-1)!.batchTime).toBe(1_001_000);
    expect(await state.batch(1000)).toBeUndefined();
    expect(summary.completedBatches).toBe(1001);
  });
});

describe('StreamingUiState after the run ended', () => {
  it('shows the batches it left as they were at the end, their waits no longer growing', async () => {
    // given batch 2000, due 4 s ago, still queued when the run ended 3 s ago
    const nowMs = Date.now();
    const state = new StreamingUiState('j', 1000);
    state.onBatchSubmitted(2000, 1, nowMs - 4000, 1);
    state.end('the sink is down', nowMs - 3000);
    // when the summary is read now
    const summary = await state.summary();
    // then batch 2000 waited 1 s (due to end), not 4 s (due to now), and the active batches are dated at the end
    expect(summary.active.find((a) => a.batchTime === 2000)?.schedulingDelayMs).toBe(1000);
    expect(summary.activeAsOfMs).toBe(nowMs - 3000);
  });
});

describe("the input streams' live state and latest error", () => {
  const refused = { atMs: 1000, message: 'Error: connect ECONNREFUSED 127.0.0.1:9999' };
  const reset = { atMs: 2000, message: 'Error: read ECONNRESET' };

  it("take the running job's state and the later error over the newest batch's, and add streams no batch named", () => {
    // given the newest batch's streams, the socket connected after a refusal, and the live ones: the socket lost
    const fromBatches = [
      { id: 'n1', name: 'lines', state: 'connected' as const, lastError: refused },
      { id: 'n2', name: 'files' },
    ];
    const live = [
      { id: 'n1', name: 'lines', state: 'retrying' as const, lastError: reset },
      { id: 'n2', name: 'files' },
      { id: 'n3', name: 'late' },
    ];
    // then the socket is retrying with the reset, the folder as it was, and the stream no batch named is added
    expect(withLiveStatus(fromBatches, live)).toEqual([
      { id: 'n1', name: 'lines', state: 'retrying', lastError: reset },
      { id: 'n2', name: 'files' },
      { id: 'n3', name: 'late' },
    ]);
  });

  it("keep the batch's state of a closed source, and its error when it is the later one", () => {
    const fromBatches = [{ id: 'n1', name: 'lines', state: 'connected' as const, lastError: reset }];
    expect(withLiveStatus(fromBatches, [{ id: 'n1', name: 'lines', lastError: refused }])).toEqual(
      fromBatches,
    );
  });
});
