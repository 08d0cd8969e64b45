import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;

describe('sluice --version', () => {
  it("prints the package's version and exits 0", async () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const { stdout } = await promisify(execFile)(process.execPath, [
        join(root, 'lib/local/sluice.mjs'),
        flag,
      ]);
      expect(stdout).toBe(`${version}\n`);
    }
  });
});

/** The help of one command, with its lines joined, as commander wraps them to the terminal's width. */
async function helpOf(command: string): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    join(root, 'lib/local/sluice.mjs'),
    command,
    '--help',
  ]);
  return stdout.replace(/\s+/g, ' ');
}

describe('sluice <command> --help', () => {
  it('names every kind of job file that run and validate take', async () => {
    // when run's and validate's help are printed
    // then both name the job modules in JavaScript too, and the named export
    for (const command of ['run', 'validate']) {
      expect(await helpOf(command)).toContain(
        'a job document (.json) or a job module (.ts, .mts, .js, .mjs; path#exportName for a named export)',
      );
    }
  });

  it("gives lambda-host's tick default as a duration, as --tick takes one", async () => {
    expect(await helpOf('lambda-host')).toContain('(0 for never) (default: 60s)');
  });
});
