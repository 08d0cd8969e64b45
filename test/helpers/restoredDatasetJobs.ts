import type { StreamingContext } from '../../lib/StreamingContext';

/** The graph of the tests of a stream's own datasets that a restart finds in the block store. */

/** Twenty batches of one number each, the nth batch holding n; a queue replays them by batch time. */
const NUMBERS = Array.from({ length: 20 }, (_, i) => [String(i + 1)]);

/**
 * A job whose streams keep their own datasets in the block store, each kind its way: a running sum per parity
 * (updateStateByKey, checkpointed every 2 s), a 3 s window over a stream persisted in the block store (its parent),
 * and the same window over a stream checkpointed every 2 s.
 */
export function statefulAndWindowed(ssc: StreamingContext): void {
  const numbers = ssc.queueStream(NUMBERS, { partitions: 1 }).map(Number);
  numbers
    .map((n: number) => [n % 2 === 0 ? 'even' : 'odd', n] as [string, number])
    .updateStateByKey(
      (values: number[], sum: number | undefined) => (sum ?? 0) + values.reduce((a, b) => a + b, 0),
    )
    .checkpoint(2000)
    .collectBatches('sums');
  numbers
    .map((n: number) => n * 10)
    .persist('blockStore')
    .window(3000, 1000)
    .collectBatches('windows');
  numbers
    .map((n: number) => n + 100)
    .checkpoint(2000)
    .window(3000, 1000)
    .collectBatches('checkpointedWindows');
}
