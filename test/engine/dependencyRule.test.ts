import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const checker = fileURLToPath(new URL('../helpers/checkDependencies.mjs', import.meta.url));
const roots: string[] = [];

/** Runs the dependency check over a made-up repository of the given files (path → text). */
function check(files: Record<string, string>): { status: number | null; stderr: string } {
  const root = mkdtempSync(join(tmpdir(), 'sluice-deps-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const run = spawnSync(process.execPath, [checker, root], { encoding: 'utf8' });
  return { status: run.status, stderr: run.stderr };
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('the dependency rule (test/helpers/checkDependencies.mjs)', () => {
  it('holds for this repository', () => {
    const run = spawnSync(process.execPath, [checker], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('sees a dynamic import that is not awaited on its own line', () => {
    const run = check({
      'lib/local/cli.ts': 'export const main = 1;\n',
      'lib/dataset/Lazy.ts':
        "export const load = () => Promise.all([import('../local/cli'), import('./Other')]);\n",
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      'lib/dataset/Lazy.ts imports lib/local/cli: the engine core must not depend on the local runtime',
    );
  });

  it('sees a file loaded by new URL(..., import.meta.url)', () => {
    const run = check({
      'lib/scheduler/Pool.ts':
        "export const entry = new URL('../devhost/lambdaRunner.mjs', import.meta.url);\n" +
        "export const handlers = new URL('../../functions/', import.meta.url);\n",
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      'lib/scheduler/Pool.ts imports lib/devhost/lambdaRunner.mjs: the engine core must not depend on the development Lambda host',
    );
    expect(run.stderr).toContain(
      'lib/scheduler/Pool.ts imports functions: the engine must not depend on functions/',
    );
  });

  it('keeps Powertools out of the engine: only lib/aws/ logs through it', () => {
    const run = check({
      'lib/aws/PowertoolsLog.ts': "import { Logger } from '@aws-lambda-powertools/logger';\n",
      'lib/scheduler/Log.ts': "import { Logger } from '@aws-lambda-powertools/logger';\n",
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      'lib/scheduler/Log.ts imports @aws-lambda-powertools/logger: the engine stays free of AWS',
    );
    expect(run.stderr).not.toContain('lib/aws/PowertoolsLog.ts');
  });

  it("lets the package's entry export the local runtime, but not load lib/aws", () => {
    const run = check({
      'lib/index.ts':
        "export { runBatches } from './local/LocalRuntime';\nexport { KinesisSource } from './aws/KinesisSource';\n",
      'lib/local/LocalRuntime.ts': 'export const runBatches = 1;\n',
      'lib/aws/KinesisSource.ts': 'export class KinesisSource {}\n',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      "lib/index.ts imports lib/aws/KinesisSource: the package's entry must not load lib/aws/",
    );
    expect(run.stderr).not.toContain('lib/index.ts imports lib/local/LocalRuntime');
  });

  it('lets the development host serve functions/, and keeps lib/aws off lib/local and lib/devhost', () => {
    const ok = check({
      'lib/devhost/localFunctions.ts': "export const dir = new URL('../../functions/', import.meta.url);\n",
      'lib/aws/WorkerRuntime.ts': "import { LocalFolderStore } from '../storage/LocalFolderStore';\n",
      'lib/storage/LocalFolderStore.ts': 'export class LocalFolderStore {}\n',
    });
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    const broken = check({
      'lib/aws/WorkerRuntime.ts': "import { LocalFolderStore } from '../local/LocalFolderStore';\n",
      'lib/local/LocalFolderStore.ts': 'export class LocalFolderStore {}\n',
    });
    expect(broken.status).toBe(1);
    expect(broken.stderr).toContain(
      'lib/aws/WorkerRuntime.ts imports lib/local/LocalFolderStore: the serverless runtime must not depend on lib/local/',
    );
  });
});
