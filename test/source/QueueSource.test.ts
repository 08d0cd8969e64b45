import { describe, expect, it } from 'vitest';
import { QueueSource } from '../../lib/source/QueueSource';

const intervalMs = 1000;

/** Asks `source` for batches 1..count in order, as the engine would. */
async function drain<T>(source: QueueSource<T>, count: number): Promise<T[][]> {
  const batches: T[][] = [];
  for (let batch = 1; batch <= count; batch++)
    batches.push(await source.recordsFor(batch * intervalMs, intervalMs));
  return batches;
}

describe('QueueSource', () => {
  it('hands out one queued batch per stream batch, in order', async () => {
    // given
    const source = new QueueSource([['a', 'b'], ['c'], ['d', 'e', 'f']]);
    // when
    const batches = await drain(source, 3);
    // then
    expect(batches).toEqual([['a', 'b'], ['c'], ['d', 'e', 'f']]);
  });

  it('gives empty batches once the queue runs out', async () => {
    // given
    const source = new QueueSource([[1], [2]]);
    // when
    const batches = await drain(source, 5);
    // then
    expect(batches).toEqual([[1], [2], [], [], []]);
  });

  it("gives a batch past the queue one partition, as Spark's default RDD has", () => {
    // given
    const source = new QueueSource([[1], []]);
    const all = new QueueSource([[1], [2]], { oneAtATime: false });
    // when
    const partitions = [1, 2, 3].map((batch) => source.partitionsFor(batch * intervalMs, intervalMs, false));
    const allPartitions = [1, 2].map((batch) => all.partitionsFor(batch * intervalMs, intervalMs, false));
    // then the stream's partitions while the queue lasts, one after; a rate-limited queue keeps the stream's
    expect(partitions).toEqual([undefined, undefined, 1]);
    expect(allPartitions).toEqual([undefined, 1]);
    expect(source.partitionsFor(3 * intervalMs, intervalMs, true)).toBeUndefined();
  });

  it('keeps an empty queued batch as an empty stream batch', async () => {
    // given
    const source = new QueueSource([[1], [], [3]]);
    // when
    const batches = await drain(source, 3);
    // then
    expect(batches).toEqual([[1], [], [3]]);
  });

  it('with oneAtATime false gives every queued record in the first batch, then nothing', async () => {
    // given
    const source = new QueueSource([['a', 'b'], ['c'], ['d']], { oneAtATime: false });
    // when
    const batches = await drain(source, 3);
    // then
    expect(batches).toEqual([['a', 'b', 'c', 'd'], [], []]);
  });

  it('replays a batch time with the same records, whatever was asked in between', async () => {
    // given
    const source = new QueueSource([['a'], ['b'], ['c']]);
    const firstRun = await drain(source, 3);
    // when
    const second = await source.recordsFor(2 * intervalMs, intervalMs);
    const first = await source.recordsFor(intervalMs, intervalMs);
    // then
    expect(source.replayable).toBe(true);
    expect(second).toEqual(firstRun[1]);
    expect(first).toEqual(firstRun[0]);
  });

  it('is not affected by the caller changing its arrays after construction or after a batch', async () => {
    // given
    const queued = [['a'], ['b']];
    const source = new QueueSource(queued);
    queued[0]?.push('late');
    // when
    const batch = await source.recordsFor(intervalMs, intervalMs);
    batch.push('mutated');
    // then
    expect(await source.recordsFor(intervalMs, intervalMs)).toEqual(['a']);
  });

  it('rejects batches that are not arrays, naming the bad one', () => {
    // given
    const bad = [['a'], 'b'] as unknown as string[][];
    // when
    const build = () => new QueueSource(bad);
    // then
    expect(build).toThrow('QueueSource batches[1] must be an array, got string');
  });
});
