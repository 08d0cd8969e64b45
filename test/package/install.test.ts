import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deployment, until } from '../infra/deployment';
import { startMinistack } from '../infra/ministack';

const root = new URL('../..', import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let dir: string;
let app: string;
/** What `npm install` of the package alone put into the project's node_modules. */
let installedAlone: string[];

/**
 * Runs a command in the user's project and returns its output, or fails with it. Asynchronous: a synchronous
 * child would block the test worker's event loop for the whole install.
 */
async function run(
  command: string,
  args: readonly string[],
  cwd = app,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await promisify(execFile)(command, args, {
      cwd,
      env,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
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

/** A job module for Lambda, as a user's project writes one: it reads the deployment's Kinesis stream. */
const kinesisJob = `import { defineJob, kinesisStream } from 'sluice';

export default defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  kinesisStream(ssc, { maxRecordsPerShard: 500 })
    .flatMap((line) => line.split(' '))
    .countByValue()
    .print();
});
`;

/** The CDK app of the README's "Deploy from the installed package", as a user writes it. */
const cdkApp = `import { App } from 'aws-cdk-lib';
import { SluiceStack, stackPropsFromContext } from 'sluice/cdk';

const app = new App();
const { stackName, props } = stackPropsFromContext((key) => app.node.tryGetContext(key));
new SluiceStack(app, stackName, props);
`;

/** The version of a package this checkout installed: `npm ci` put exactly that one into npm's cache. */
/** A strict, Node16-resolution tsconfig in the project that type-checks `file` only, as a user's project would. */
function writeTsconfig(name: string, file: string): void {
  writeFileSync(
    join(app, name),
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
      files: [file],
    }),
  );
}

const installedVersion = (name: string) =>
  (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
    .version;

type Resource = { Type: string; Properties: Record<string, any> };

/** A synthesized stack: its template, and the folder of each function's code in the cloud assembly. */
interface Synthesized {
  readonly resources: Record<string, Resource>;
  /** The Lambda functions by logical id. */
  readonly functions: [string, Resource][];
  /** The asset folder the function's code is zipped from, which `cdk deploy` uploads. */
  codeFolder(fn: Resource): string;
}

/**
 * Runs the user's CDK app the way `cdk synth` and `cdk deploy` run it (`node app.mjs` with the output folder and
 * the context in the environment), on plain node in the user's project, and reads the stack it wrote.
 */
async function synth(
  outdir: string,
  context: Record<string, string> = {},
  env: NodeJS.ProcessEnv = {},
): Promise<Synthesized> {
  await run(process.execPath, ['app.mjs'], app, {
    ...process.env,
    ...env,
    CDK_OUTDIR: outdir,
    CDK_CONTEXT_JSON: JSON.stringify(context),
  });
  const template = JSON.parse(readFileSync(join(outdir, 'Sluice.template.json'), 'utf8')) as {
    Resources: Record<string, Resource>;
  };
  const assets = JSON.parse(readFileSync(join(outdir, 'Sluice.assets.json'), 'utf8')) as {
    files: Record<string, { source: { path: string } }>;
  };
  return {
    resources: template.Resources,
    functions: Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function'),
    codeFolder: (fn) => {
      const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
      const asset = assets.files[hash];
      if (!asset) throw new Error(`no asset ${hash} in ${outdir}/Sluice.assets.json`);
      return join(outdir, asset.source.path);
    },
  };
}

/** A CloudFormation value as the text a function would get: references stand for names. */
function placeholder(value: unknown): string {
  if (typeof value === 'string') return value;
  const joined = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  return joined ? joined[1].map(placeholder).join(joined[0]) : 'placeholder-name';
}

/**
 * Loads a function's bundle on plain node, in the environment its template gives it, as Lambda's runtime does
 * at a cold start, and returns the type of its `handler` export.
 */
async function handlerType(file: string, fn: Resource): Promise<string> {
  const variables = fn.Properties.Environment.Variables as Record<string, unknown>;
  const env = {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    ...Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, placeholder(value)])),
  };
  const load = `console.log(typeof require(${JSON.stringify(file)}).handler)`;
  return (await run(process.execPath, ['-e', load], app, env)).stdout.trim();
}

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
  installedAlone = readdirSync(join(app, 'node_modules'));
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

  it('gives each stage its own copy of the record loops on plain node, from the compiled files', async () => {
    // given the compiled StageCode beside the compiled RecordLoops (the build keeps the `?stage=N` of its imports)
    const dataset = join(app, 'node_modules', 'sluice', 'dist', 'lib', 'dataset');
    const probe = `
      const { loopsFor } = await import(${JSON.stringify(pathToFileURL(join(dataset, 'StageCode.js')).href)});
      const shared = await import(${JSON.stringify(pathToFileURL(join(dataset, 'RecordLoops.js')).href)});
      const stage = (fn) => ({ datasets: [{ id: 0, type: 'mapPartitions', args: { kind: 'map', fn }, deps: [] }] });
      const [a, b] = [await loopsFor(stage('g/0')), await loopsFor(stage('g/1'))];
      console.log(JSON.stringify([a.recordStep === shared.recordStep, b.recordStep === shared.recordStep, a === b]));
    `;
    // when two stages with different functions ask for their loops
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe]);
    // then each got a copy of its own, neither the shared module
    expect(JSON.parse(stdout)).toEqual([false, false, false]);
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
    writeTsconfig('tsconfig.json', 'job.ts');
    await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.']);
  });
  it('gives a job module for Lambda its cloud streams from "sluice", typed, and refuses them locally', async () => {
    // given a module that imports kinesisStream from the package, as one under jobs/ for sluice:jobModules does
    writeFileSync(join(app, 'kinesis-job.ts'), kinesisJob);
    // when it is type-checked, then run locally
    writeTsconfig('tsconfig.kinesis.json', 'kinesis-job.ts');
    await run(process.execPath, [
      join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      'tsconfig.kinesis.json',
    ]);
    const local = await run('npx', [
      'sluice',
      'run',
      'kinesis-job.ts',
      '--fast',
      '--batches',
      '1',
      '--fresh',
    ]).then(
      () => undefined,
      (error: Error) => error.message,
    );
    // then it compiles, and local mode refuses the stream before a batch, saying where it runs
    expect(local).toContain('kinesisStream()');
    expect(local).toContain('serverless coordinator');
  });
});

