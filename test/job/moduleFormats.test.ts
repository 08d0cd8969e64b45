import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/**
 * A TypeScript job module, or a JSON job's `functions` module, loads whatever the surrounding package's `type`
 * is: the real `sluice` command runs it as a process, with worker threads that load it again.
 */

const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'lib/local/sluice.mjs');

function sluice(args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** A job with a closure and an import of the engine, as a user writes one. */
const jobSource = `import { defineJob } from ${JSON.stringify(join(root, 'lib/job/JobModule.ts'))};
const factor = 10;
export default defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc.queueStream([[1, 2], [3]]).map((x: number) => x * factor).print();
});
`;

const functionsSource = `export const times10 = (x: number): number => x * 10;
`;

const jsonJob = {
  name: 'times10',
  batchIntervalMs: 1000,
  functions: 'functions.ts',
  sources: { q: { type: 'queue', batches: [[1, 2], [3]] } },
  streams: { s: { from: 'q', ops: [{ op: 'map', fn: 'times10' }] } },
  outputs: [{ stream: 's', type: 'print' }],
};

/** What the job prints: its two batches, each value times ten. */
const EXPECTED = ['Time: 1000 ms', '10', '20', 'Time: 2000 ms', '30'];

const printed = (output: string) => output.split('\n').filter((line) => /^(Time: \d+ ms|\d+)$/.test(line));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-formats-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a user module in any kind of package', () => {
  const packages: [string, Record<string, unknown> | undefined][] = [
    ['a package without "type" (CommonJS)', { name: 'jobs' }],
    ['a "type": "commonjs" package', { name: 'jobs', type: 'commonjs' }],
    ['a "type": "module" package', { name: 'jobs', type: 'module' }],
    ['no package.json at all', undefined],
  ];

  for (const [where, manifest] of packages) {
    it(`runs a TypeScript job module in ${where}`, async () => {
      // given job.ts in such a folder
      if (manifest) await writeFile(join(dir, 'package.json'), JSON.stringify(manifest));
      await writeFile(join(dir, 'job.ts'), jobSource);
      // when sluice runs it, with a worker thread that loads it too
      const result = await sluice(['run', 'job.ts', '--fast', '--batches', '2', '--workers', '1'], dir);
      // then it runs and prints both batches
      expect(result.output).not.toContain('ERR_REQUIRE');
      expect(result.code).toBe(0);
      expect(printed(result.output)).toEqual(EXPECTED);
    }, 60_000);

    it(`runs a JSON job whose functions module is in ${where}`, async () => {
      // given job.json and functions.ts in such a folder
      if (manifest) await writeFile(join(dir, 'package.json'), JSON.stringify(manifest));
      await writeFile(join(dir, 'functions.ts'), functionsSource);
      await writeFile(join(dir, 'job.json'), JSON.stringify(jsonJob));
      // when sluice runs it
      const result = await sluice(['run', 'job.json', '--fast', '--batches', '2', '--workers', '1'], dir);
      // then the functions module's function ran
      expect(result.code).toBe(0);
      expect(printed(result.output)).toEqual(EXPECTED);
    }, 60_000);
  }
});
