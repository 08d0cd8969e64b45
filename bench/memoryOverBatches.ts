/**
 * Memory over many batches, for `npm run bench`: the soak's windowed, stateful job (`bench/soak.ts`) for 2,000
 * batches on the logical clock in a child process (it needs `--expose-gc`, so the heap is measured after a full
 * collection), sampled every 200 batches. The Streaming UI keeps the newest {@link RETAINED_BATCHES} batches, as
 * Spark's `spark.streaming.ui.retainedBatches` does, so the heap grows by design until then; from there on each
 * batch must add nothing, and the figure compared is the highest heap after that point against the heap there
 * (see {@link heapGrowth}).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RETAINED_BATCHES } from '../lib/ui/StreamingUiState';
import type { SoakSample } from './soak';

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
 * Heap growth from the baseline sample to the highest one after it, as a factor (1 = flat). The highest, not the
 * last: the last sample is taken as the run ends, when the runtime may already have let go of its state.
 */
export function heapGrowth(m: MemoryOverBatches): number {
  const base = m.samples.find((s) => s.batch === m.baselineBatch) ?? m.samples[0]!;
  const after = m.samples.filter((s) => s.batch > base.batch).map((s) => s.heapMiB);
  return Math.max(base.heapMiB, ...after) / base.heapMiB;
}

/** Runs the soak job for `batches` (at least twice the UI's history) and samples it `samples` times. */
export async function measureMemoryOverBatches(
  batches = 2 * RETAINED_BATCHES,
  samples = 10,
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