describe('the installed package deploys with sluice/cdk', () => {
  // given the project with the CDK added (the package's optional peer dependencies) and the README's CDK app
  beforeAll(async () => {
    await run(npm, [
      'install',
      `aws-cdk-lib@${installedVersion('aws-cdk-lib')}`,
      `constructs@${installedVersion('constructs')}`,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
    ]);
    writeFileSync(join(app, 'app.mjs'), cdkApp);
  }, 600_000);

  it('is not pulled in by the package alone: aws-cdk-lib and constructs are optional peer dependencies', () => {
    expect(installedAlone).toContain('sluice');
    expect(installedAlone).not.toContain('aws-cdk-lib');
    expect(installedAlone).not.toContain('constructs');
  });

  it('synthesizes the stack on plain node, without tsx, its functions the code the package ships', async () => {
    const tsx = join(app, 'node_modules', 'tsx');
    renameSync(tsx, `${tsx}-away`);
    try {
      // when the app is synthesized, as `cdk deploy --app 'node app.mjs'` does first
      const out = join(dir, 'cdk.out');
      const stack = await synth(out);
      // then it holds the three functions and the encrypted bucket that blocks public access
      expect(stack.functions.map(([id]) => id.replace(/Function[0-9A-F]{8}$/, '')).sort()).toEqual([
        'Control',
        'Coordinator',
        'Worker',
      ]);
      const buckets = Object.values(stack.resources).filter((r) => r.Type === 'AWS::S3::Bucket');
      expect(buckets).toHaveLength(1);
      expect(buckets[0]!.Properties).toMatchObject({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      });
      // and each function's code is the package's bundle of its handler, unchanged (nothing was bundled), which
      // loads in the environment the stack gives the function
      for (const [id, fn] of stack.functions) {
        const handler = id.replace(/Function[0-9A-F]{8}$/, '').toLowerCase();
        expect(fn.Properties.Handler).toBe('index.handler');
        const code = join(stack.codeFolder(fn), 'index.js');
        expect(existsSync(code), `${id}: ${code}`).toBe(true);
        const shipped = join(app, 'node_modules', 'sluice', 'dist', 'lambda', handler, 'index.js');
        expect(readFileSync(code).equals(readFileSync(shipped)), `${code} is ${shipped}`).toBe(true);
        expect(await handlerType(code, fn)).toBe('function');
      }
    } finally {
      renameSync(`${tsx}-away`, tsx);
    }
  }, 120_000);

  it('types a TypeScript CDK app: its declarations type-check under Node16 resolution', async () => {
    // given a CDK app in TypeScript that sets props in code
    writeFileSync(
      join(app, 'cdkApp.ts'),
      `import { App, Duration } from 'aws-cdk-lib';
import { SluiceStack, type SluiceStackProps, stackPropsFromContext } from 'sluice/cdk';

const app = new App();
const { stackName, props } = stackPropsFromContext((key) => app.node.tryGetContext(key));
const settings: SluiceStackProps = { ...props, workerConcurrency: 5, coordinatorTimeout: Duration.minutes(2) };
const stack = new SluiceStack(app, stackName, settings);
export const bucketName: string = stack.bucket.bucket.bucketName;
`,
    );
    writeTsconfig('tsconfig.cdk.json', 'cdkApp.ts');
    // when tsc checks it, then it passes (run fails with tsc's report otherwise)
    await run(process.execPath, [
      join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      'tsconfig.cdk.json',
    ]);
  }, 120_000);

  it('deploys on ministack with cdklocal from the project, and the shipped code runs a job end to end', async () => {
    // given ministack, an emulator that runs the functions' code as node processes
    const ministack = await startMinistack();
    const stackName = `SluicePkg${process.pid.toString(36)}`;
    try {
      // when the user's app is bootstrapped and deployed from the user's project, as the README says
      const deployment = new Deployment(
        ministack.endpoint,
        stackName,
        join(dir, 'deploy'),
        {},
        {
          cwd: app,
          app: 'node app.mjs',
        },
      );
      await deployment.deploy();
      // and the README's hashtag job is started through the control function on tweets put into the stream
      await deployment.kinesis.send(
        new PutRecordsCommand({
          StreamName: deployment.output('StreamName'),
          Records: Array.from({ length: 20 }, (_, i) => ({
            PartitionKey: `user${i}`,
            Data: Buffer.from(
              JSON.stringify({ user: `user${i}`, text: `deployed from the #Installed package ${i}` }),
            ),
          })),
        }),
      );
      const start = JSON.parse(
        readFileSync(join(root, 'events', 'aws', 'start-hashtag-counts.json'), 'utf8'),
      );
      // (a function error throws, with the function's answer)
      const answer = await deployment.invoke(deployment.output('ControlFunctionName'), start);
      expect(answer).toMatchObject({ ok: true, job: 'hashtag-counts', state: 'running' });
      // then the coordinator and the workers count every tweet's hashtag into the job's output in the bucket
      const counted = await until(
        'the 20 tweets counted in outputs/hashtag-counts/counts/',
        async () => {
          for (const batch of await deployment.jsonlBatches('hashtag-counts/counts')) {
            const count = (batch.records as [string, number][]).find(([tag]) => tag === '#installed');
            if (count?.[1] === 20) return count;
          }
          return undefined;
        },
        180_000,
      );
      expect(counted).toEqual(['#installed', 20]);
    } finally {
      await ministack.stop();
    }
  }, 900_000);

  it("bundles the project's job modules (sluice:jobModules) into the functions with the esbuild it has", async () => {
    // given a job module of the user's project, which imports the package, in its jobs/ folder, and the esbuild
    // that npm installed with tsx
    mkdirSync(join(app, 'jobs'), { recursive: true });
    writeFileSync(join(app, 'jobs', 'words.mjs'), jsJob);
    expect(existsSync(join(app, 'node_modules', 'esbuild', 'package.json'))).toBe(true);
    // when the app is synthesized (jobs/ is the default of sluice:jobModules)
    const stack = await synth(join(dir, 'cdk-jobs.out'));
    // then each function is bundled with the module, registered under its name, and loads
    expect(stack.functions).toHaveLength(3);
    for (const [id, fn] of stack.functions) {
      expect(fn.Properties.Environment.Variables.SLUICE_JOB_MODULES).toBe('words');
      const code = join(stack.codeFolder(fn), 'index.js');
      const bundle = readFileSync(code, 'utf8');
      expect(bundle, id).toMatch(/deployModules\(\{\s+"words": \w+,?\s+\}\)/);
      expect(bundle, id).toContain('.collectBatches("counts")');
      // one registry, which the entry registers the module with and the handler looks it up in
      expect(bundle.match(/function deployModules\(/g), id).toHaveLength(1);
      expect(await handlerType(code, fn)).toBe('function');
    }
  }, 300_000);

  it('stops with what to install when the project has job modules but no esbuild', async () => {
    // given job modules, and no esbuild in the project or on PATH
    mkdirSync(join(app, 'jobs'), { recursive: true });
    writeFileSync(join(app, 'jobs', 'words.mjs'), jsJob);
    const esbuild = join(app, 'node_modules', 'esbuild');
    renameSync(esbuild, `${esbuild}-away`);
    const PATH = (process.env.PATH ?? '')
      .split(delimiter)
      .filter((folder) => !existsSync(join(folder, 'esbuild')))
      .join(delimiter);
    try {
      // when the app is synthesized, then it stops and says what to install, rather than trying Docker
      await expect(synth(join(dir, 'cdk-no-esbuild.out'), {}, { PATH })).rejects.toThrow(
        /Sluice \w+: deploying job modules \(sluice:jobModules\) bundles them with esbuild, which .+ does not have: run npm install --save-dev esbuild there/,
      );
    } finally {
      renameSync(`${esbuild}-away`, esbuild);
    }
  }, 120_000);
});
