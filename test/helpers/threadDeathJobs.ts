import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineJob } from '../../lib/job/JobModule';

/**
 * Jobs whose user code kills the worker thread running it, once: the first task to get there creates the marker
 * file `died` in `SLUICE_TEST_DEATH_DIR` and dies as `SLUICE_TEST_DEATH_MODE` says; every later call finds the
 * marker and maps normally, so a retried task succeeds. Module-level exports so that worker threads rebuild them.
 */
function dieOnce(): void {
  const dir = process.env.SLUICE_TEST_DEATH_DIR;
  if (!dir) return;
  try {
    writeFileSync(join(dir, 'died'), String(Date.now()), { flag: 'wx' }); // 'wx': only one task ever dies
  } catch {
    return;
  }
  const mode = process.env.SLUICE_TEST_DEATH_MODE;
  if (mode === 'exit') process.exit(3);
  if (mode === 'oom') {
    // Keeps everything it allocates, until the thread's heap limit kills it.
    const hoard: number[][] = [];
    for (;;) hoard.push(Array.from({ length: 100_000 }, (_, i) => i));
  }
  // An error thrown outside the task's own code (as a callback of the user's would) is uncaught: it kills the thread.
  queueMicrotask(() => {
    throw new Error('a user callback threw');
  });
}

export const diesOnce = defineJob({ batchIntervalMs: 1000, maxTaskAttempts: 3 }, (ssc) => {
  ssc
    .queueStream(
      [
        [1, 2, 3, 4],
        [5, 6],
      ],
      { partitions: 2 },
    )
    .map((x: number) => {
      dieOnce();
      return x * 10;
    })
    .collectBatches('tens');
});

/**
 * A 5-batch window over a stream kept in worker memory; an output before it kills the thread in the fifth batch,
 * so the new thread has none of the four earlier batches' copies when the window reads them.
 */
export const diesUnderAWindow = defineJob({ batchIntervalMs: 1000, maxTaskAttempts: 3 }, (ssc) => {
  const numbers = ssc.queueStream([[1], [2], [3], [4], [5, 99]], { partitions: 1 }).map((x: number) => x);
  numbers
    .filter((x: number) => {
      if (x === 99) dieOnce();
      return true;
    })
    .count()
    .collectBatches('firstCounts');
  numbers.window(5000, 1000).count().collectBatches('counts');
});
