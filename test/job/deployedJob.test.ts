import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobValidationError } from '../../lib/errors';
import { buildDeployedJob } from '../../lib/job/buildDeployedJob';
import { DeployedModules } from '../../lib/job/DeployedModules';
import { findJobModules, handlerEntrySource } from '../../lib/job/jobModuleFiles';
import * as moodFunctions from '../fixtures/jobs/moodFunctions';
import * as moodJob from '../fixtures/jobs/moodJob';

const fixtures = new URL('../fixtures/jobs/', import.meta.url).pathname;

/** The JSON problems a build throws, as `path: message` lines. */
async function issuesOf(build: Promise<unknown>): Promise<{ path: string; message: string }[]> {
  try {
    await build;
  } catch (error) {
    if (error instanceof JobValidationError) return [...error.issues];
    throw error;
  }
  throw new Error('the build succeeded');
}

describe('a job document on the serverless runtime', () => {
  const deployedModules = new DeployedModules().add({ moodJob, moodFunctions });
  const options = { baseDir: '/', deployedModules };

  it('builds a TypeScript job module named by the document', async () => {
    // given a document naming the deployed module
    // when it is built
    const ssc = await buildDeployedJob({ name: 'moods', module: 'moodJob' }, options);
    // then the module's graph is built: its options, its source and its outputs
    expect(ssc.batchIntervalMs).toBe(1000);
    expect(ssc.graph.inputs).toHaveLength(1);
    expect(ssc.graph.outputs.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses a module that was not deployed, at the path "module", with the deployed ones', async () => {
    const issues = await issuesOf(buildDeployedJob({ name: 'moods', module: 'moodJobb' }, options));
    expect(issues).toEqual([
      expect.objectContaining({
        path: 'module',
        message: expect.stringMatching(
          /no module named "moodJobb".*deployed modules: moodFunctions, moodJob \(add it to the CDK context option sluice:jobModules and deploy again; in host mode, to sluice lambda-host --modules\)/,
        ),
      }),
    ]);
  });

  it('refuses an export that holds no job, and fields that belong in the module', async () => {
    const missing = await issuesOf(
      buildDeployedJob({ name: 'moods', module: 'moodJob', export: 'nothing' }, options),
    );
    expect(missing).toEqual([
      expect.objectContaining({ path: 'export', message: expect.stringMatching(/its jobs: default, local/) }),
    ]);
    const extra = await issuesOf(
      buildDeployedJob({ name: 'moods', module: 'moodJob', batchIntervalMs: 1000 }, options),
    );
    expect(extra.map((i) => i.path)).toEqual(['batchIntervalMs']);
  });

  it('looks a JSON job\'s functions module up by its file name, and refuses one not deployed at "functions"', async () => {
    const doc = (functions: string) => ({
      name: 'moody',
      batchIntervalMs: 1000,
      functions,
      sources: { q: { type: 'queue', batches: [[{ user: 'u', text: 'love you' }]] } },
      streams: { m: { from: 'q', ops: [{ op: 'map', fn: 'moodPair' }] } },
      outputs: [{ stream: 'm', type: 'print' }],
    });
    // the same document that runs locally with ./moodFunctions.ts runs with the deployed module of that name
    await expect(buildDeployedJob(doc('./moodFunctions.ts'), options)).resolves.toBeDefined();
    const issues = await issuesOf(buildDeployedJob(doc('spamFunctions.ts'), options));
    expect(issues).toEqual([
      expect.objectContaining({
        path: 'functions',
        message: expect.stringMatching(
          /no module named "spamFunctions".*deployed modules: moodFunctions, moodJob/,
        ),
      }),
    ]);
  });

  it('says so when the deployment has no modules at all', async () => {
    const issues = await issuesOf(
      buildDeployedJob(
        { name: 'm', module: 'moodJob' },
        { baseDir: '/', deployedModules: new DeployedModules() },
      ),
    );
    expect(issues[0]!.message).toMatch(
      /has no job modules.*sluice:jobModules; in host mode, to sluice lambda-host --modules/,
    );
  });

  it('refuses socket and folder sources at their type, before anything connects or reads', async () => {
    // given a JSON job whose sources read a socket and a folder, which only local mode can
    const doc = {
      name: 'local-only',
      batchIntervalMs: 1000,
      sources: {
        lines: { type: 'socket', host: '169.254.169.254', port: 80 },
        files: { type: 'textFileStream', directory: 'in' },
      },
      streams: { all: { from: 'lines', ops: [{ op: 'union', with: ['files'] }] } },
      outputs: [{ type: 'print', stream: 'all' }],
    };
    // when it is built for the serverless runtime
    const issues = await issuesOf(buildDeployedJob(doc, options));
    // then each source is refused at its type, with what to use instead
    expect(issues).toEqual([
      expect.objectContaining({
        path: 'sources.lines.type',
        message: expect.stringMatching(/socket sources run only in local mode.*kinesis or s3Prefix/),
      }),
      expect.objectContaining({ path: 'sources.files.type', message: expect.stringMatching(/folder/) }),
    ]);
  });
});

describe('the modules a deployment bundles', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-modules-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('are the module files of a folder, by file name, or the files of a list', () => {
    expect(findJobModules(fixtures, '/').map((m) => m.name)).toEqual(['moodFunctions', 'moodJob']);
    expect(findJobModules('moodJob.ts, moodFunctions.ts', fixtures)).toEqual([
      { name: 'moodJob', file: join(fixtures, 'moodJob.ts') },
      { name: 'moodFunctions', file: join(fixtures, 'moodFunctions.ts') },
    ]);
  });

  it('refuse a missing path, an empty folder, a file that is no module, and two files of one name', async () => {
    expect(() => findJobModules('nope', dir)).toThrow(/nope does not exist/);
    expect(() => findJobModules('.', dir)).toThrow(/holds no module/);
    await writeFile(join(dir, 'a.json'), '{}');
    expect(() => findJobModules('a.json', dir)).toThrow(/is not a module/);
    await writeFile(join(dir, 'moodJob.ts'), 'export {};');
    expect(() => findJobModules(`moodJob.ts,${join(fixtures, 'moodJob.ts')}`, dir)).toThrow(
      /would both be the module moodJob/,
    );
  });

  it('are imported statically by the generated entry and registered by name before the handler', () => {
    const source = handlerEntrySource('/app/functions/worker.ts', findJobModules(fixtures, '/'));
    expect(source).toContain(
      `import * as module0 from ${JSON.stringify(join(fixtures, 'moodFunctions.ts'))};`,
    );
    expect(source).toContain(`import * as module1 from ${JSON.stringify(join(fixtures, 'moodJob.ts'))};`);
    expect(source).toMatch(
      /deployModules\(\{\n {2}"moodFunctions": module0,\n {2}"moodJob": module1,\n\}\);/,
    );
    expect(source).toContain('export { handler } from "/app/functions/worker.ts";');
    expect(source).not.toMatch(/import\(/);
  });
});
