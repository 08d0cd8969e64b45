import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DirectInputDataset } from '../../lib/dataset/DirectInputDataset';
import { StreamingContext } from '../../lib/StreamingContext';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import { VirtualClock } from '../../lib/scheduler/VirtualClock';
import { GeneratorSource } from '../../lib/source/GeneratorSource';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { connectInProcess } from '../helpers/connectInProcess';

describe("a direct source's records reach a per-record pass a chunk at a time", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-direct-chunks-'));
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  it('makes each chunk when its turn comes, never a partition whole, and the records are the same', async () => {
    // given a generator of 10,000 lines a batch in 2 partitions, mapped and filtered, on the logical clock
    const compute = vi.spyOn(DirectInputDataset.prototype, 'compute');
    const chunked = vi.spyOn(DirectInputDataset.prototype, 'forEachChunk');
    const options = { kind: 'lines', ratePerSec: 10_000, lineBytes: 30, seed: 4 } as const;
    const ssc = new StreamingContext({ batchIntervalMs: 1000 });
    ssc
      .generatorStream(options, 2)
      .map((line) => line.length + line.indexOf(' '))
      .filter((n) => n % 3 !== 0)
      .collectBatches('kept');
    connectInProcess(ssc, new LocalFolderStore(join(dir, 'store')), dir);
    const kept: unknown[][] = [];
    ssc.addListener({ onOutput: (e) => kept.push(e.records as unknown[]) });
    // when two batches run
    const summary = await new JobScheduler(ssc, new VirtualClock(), { name: 'direct' }).run({ batches: 2 });
    // then each batch is what the ops make of the generator's lines, in order, and the lines were made in chunks
    expect(summary.error).toBeUndefined();
    const generator = new GeneratorSource(options);
    const expected = async (t: number) =>
      (await generator.recordsFor(t, 1000))
        .map((line) => line.length + line.indexOf(' '))
        .filter((n) => n % 3 !== 0);
    expect(kept).toEqual([await expected(1000), await expected(2000)]);
    expect(chunked).toHaveBeenCalledTimes(4);
    expect(compute).not.toHaveBeenCalled();
  });
});
