/**
 * Memory over many batches, for `npm run bench`: the soak's windowed, stateful job (`bench/soak.ts`) for 2,000
 * batches on the logical clock in a child process (it needs `--expose-gc`, so the heap is measured after a full
 * collection), sampled every 100 batches. The Streaming UI keeps the newest {@link RETAINED_BATCHES} batches, as
 * Spark's `spark.streaming.ui.retainedBatches` does, so the heap grows by design until then; from there on each
 * batch must add nothing, and the figure compared is the heap's trend from that point on (see {@link heapGrowth}).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RETAINED_BATCHES } from '../lib/ui/StreamingUiState';
import type { SoakSample } from './soak';
import { slope } from './stats';

const SOAK = fileURLToPath(new URL('./soak.ts', import.meta.url));

/** What the run showed. */
export interface MemoryOverBatches {
  readonly batches: number;
  readonly samples: readonly SoakSample[];
  readonly seconds: number;
  /** The batch whose sample is the baseline: the first once the UI's history of batches is full. */
  readonly baselineBatch: number;
}

/**
 * Heap growth per 1,000 batches after the baseline, as a fraction of the heap there (0 = flat): the least-squares
 * slope of the samples from the baseline on, so that one sample caught high or low (the window's contents and the
 * UI's history move the heap by a few MiB from sample to sample) does not decide it, while a leak, which adds at
 * every batch, does. The last sample is left out: it is taken as the run ends, when the runtime may already have let
 * go of its state.
 */
export function heapGrowth(m: MemoryOverBatches): number {
  const points = m.samples.slice(0, -1).filter((s) => s.batch >= m.baselineBatch);
  if (points.length < 2) return 0;
  const heaps = points.map((s) => s.heapMiB);
  const meanHeap = heaps.reduce((sum, heap) => sum + heap, 0) / heaps.length;
  return (
    (slope(
      heaps,
      points.map((s) => s.batch),
    ) *
      1000) /
    meanHeap
  );
}

/** Runs the soak job for `batches` (at least twice the UI's history) and samples it `samples` times. */
export async function measureMemoryOverBatches(
  batches = 2 * RETAINED_BATCHES,
  samples = 20,
): Promise<MemoryOverBatches> {
  const every = Math.max(1, Math.floor(batches / samples));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      SOAK,
      '--batches',
      String(batches),
      '--every',
      String(every),
      '--json',
    ],
    { maxBuffer: 1 << 24 },
  );
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Omit<MemoryOverBatches, 'baselineBatch'>;
  return { ...result, baselineBatch: Math.ceil(RETAINED_BATCHES / every) * every };
}
