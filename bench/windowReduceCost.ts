/**
 * A windowed count in two trees side by side: this one and another checkout (`old=<dir>`, say a worktree of the
 * commit before a change). Each job of `bench/windowReduceJobs.ts` runs 75 batches on the logical clock with 2
 * worker threads, in a fresh process per run, the trees alternating which goes first each round. Reported per run:
 * the median processing time of batches 62–75 (the 60 s window full), the stages of a batch, and the shuffle bytes
 * of the last batch. The jobs file is copied into the other tree's `bench/`, so the same jobs run in both.
 *
 * Usage: `git worktree add /tmp/old <commit>` (with `node_modules` linked in), then
 * `node --import tsx bench/windowReduceCost.ts old=/tmp/old [jobs=usersRecomputed,usersIncremental] [rounds=3]`,
 * with `WINDOW_RATE`/`WINDOW_USERS` to change the input. Prints JSON lines; results go to `bench/RESULTS.md` by hand.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alternatingRounds } from './alternatingRounds';
import { median } from './stats';

const BATCHES = 75;
const FULL_FROM = 62;
const here = new URL('..', import.meta.url).pathname;

if (process.argv[2] === 'child') {
  const [root, exportName] = process.argv.slice(3) as [string, string];
  const { LocalRuntime } = await import(join(root, 'lib/local/LocalRuntime.ts'));
  const dir = await mkdtemp(join(tmpdir(), 'sluice-window-bench-'));
  const infos: Array<{ processingTimeMs: number; stages: number; shuffleBytes: number }> = [];
  try {
    const runtime = await LocalRuntime.start(
      { kind: 'module', path: join(root, 'bench/windowReduceJobs.ts'), exportName },
      {
        clock: 'logical',
        batches: BATCHES,
        workers: 2,
        storeDir: dir,
        write: () => {},
        listeners: [{ onBatchCompleted: (i: never) => infos.push(i) }],
      },
    );
    const summary = await runtime.run();
    if (summary.error) throw summary.error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const full = infos.slice(FULL_FROM - 1);
  console.log(
    JSON.stringify({
      processingMs: median(full.map((i) => i.processingTimeMs)),
      stages: full[0]!.stages,
      shuffleBytes: full.at(-1)!.shuffleBytes,
    }),
  );
} else {
  const options = new Map(process.argv.slice(2).map((a) => a.split('=', 2) as [string, string]));
  const old = options.get('old');
  if (!old) throw new Error('usage: bench/windowReduceCost.ts old=<another checkout> [jobs=a,b] [rounds=3]');
  copyFileSync(join(here, 'bench/windowReduceJobs.ts'), join(old, 'bench/windowReduceJobs.ts'));
  const roots = { old, new: here } as const;
  for (const job of (options.get('jobs') ?? 'usersRecomputed,usersIncremental').split(',')) {
    const { runs, loadBefore, loadAfter } = await alternatingRounds(
      ['old', 'new'] as const,
      Number(options.get('rounds') ?? 3),
      async (side) => {
        const child = spawnSync(
          process.execPath,
          ['--import', 'tsx', new URL(import.meta.url).pathname, 'child', roots[side], job],
          { encoding: 'utf8' },
        );
        if (child.status !== 0) throw new Error(child.stderr);
        return JSON.parse(child.stdout.trim().split('\n').at(-1)!);
      },
    );
    console.log(JSON.stringify({ job, loadBefore, loadAfter, runs: Object.fromEntries(runs) }));
  }
}
