import { execFile } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let dir: string;
let app: string;

/**
 * Runs a command in the user's project and returns its output, or fails with it. Asynchronous: a synchronous
 * child would block the test worker's event loop for the whole install.
 */
async function run(
  command: string,
  args: readonly string[],
  cwd = app,
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await promisify(execFile)(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    // tsc and npm report on stdout as well: show both, not only the command line.
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout}\n${stderr}`);
  }
}

const jsJob = `import { defineJob } from 'sluice';

export default defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream([['a b', 'b'], ['c a']])
    .flatMap((line) => line.split(' '))
    .map((word) => [word, 1])
    .reduceByKey((x, y) => x + y, 2)
    .collectBatches('counts');
});
`;

const jsRun = `import { runBatches } from 'sluice';

const job = { kind: 'module', path: new URL('./job.mjs', import.meta.url).pathname };
const result = await runBatches(job, 2, { workers: 2 });
if (result.error) throw result.error;
console.log(JSON.stringify(result.recordsOf('counts').map((batch) => batch.sort())));
`;

const tsJob = `import { defineJob } from 'sluice';

export default defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .queueStream<string>([['x y x']])
    .flatMap((line) => line.split(' '))
    .countByValue()
    .print();
});
`;

// The package as a user gets it: `npm pack` (which builds dist/ first), installed into an empty project.
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-package-'));
  app = join(dir, 'app');
  await run(npm, ['pack', '--silent', '--pack-destination', dir], root);
  const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${dir}`);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true, "type": "module" }\n');
  await run(npm, ['install', join(dir, tarball), '--prefer-offline', '--no-audit', '--no-fund']);
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the installed package', () => {
  it('holds the compiled JavaScript and declarations, not the TypeScript sources', () => {
    const files = readdirSync(join(app, 'node_modules', 'sluice'), { recursive: true }) as string[];
    expect(files).toContain(join('dist', 'lib', 'index.js'));
    expect(files).toContain(join('dist', 'lib', 'index.d.ts'));
    expect(files).toContain(join('dist', 'lib', 'local', 'taskWorker.mjs'));
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
  });

  it('runs a JavaScript job on plain node, through `sluice` and `import from "sluice"`, without tsx', async () => {
    // given the package without tsx, as a JavaScript user could have it
    const tsx = join(app, 'node_modules', 'tsx');
    renameSync(tsx, `${tsx}-away`);
    try {
      writeFileSync(join(app, 'job.mjs'), jsJob);
      writeFileSync(join(app, 'run.mjs'), jsRun);
      // when asked for its version, then to run two batches on two worker threads
      expect((await run('npx', ['sluice', '--version'])).stdout.trim()).toBe(version);
      const counts = JSON.parse((await run(process.execPath, ['run.mjs'])).stdout);
      // then the batches are the job's word counts
      expect(counts).toEqual([
        [
          ['a', 1],
          ['b', 2],
        ],
        [
          ['a', 1],
          ['c', 1],
        ],
      ]);
      const cli = await run('npx', [
        'sluice',
        'run',
        'job.mjs',
        '--fast',
        '--batches',
        '2',
        '--workers',
        '2',
        '--fresh',
      ]);
      expect(cli.stderr).toContain('Batch 2000 ms');
    } finally {
      renameSync(`${tsx}-away`, tsx);
    }
  });

  it('runs a TypeScript job module, and its declarations type-check it under Node16 resolution', async () => {
    writeFileSync(join(app, 'job.ts'), tsJob);
    const { stdout: printed } = await run('npx', [
      'sluice',
      'run',
      'job.ts',
      '--fast',
      '--batches',
      '1',
      '--quiet',
      '--fresh',
    ]);
    expect(printed).toContain('(x,2)');
    expect(printed).toContain('(y,1)');
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          types: ['node'],
          typeRoots: [join(root, 'node_modules', '@types')],
        },
        files: ['job.ts'],
      }),
    );
    await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.']);
  });
});
