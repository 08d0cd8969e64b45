import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * A job whose cost per record is known: a map that spins `microsPerRecord` µs on every record, over generated
 * lines, then a count. Written into `dir` with its functions module; returns the job file's path.
 */
export async function writeBusyLoopJob(dir: string, microsPerRecord: number): Promise<string> {
  await writeFile(
    join(dir, 'busy.mjs'),
    `export function busy(record) {\n  const end = performance.now() + ${microsPerRecord / 1000};\n` +
      '  while (performance.now() < end) {}\n  return record;\n}\n',
  );
  const job = {
    name: 'busy-loop',
    batchIntervalMs: 1000,
    functions: './busy.mjs',
    sources: { lines: { type: 'generator', kind: 'lines', ratePerSec: 100, lineBytes: 20 } },
    streams: { slow: { from: 'lines', ops: [{ op: 'map', fn: 'busy' }, { op: 'count' }] } },
    outputs: [{ stream: 'slow', type: 'print' }],
  };
  const path = join(dir, 'busy-loop.json');
  await writeFile(path, JSON.stringify(job));
  return path;
}

/**
 * The machine's own truth for the busy-loop job: the job's function called directly, with no engine, on every
 * core at once (one thread each, as the local runtime places its workers), for `records` records a thread.
 * Returns records a second over all threads: what the job could at best sustain here, now.
 */
export async function measureBusyLoopRate(dir: string, records: number): Promise<number> {
  const script = join(dir, 'busyTruth.mjs');
  await writeFile(
    script,
    "import { parentPort, workerData } from 'node:worker_threads';\n" +
      `const { busy } = await import(${JSON.stringify(join(dir, 'busy.mjs'))});\n` +
      'const started = performance.now();\n' +
      "for (let i = 0; i < workerData; i++) busy('line');\n" +
      'parentPort.postMessage(performance.now() - started);\n',
  );
  const threads = availableParallelism();
  const elapsed = await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<number>((resolve, reject) => {
          const worker = new Worker(script, { workerData: records });
          worker.once('message', (ms: number) => {
            resolve(ms);
            void worker.terminate();
          });
          worker.once('error', reject);
        }),
    ),
  );
  return (threads * records * 1000) / Math.max(...elapsed);
}
