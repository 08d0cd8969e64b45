import type { Source } from '../../source/Source';

/**
 * Replays a user's sample of records at a fixed rate, in place of a source `sluice tune` cannot drive itself (a
 * socket, a folder, Kinesis). Record `i` of the stream is sample record `i mod n`, and the batch ending at `t`
 * holds the indexes `[floor(rate × (t − interval) / 1000), floor(rate × t / 1000))`, as the generator's do: so the
 * records a batch gets depend only on its time, and any batch can be replayed.
 *
 * @example
 * const source = new SampleReplaySource('lines', ['a b', 'b c'], 3000);
 * await source.recordsFor(1000, 1000); // 3000 records: 'a b', 'b c', 'a b', …
 */
export class SampleReplaySource<T> implements Source<T> {
  /** Such as `sample(lines: 120 records at 3000/s)`. */
  readonly description: string;
  /** Always true: a batch's records are a function of its batch time. */
  readonly replayable = true;

  /**
   * @param name the job's name for the source replaced, for logs
   * @param sample the records to cycle through; at least one
   * @param ratePerSec records a second of stream time
   */
  constructor(
    name: string,
    private readonly sample: readonly T[],
    private readonly ratePerSec: number,
  ) {
    if (sample.length === 0) throw new Error(`the sample for source ${name} has no records`);
    if (!(ratePerSec > 0)) throw new Error(`the replay rate must be positive, got ${ratePerSec}`);
    this.description = `sample(${name}: ${sample.length} records at ${ratePerSec}/s)`;
  }

  /** The sample records of the batch ending at `batchTime`, cycling through the sample. */
  async recordsFor(batchTime: number, intervalMs: number): Promise<T[]> {
    const first = Math.floor((this.ratePerSec * (batchTime - intervalMs)) / 1000);
    const end = Math.floor((this.ratePerSec * batchTime) / 1000);
    const records: T[] = new Array(Math.max(0, end - first));
    for (let i = first; i < end; i++) records[i - first] = this.sample[i % this.sample.length]!;
    return records;
  }
}
