/**
 * Light batches, before and after answering empty tasks in the driver (and the other per-batch cuts of the same
 * change), side by side in one run: the base commit's engine runs from a git worktree, this tree's from here, each
 * trial a child process of its own (`bench/lightBatchesChild.ts`), the sides alternating round by round so that the
 * load of a shared machine falls on both. Also times `getRange` against `borrowRange` in this process.
 *
 * `node --import tsx bench/lightBatches.ts [base=<commit, default main>] [rounds=5] [batches=200]`
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalFolderStore } from '../lib/storage/LocalFolderStore';
import { table, writeSection } from './resultsFile';
import { median } from './stats';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHILD = 'bench/lightBatchesChild.ts';
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=') as [string, string]));
const BASE = args.base ?? 'main';
const ROUNDS = Number(args.rounds ?? 5);
const BATCHES = Number(args.batches ?? 200);

/** The workloads: an export of `bench/jobs.ts` and its worker threads. */
const WORKLOADS = [
  { label: 'Empty batches, 2 worker threads', exportName: 'empty', workers: 2 },
  { label: 'Empty batches, 8 worker threads', exportName: 'empty', workers: 8 },
  // One line a second over 8 partitions: 7 of 8 map tasks have nothing, the reduce side a few words each.
  { label: 'WordCount, 1 line/s, 8 partitions, 8 worker threads', exportName: 'wordCount.1.8', workers: 8 },
  {
    label: 'WordCount, 20 lines/s, 8 partitions, 8 worker threads',
    exportName: 'wordCount.20.8',
    workers: 8,
  },
] as const;

/** A worktree of the base commit, sharing this tree's node_modules, with the child script copied in. */
function baseTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-light-base-'));
  execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', dir, BASE], { stdio: 'ignore' });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  if (!existsSync(join(dir, CHILD))) copyFileSync(join(ROOT, CHILD), join(dir, CHILD));
  return dir;
}

function child(tree: string, ...argv: string[]): Record<string, number[] & number> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', CHILD, ...argv], {
    cwd: tree,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const fixed = (x: number, digits = 2) => x.toFixed(digits);

/** ms per range read of `bytes`, `getRange` against `borrowRange` (released at once), alternating, medians of 9. */
async function rangeReads(bytes: number): Promise<{ get: number[]; borrow: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-light-ranges-'));
  try {
    const store = new LocalFolderStore(dir, { fsync: false });
    await store.put('shuffle/1/0/0', Buffer.alloc(4 * bytes, 'x'));
    const reads = Math.max(20, Math.round((64 * 1024 * 1024) / bytes));
    const time = async (read: (start: number) => Promise<unknown>) => {
      const started = performance.now();
      for (let i = 0; i < reads; i++) await read((i % 3) * bytes);
      return (performance.now() - started) / reads;
    };
    const get: number[] = [];
    const borrow: number[] = [];
    for (let r = 0; r < 9; r++) {
      get.push(await time((start) => store.getRange('shuffle/1/0/0', start, start + bytes)));
      borrow.push(
        await time(async (start) =>
          (await store.borrowRange('shuffle/1/0/0', start, start + bytes)).release(),
        ),
      );
    }
    return { get, borrow };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const started = new Date();
  const loadBefore = loadavg();
  const base = baseTree();
  const baseCommit = execFileSync('git', ['-C', base, 'rev-parse', '--short', 'HEAD'], {
    encoding: 'utf8',
  }).trim();
  const headCommit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], {
    encoding: 'utf8',
  }).trim();
  const rows: unknown[][] = [];
  try {
    for (const w of WORKLOADS) {
      const sides = { before: [] as number[][], after: [] as number[][], tasksBefore: 0, tasksAfter: 0 };
      for (let r = 0; r < ROUNDS; r++) {
        // Alternate which side goes first, so neither always runs on the warmer (or busier) machine.
        const order = r % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const);
        for (const side of order) {
          const tree = side === 'before' ? base : ROOT;
          const out = child(tree, 'trial', w.exportName, String(w.workers), String(BATCHES));
          sides[side].push(out.processingMs as unknown as number[]);
          if (side === 'before') sides.tasksBefore = median(out.tasks as unknown as number[]);
          else sides.tasksAfter = median(out.tasks as unknown as number[]);
        }
      }
      const medians = (runs: number[][]) => runs.map((run) => median(run));
      const means = (runs: number[][]) => runs.map((run) => mean(run));
      const before = median(means(sides.before));
      const after = median(means(sides.after));
      rows.push([
        w.label,
        sides.tasksAfter,
        `${medians(sides.before).join(', ')} / ${medians(sides.after).join(', ')}`,
        `${means(sides.before)
          .map((x) => fixed(x))
          .join(', ')} / ${means(sides.after)
          .map((x) => fixed(x))
          .join(', ')}`,
        `**${fixed(before)}** / **${fixed(after)}**`,
        `×${fixed(after / before)}`,
        after < 5 ? 'met' : 'not met',
      ]);
      console.log(rows.at(-1)!.join(' | '));
    }
    const judged = { before: [] as number[], after: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      judged.before.push(child(base, 'checkpoints', '2000').msPerCheckpoint as number);
      judged.after.push(child(ROOT, 'checkpoints', '2000').msPerCheckpoint as number);
    }
    const checkpointRow = [
      'A checkpoint judged, made into text and recorded (RedundantCheckpoints), per checkpoint (ms)',
      '',
      '',
      `${judged.before.map((x) => fixed(x, 3)).join(', ')} / ${judged.after.map((x) => fixed(x, 3)).join(', ')}`,
      `**${fixed(median(judged.before), 3)}** / **${fixed(median(judged.after), 3)}**`,
      `×${fixed(median(judged.after) / median(judged.before))}`,
      '',
    ];
    rows.push(checkpointRow);
    console.log(checkpointRow.join(' | '));
    for (const bytes of [64 * 1024, 2 * 1024 * 1024]) {
      const { get, borrow } = await rangeReads(bytes);
      const row = [
        `A range of ${bytes / 1024} KiB read: getRange / borrowRange, per read (ms)`,
        '',
        '',
        `${get.map((x) => fixed(x, 3)).join(', ')} / ${borrow.map((x) => fixed(x, 3)).join(', ')}`,
        `**${fixed(median(get), 3)}** / **${fixed(median(borrow), 3)}**`,
        `×${fixed(median(borrow) / median(get))}`,
        '',
      ];
      rows.push(row);
      console.log(row.join(' | '));
    }
  } finally {
    execFileSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', base], { stdio: 'ignore' });
  }
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  await writeSection(
    'light-batches',
    [
      `Run ${started.toISOString()}, before ${baseCommit} (${BASE}), after ${headCommit}; ${cpus()[0]?.model ?? 'unknown CPU'}, ` +
        `${availableParallelism()} cores (nproc), Node ${process.version}, ${ROUNDS} rounds of ${BATCHES} batches on the ` +
        `logical clock, fsync off; load average (1/5/15 min) ${load(loadBefore)} before, ${load(loadavg())} after.`,
      '',
      ...table(
        [
          'Workload',
          'Tasks per batch',
          'Median processing per round, before / after (ms)',
          'Mean per round, before / after (ms)',
          'Median of means, before / after (ms)',
          'after / before',
          'Target < 5 ms',
        ],
        rows,
      ),
    ].join('\n'),
  );
}

await main();
