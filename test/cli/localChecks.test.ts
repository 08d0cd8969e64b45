import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSluice } from '../helpers/sluiceProcess';

let dir: string;
let jobDir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-local-checks-'));
  jobDir = join(dir, 'job');
  await mkdir(jobDir);
  await writeFile(join(jobDir, 'fns.mjs'), 'export const shout = (s) => s.toUpperCase();\n');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a job document into the job folder: a queue of lines, shouted and printed, plus `fields`. */
async function writeJob(fields: Record<string, unknown>): Promise<string> {
  const job = {
    name: 'local-checks',
    batchIntervalMs: 1000,
    sources: { lines: { type: 'queue', batches: [['a', 'b']] } },
    streams: { loud: { from: 'lines', ops: [{ op: 'map', fn: 'shout' }] } },
    outputs: [{ stream: 'loud', type: 'print' }],
    functions: 'fns.mjs',
    ...fields,
  };
  const file = join(jobDir, 'job.json');
  await writeFile(file, JSON.stringify(job));
  return file;
}

/** A clean rejection: exit code 2, the issue at its path on stderr, and no stack trace. */
function expectRejected(result: { code: number | null; stderr: string }, line: RegExp): void {
  expect(result.stderr).toMatch(line);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.code).toBe(2);
}

describe('sluice validate and run check what a job needs of this machine', () => {
  it('refuses a textFileStream folder that is missing, or that is a file, at its path', async () => {
    // given a job watching a folder that does not exist
    const missing = await writeJob({ sources: { lines: { type: 'textFileStream', directory: 'in' } } });
    // when it is validated, then the folder is named at its path
    expectRejected(
      await runSluice(['validate', missing], dir),
      /sources\.lines\.directory: the folder .*\/in does not exist/,
    );
    // and given the folder is a file, when the job runs, then it is refused the same way (not exit 1)
    await writeFile(join(jobDir, 'in'), 'not a folder\n');
    expectRejected(
      await runSluice(['run', missing, '--fast', '--batches', '1', '--store', join(dir, 'store')], dir),
      /sources\.lines\.directory: names .*\/in, which is a file/,
    );
  });

  it('refuses a functions module that is a device, a text file, or a link to a device', async () => {
    // given functions naming /dev/zero, /etc/hostname and a .js link to /dev/zero
    await symlink('/dev/zero', join(jobDir, 'zero.js'));
    for (const [functions, message] of [
      ['/dev/zero', /functions: must be a module file ending in \.js, \.mjs, \.ts, \.mts/],
      ['/etc/hostname', /functions: must be a module file ending in/],
      ['zero.js', /functions: must be a regular module file, not a folder or a device/],
    ] as const) {
      const job = await writeJob({ functions });
      // when it is validated
      const result = await runSluice(['validate', job], dir);
      // then it is refused before anything is imported: nothing of the file leaks into the message
      expectRejected(result, message);
      expect(result.stderr).not.toMatch(/is not defined/);
    }
  });

  it('refuses a functions module outside the job folder unless --allow-functions-outside', async () => {
    // given a module beside the job folder, not in it
    await writeFile(join(dir, 'outside.mjs'), 'export const shout = (s) => s.toUpperCase();\n');
    const job = await writeJob({ functions: '../outside.mjs' });
    // when it is validated, then it is refused with the way out
    expectRejected(
      await runSluice(['validate', job], dir),
      /functions: must be inside the job file's folder; .*--allow-functions-outside/,
    );
    // and with the opt-out it is a valid job
    const allowed = await runSluice(['validate', '--allow-functions-outside', job], dir);
    expect(allowed.stderr).toBe('');
    expect(allowed.code).toBe(0);
  });

  it('refuses, before any batch, a jsonl path outside --out and a source that no output reads', async () => {
    // given a jsonl output climbing out of the output folder, and a source nothing reads
    const job = await writeJob({
      sources: { lines: { type: 'queue', batches: [['a']] }, spare: { type: 'queue', batches: [['b']] } },
      outputs: [
        { stream: 'loud', type: 'print' },
        { stream: 'loud', type: 'jsonl', path: '../escaped.jsonl' },
      ],
    });
    const out = join(dir, 'out');
    await mkdir(out);
    // when it runs
    const result = await runSluice(
      ['run', job, '--fast', '--batches', '1', '--store', join(dir, 'store'), '--out', out],
      dir,
    );
    // then both are reported at their paths, nothing was printed, and nothing was written outside --out
    expectRejected(result, /outputs\[1\]\.path: climbs out of the output folder/);
    expect(result.stderr).toMatch(/sources\.spare: is read by no output/);
    expect(result.stdout).toBe('');
    expect(existsSync(join(dir, 'escaped.jsonl'))).toBe(false);
  });

  it('refuses a job argument that names no job file in one line, and takes a folder holding #', async () => {
    // given a job in a folder whose name holds #, and a text file
    await mkdir(join(dir, 'a#b'));
    await writeFile(join(dir, 'a#b', 'ok.json'), await readFile(await writeJob({}), 'utf8'));
    await writeFile(join(dir, 'a#b', 'fns.mjs'), await readFile(join(jobDir, 'fns.mjs'), 'utf8'));
    await writeFile(join(dir, 'ok.txt'), '{}');
    // when each is validated: then the folder's job is valid (it used to import `a`)
    const hashed = await runSluice(['validate', 'a#b/ok.json'], dir);
    expect(hashed.stderr).toBe('');
    expect(hashed.code).toBe(0);
    // and a mistyped module, a folder and a text file are each one line, exit code 2, no stack trace
    for (const [argument, line] of [
      ['nonexist.ts', /^job nonexist\.ts: .*\/nonexist\.ts does not exist; give the path of a job document/],
      [dir, / is a folder; give the path of a job document \(\.json\) or a job module/],
      ['ok.txt', / is a \.txt file; give the path of a job document/],
    ] as const) {
      const result = await runSluice(['validate', argument], dir);
      expectRejected(result, line);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('rejects a TypeScript job whose generator seed is not a safe integer, without a stack trace', async () => {
    // given a job module whose generator has seed 1e21
    const engine = new URL('../../lib/job/JobModule.ts', import.meta.url).pathname;
    const file = join(jobDir, 'seedJob.ts');
    await writeFile(
      file,
      `import { defineJob } from '${engine}';\n` +
        'export default defineJob({ batchIntervalMs: 1000 }, (ssc) => {\n' +
        "  ssc.generatorStream({ kind: 'tweets', ratePerSec: 10, seed: 1e21 }).print();\n" +
        '});\n',
    );
    // when it is validated, then the engine's reason is the message and the exit code says invalid
    expectRejected(await runSluice(['validate', file], dir), /seed must be an integer, got 1e\+21/);
  });
});
