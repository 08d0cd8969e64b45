/**
 * The soak (issue 12): the windowed, stateful job of `soakJob.ts` for 10,000 batches on the logical clock, in one
 * process, checkpointing every 10 batches. Every 1,000 batches it samples the heap after a full GC, the median
 * processing time of the last 1,000 batches, and the store's size on disk. Flat columns mean nothing grows with
 * the number of batches; the verdict compares the last sample with the first after warm-up. Not part of
 * `npm test` (it takes minutes):
 *
 *   node --expose-gc --import tsx bench/soak.ts [--batches 10000] [--every 1000] [--json]
 *
 * With `--json` it writes no section and prints the samples as one JSON line instead (`npm run bench` runs it so).
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRuntime } from '../lib/local/LocalRuntime';
import { appendSection } from './resultsFile';

const argv = process.argv.slice(2);
const BATCHES = Number(argv[argv.indexOf('--batches') + 1]) || 10_000;
const EVERY = Number(argv[argv.indexOf('--every') + 1]) || Math.max(1, Math.floor(BATCHES / 10));
const JSON_OUT = argv.includes('--json');
const gc = (globalThis as { gc?: () => void }).gc;

export interface SoakSample {
  readonly batch: number;
  readonly heapMiB: number;
  readonly medianProcessingMs: number;
  readonly storeFiles: number;
  readonly storeKiB: number;
}

/** Files and bytes under `dir`. The next batch runs meanwhile, so an entry that vanishes is skipped, not an error. */
async function storeSize(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const gone = (error: unknown) => {
    if ((error as { code?: string }).code !== 'ENOENT') throw error;
    return undefined;
  };
  const folders = [dir];
  while (folders.length > 0) {
    const folder = folders.pop()!;
    for (const entry of (await readdir(folder, { withFileTypes: true }).catch(gone)) ?? []) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) folders.push(path);
      else if (entry.isFile()) {
        const size = (await stat(path).catch(gone))?.size;
        if (size === undefined) continue;
        files++;
        bytes += size;
      }
    }
  }
  return { files, bytes };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2;
};

async function main(): Promise<void> {
  if (!gc) throw new Error('run with node --expose-gc, so the heap is measured after a full collection');
  const dir = await mkdtemp(join(tmpdir(), 'sluice-soak-'));
  const loadBefore = loadavg()[0]!;
  const started = performance.now();
  const samples: SoakSample[] = [];
  let processing: number[] = [];
  let pending: Promise<void> = Promise.resolve();
  try {
    const runtime = await LocalRuntime.start(
      { kind: 'module', path: new URL('./soakJob.ts', import.meta.url).pathname, exportName: 'soak' },
      {
        clock: 'logical',
        batches: BATCHES,
        workers: 0,
        storeDir: dir,
        outputDir: dir,
        write: () => {},
        listeners: [
          {
            onBatchCompleted: (info) => {
              processing.push(info.processingTimeMs);
              const batch = info.batchTime / 1000;
              if (batch % EVERY !== 0) return;
              const window = processing;
              processing = [];
              // Sampled while the next batches run: the numbers are of a moment, not of a batch boundary.
              pending = pending.then(async () => {
                gc();
                const { files, bytes } = await storeSize(dir);
                samples.push({
                  batch,
                  heapMiB: process.memoryUsage().heapUsed / 2 ** 20,
                  medianProcessingMs: median(window),
                  storeFiles: files,
                  storeKiB: bytes / 1024,
                });
                if (!JSON_OUT) console.log(JSON.stringify(samples.at(-1)));
              });
            },
          },
        ],
      },
    );
    const summary = await runtime.run();
    await pending;
    if (summary.error) throw summary.error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  if (JSON_OUT) console.log(JSON.stringify({ batches: BATCHES, samples, seconds }));
  else await report(samples, seconds, loadBefore);
}

async function report(samples: SoakSample[], seconds: number, loadBefore: number): Promise<void> {
  const first = samples[1] ?? samples[0]!; // after warm-up: the window and the state have filled
  const last = samples.at(-1)!;
  const ratio = (key: keyof SoakSample) =>
    first[key] === 0 ? 1 : (last[key] as number) / (first[key] as number);
  const row = (s: SoakSample) =>
    `| ${s.batch} | ${s.heapMiB.toFixed(1)} | ${s.medianProcessingMs.toFixed(2)} | ${s.storeFiles} | ${s.storeKiB.toFixed(0)} |`;
  const text = [
    '',
    `## Soak: ${BATCHES.toLocaleString('en-US')} batches of a windowed, stateful job (${new Date().toISOString().slice(0, 10)})`,
    '',
    `\`node --expose-gc --import tsx bench/soak.ts\`: \`bench/soakJob.ts\` (200 tweets/s, a 30 s incremental window, updateStateByKey and mapWithState over 500 users, checkpoints every 10 batches) on the logical clock, in-process (\`--workers 0\`). Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after; ${seconds.toFixed(0)} s in all.`,
    '',
    '| after batch | heap after GC (MiB) | median processing of the last batches (ms) | store files | store size (KiB) |',
    '| --- | --- | --- | --- | --- |',
    ...samples.map(row),
    '',
    `Last sample against the first after warm-up (batch ${first.batch}): heap ×${ratio('heapMiB').toFixed(2)}, processing ×${ratio('medianProcessingMs').toFixed(2)}, store files ×${ratio('storeFiles').toFixed(2)}, store size ×${ratio('storeKiB').toFixed(2)}.`,
    '',
  ].join('\n');
  console.log(text);
  await appendSection(text);
}

await main();
