import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSluice } from '../helpers/sluiceProcess';

const root = new URL('../..', import.meta.url).pathname;
const _bin = join(root, 'lib/local/sluice.mjs');

/** The lines of a text, without the empty one after the last newline. */
const linesOf = (text: string) => text.split('\n').filter((line) => line !== '');

let dir: string;

/**
 * A job of two batches whose `mapPartitions` function throws the first time it is called in the process: one task
 * of the first batch fails once and is retried (the tasks run in the main thread: `--workers 0`).
 */
async function flakyJob(): Promise<string> {
  await writeFile(
    join(dir, 'flaky.mjs'),
    [
      'let calls = 0;',
      'export function failOnce(records) {',
      "  if (calls++ === 0) throw new Error('the first call fails');",
      '  return records;',
      '}',
    ].join('\n'),
  );
  const job = {
    name: 'flaky',
    batchIntervalMs: 1000,
    functions: './flaky.mjs',
    sources: { lines: { type: 'queue', batches: [['a b', 'b c'], ['c d']] } },
    streams: {
      words: {
        from: 'lines',
        ops: [
          { op: 'flatMap', fn: 'splitWords' },
          { op: 'mapPartitions', fn: 'failOnce' },
        ],
      },
    },
    outputs: [{ stream: 'words', type: 'print' }],
  };
  const path = join(dir, 'flaky.json');
  await writeFile(path, JSON.stringify(job));
  return path;
}

const run = (job: string, ...flags: string[]) =>
  runSluice(
    ['run', job, '--fast', '--batches', '2', '--workers', '0', '--store', join(dir, 'store'), ...flags],
    dir,
  );

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-logs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sluice run logs', () => {
  it('logs a retried task once, with its cause, beside the usual batch lines', async () => {
    // given a job whose first task fails once
    const job = await flakyJob();
    // when it runs with the default log settings
    const result = await run(job);
    // then the retry is one line naming the task, the attempt and the error, and the batch lines are unchanged
    expect(result.code).toBe(0);
    const retries = linesOf(result.stderr).filter((line) => /retrying/.test(line));
    expect(retries).toEqual([
      expect.stringMatching(
        /^Task \d of stage 0 of batch 1000 ms failed on attempt 1 of 4 in streams\.words\.ops\[1\] \(mapPartitions\); retrying: Error: the first call fails$/,
      ),
    ]);
    expect(result.stderr).toMatch(/^Batch 1000 ms: total delay \d+\.\d{3} s .*, 2 tasks/m);
    expect(result.stderr).toMatch(/^Batch 2000 ms: total delay/m);
  });

  it('names a batch on the real clock by its date too, as the Streaming UI does', async () => {
    // given the same job
    const job = await flakyJob();
    // when it runs one batch on the real clock (no --fast)
    const result = await runSluice(
      ['run', job, '--batches', '1', '--workers', '0', '--store', join(dir, 'store')],
      dir,
    );
    // then its batch line carries the UTC date the UI's batch tables show, and so does its task's retry line
    expect(result.code).toBe(0);
    const date = /^Batch 1000 ms \((\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d) UTC\): total delay/m.exec(
      result.stderr,
    )?.[1];
    expect(date).toBeDefined();
    expect(result.stderr).toMatch(
      new RegExp(
        `^Task \\d of stage 0 of batch 1000 ms \\(${date} UTC\\) failed on attempt 1 of 4 .*; retrying`,
        'm',
      ),
    );
  });

  it('hides info lines at --log-level warn, and keeps the warnings', async () => {
    // given the same job
    const job = await flakyJob();
    // when it runs at --log-level warn
    const result = await run(job, '--log-level', 'warn');
    // then the batch lines (info) are gone, and the retry (a warning) is there
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/^Batch \d+ ms/m);
    expect(linesOf(result.stderr).filter((line) => /retrying/.test(line))).toHaveLength(1);
  });

  it('writes parseable JSON lines with --log-json: level, message, job and the batch time', async () => {
    // given the same job
    const job = await flakyJob();
    // when it runs with --log-json
    const result = await run(job, '--log-json');
    // then every line on stderr is a JSON object of the job
    expect(result.code).toBe(0);
    const lines = linesOf(result.stderr).map((line) => JSON.parse(line) as Record<string, any>);
    for (const line of lines) {
      expect(line).toMatchObject({ level: expect.any(String), message: expect.any(String), job: 'flaky' });
    }
    // and each batch's line carries its time and figures, the retry its task and cause
    const batches = lines.filter((line) => /^Batch/.test(line.message));
    expect(batches.map((line) => [line.level, line.batchTime, line.tasks])).toEqual([
      ['INFO', 1000, 2],
      ['INFO', 2000, 2],
    ]);
    const retries = lines.filter((line) => /retrying/.test(line.message));
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({
      level: 'WARN',
      batchTime: 1000,
      stageId: 0,
      attempt: 1,
      error: 'Error: the first call fails',
      op: 'streams.words.ops[1] (mapPartitions)',
    });
  });

  it('logs a failed batch once, with its cause', async () => {
    // given a job whose function fails on every attempt of its two tries
    await writeFile(
      join(dir, 'broken.mjs'),
      "export function explode() { throw new Error('the partition exploded'); }\n",
    );
    const job = {
      name: 'broken',
      batchIntervalMs: 1000,
      maxTaskAttempts: 2,
      functions: './broken.mjs',
      sources: { lines: { type: 'queue', batches: [['a b']], partitions: 1 } },
      streams: { words: { from: 'lines', ops: [{ op: 'mapPartitions', fn: 'explode' }] } },
      outputs: [{ stream: 'words', type: 'print' }],
    };
    await writeFile(join(dir, 'broken.json'), JSON.stringify(job));
    // when it runs with --log-json
    const result = await run(join(dir, 'broken.json'), '--log-json');
    // then one error line says which batch failed and why, after one retry line
    expect(result.code).toBe(1);
    const lines = linesOf(result.stderr).map((line) => JSON.parse(line) as Record<string, any>);
    const errors = lines.filter((line) => line.level === 'ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ batchTime: 1000 });
    expect(errors[0]!.error).toMatch(
      /task 0 of stage 0 failed 2 time\(s\); last error: Error: the partition exploded/,
    );
    expect(lines.filter((line) => /retrying/.test(line.message))).toHaveLength(1);
    expect(lines.filter((line) => /the partition exploded/.test(JSON.stringify(line)))).toHaveLength(2);
  });

  it('refuses an unknown log level with exit code 2', async () => {
    const result = await runSluice(['run', 'job.json', '--log-level', 'loud'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/expected one of debug, info, warn, error, got loud/);
  });
});
