import { describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../lib/dataset/TaskContext';
import { StreamingUiState } from '../../lib/ui/StreamingUiState';
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
