import { describe, expect, it } from 'vitest';
import type { TaskContext } from '../../lib/dataset/TaskContext';
import type { InputDStream } from '../../lib/dstream/InputDStream';
import { StreamingContext } from '../../lib/StreamingContext';
import type { Source } from '../../lib/source/Source';

/** A source that cannot replay (like a socket), and that says which batches it was asked for. */
function liveSource(): Source<string> & { readonly asked: number[] } {
  const asked: number[] = [];
  return {
    description: 'live',
    replayable: false,
    asked,
    async recordsFor(batchTime: number) {
      asked.push(batchTime);
      return [`line of ${batchTime}`];
    },
  };
}

describe('an input stream after a restart', () => {
  it('never asks a live source for a batch before the restart, and refuses to read one', async () => {
    // given an input stream restored after batch 5000, with no block kept for batch 3000
    const ssc = new StreamingContext({ batchIntervalMs: 1000 });
    const source = liveSource();
    const input = ssc.sourceStream(source) as InputDStream<string>;
    input.collectBatches();
    ssc.graph.start(0);
    input.restoreBlocks({}, 5000);
    // when the lineage of a stateful stream reaches back to batch 3000
    const dataset = await input.getOrCompute(3000);
    // then the source is not asked (what it has now belongs to the next batch), and reading the batch fails
    // with its key instead of giving an empty batch
    expect(source.asked).toEqual([]);
    await expect(async () => dataset!.compute(0, {} as TaskContext)).rejects.toThrow(
      /block input\/n1\/3000\/block is missing from the store, yet a batch reads it/,
    );
  });

  it('reads the blocks the checkpoint kept instead of asking the source', async () => {
    // given an input stream restored with the block of pending batch 6000
    const ssc = new StreamingContext({ batchIntervalMs: 1000 });
    const source = liveSource();
    const input = ssc.sourceStream(source) as InputDStream<string>;
    input.collectBatches();
    ssc.graph.start(0);
    input.restoreBlocks({ 6000: { key: 'input/n1/6000/block', offsets: [0, 4, 8], records: 2 } }, 5000);
    // when batch 6000 runs again
    await input.getOrCompute(6000);
    // then it comes from the block, and the block stays known for the next checkpoint
    expect(source.asked).toEqual([]);
    expect(input.recordsPerBatch.get(6000)).toBe(2);
    expect([...input.blocks.keys()]).toEqual([6000]);
  });
});
