/**
 * Folder input, side by side: the folder source planned (the driver lists the folder and plans byte ranges; the
 * batch's tasks read the files) against read at the tick (the driver reads the new files, splits their lines and
 * stores them as an input block before tasks run: the path a rate-limited folder still takes, here with a cap no
 * batch reaches). Both run the same Grep job (`filter` with `contains`, then `count`) on the logical clock in local
 * mode, with one worker thread per core, over the same files. Not part of `npm test`: a measurement, to stdout.
 *
 * Usage: `node --import tsx bench/folderInput.ts [mbPerBatch=16] [filesPerBatch=4] [batches=6] [runs=3]`.
 *
 * The files (100-byte generated lines) are written before the timing to a staging folder; the producer renames one
 * batch's files into the watched folder as the batch before completes, so no writing is timed. Per run, over the
 * batches with files: the median scheduling delay (on the logical clock, the driver's work at the tick: listing and
 * planning, or reading, splitting and storing), processing time and total delay, and lines per second of total delay.
 */
import { renameSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBatches } from '../lib/local/LocalRuntime';
import { GeneratorSource } from '../lib/source/GeneratorSource';
import { GREP_WORD } from './jobs';
import { median } from './stats';

const options = new Map(process.argv.slice(2).map((a) => a.split('=', 2) as [string, string]));
const mbPerBatch = Number(options.get('mbPerBatch') ?? 16);
const filesPerBatch = Number(options.get('filesPerBatch') ?? 4);
const batches = Number(options.get('batches') ?? 6);
const runs = Number(options.get('runs') ?? 3);
const workers = availableParallelism();
const LINE_BYTES = 100;

/** One batch's files: `filesPerBatch` files of generated lines, `mbPerBatch` MiB in all. */
function batchFiles(): { files: Buffer[]; lines: number } {
  const source = new GeneratorSource({ kind: 'lines', ratePerSec: 1000, lineBytes: LINE_BYTES - 1 });
  const linesPerFile = Math.floor((mbPerBatch * 1024 * 1024) / filesPerBatch / LINE_BYTES);
  const files: Buffer[] = [];
  for (let f = 0; f < filesPerBatch; f++) {
    const lines: string[] = [];
    for (let i = 0; i < linesPerFile; i++) lines.push(source.recordAt(f * linesPerFile + i) as string);
    files.push(Buffer.from(`${lines.join('\n')}\n`));
  }
  return { files, lines: linesPerFile * filesPerBatch };
}

interface Run {
  readonly schedulingMs: number;
  readonly processingMs: number;
  readonly totalMs: number;
  readonly linesPerSec: number;
  readonly matches: number;
}

async function runOnce(side: 'planned' | 'at tick', files: Buffer[], linesPerBatch: number): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-folder-bench-'));
  try {
    await mkdir(join(dir, 'in'));
    // Batch 1 finds the folder empty; batches 2 … batches+1 each get one set of files.
    for (let b = 2; b <= batches + 1; b++) {
      await mkdir(join(dir, 'staging', String(b)), { recursive: true });
      for (const [i, bytes] of files.entries()) {
        await writeFile(join(dir, 'staging', String(b), `b${String(b).padStart(4, '0')}-${i}.txt`), bytes);
      }
    }
    const producer = {
      // Synchronous: the scheduler does not wait for a listener, and the next batch must find all its files.
      onBatchCompleted: (info: { batchTime: number }) => {
        const next = info.batchTime / 1000 + 1;
        if (next > batches + 1) return;
        for (let i = 0; i < files.length; i++) {
          const name = `b${String(next).padStart(4, '0')}-${i}.txt`;
          renameSync(join(dir, 'staging', String(next), name), join(dir, 'in', name));
        }
      },
    };
    const document = {
      name: 'folder-bench',
      batchIntervalMs: 1000,
      sources: {
        lines: {
          type: 'textFileStream',
          directory: 'in',
          partitions: workers,
          ...(side === 'at tick' ? { maxRatePerSec: 100_000_000 } : {}),
        },
      },
      streams: {
        matches: {
          from: 'lines',
          ops: [{ op: 'filter', fn: 'contains', args: { word: GREP_WORD } }, { op: 'count' }],
        },
      },
      outputs: [{ stream: 'matches', type: 'collectBatches' }],
    };
    const result = await runBatches({ kind: 'document', document, baseDir: dir }, batches + 1, {
      workers,
      storeDir: join(dir, 'store'),
      outputDir: join(dir, 'out'),
      listeners: [producer],
    });
    if (result.error) throw result.error;
    const fed = result.batches.slice(1);
    if (fed.some((b) => b.records !== linesPerBatch)) {
      throw new Error(
        `${side}: a batch read ${fed.map((b) => b.records).join(', ')} lines, not ${linesPerBatch}`,
      );
    }
    const totalMs = median(fed.map((b) => b.totalDelayMs));
    return {
      schedulingMs: median(fed.map((b) => b.schedulingDelayMs)),
      processingMs: median(fed.map((b) => b.processingTimeMs)),
      totalMs,
      linesPerSec: Math.round(linesPerBatch / (totalMs / 1000)),
      matches: result
        .recordsOf('matches')
        .slice(1)
        .flat()
        .reduce((a: number, b) => a + (b as number), 0),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const { files, lines } = batchFiles();
const loadBefore = loadavg()
  .map((l) => l.toFixed(1))
  .join(' / ');
const results: Record<'planned' | 'at tick', Run[]> = { planned: [], 'at tick': [] };
for (let r = 0; r < runs; r++) {
  // Alternated, so a burst of load from other processes does not land on one side only.
  for (const side of r % 2 === 0 ? (['planned', 'at tick'] as const) : (['at tick', 'planned'] as const)) {
    const run = await runOnce(side, files, lines);
    results[side].push(run);
    console.error(`${side} run ${r + 1}: ${JSON.stringify(run)}`);
  }
}
const loadAfter = loadavg()
  .map((l) => l.toFixed(1))
  .join(' / ');
const [planned, atTick] = [results.planned, results['at tick']];
if (planned.some((p, i) => p.matches !== atTick[i]!.matches))
  throw new Error('the two sides counted different matches');
const row = (side: string, rs: Run[]) => {
  const list = (f: (r: Run) => number) => `${rs.map(f).join(', ')} (median ${median(rs.map(f))})`;
  return `| ${side} | ${list((r) => r.schedulingMs)} | ${list((r) => r.processingMs)} | ${list((r) => r.totalMs)} | ${list((r) => r.linesPerSec)} |`;
};
const ratio = median(planned.map((r) => r.linesPerSec)) / median(atTick.map((r) => r.linesPerSec));
console.log(
  [
    `- Date: ${new Date().toISOString()}; CPU: ${cpus()[0]?.model ?? 'unknown'}, ${workers} cores; Node ${process.version}`,
    `- Load (1/5/15 min): ${loadBefore} before, ${loadAfter} after`,
    `- ${batches} batches of ${filesPerBatch} files, ${mbPerBatch} MiB and ${lines} lines a batch; ${workers} partitions and worker threads`,
    '',
    '| Side | Scheduling delay p50 (ms) | Processing p50 (ms) | Total delay p50 (ms) | Lines/s of total delay |',
    '|---|---|---|---|---|',
    row('planned (tasks read)', planned),
    row('at tick (driver reads)', atTick),
    '',
    `Planned / at tick, median lines/s: ${ratio.toFixed(2)}×; matches counted: ${planned[0]?.matches} a run on both sides.`,
  ].join('\n'),
);
