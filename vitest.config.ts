import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests that need an emulator (LocalStack, ministack), the development Lambda host, a browser or an install of the
 * packed package: the `integration` project. The pure tests of the serverless runtime's pieces (cost, metric lines, the GetRecords page read, the start's source and static file checks over stub clients and the Lambda client's timeouts) stay in `unit`.
 */
const integration = [
  'test/aws/**/!(batchCost|emfMetrics|getRecordsPage|lambdaClient|sourceChecks|staticFileChecks).test.ts',
  'test/infra/deploy*.test.ts',
  'test/ui/awsUi.test.ts',
  'test/ui/*.browser.test.ts',
  // npm pack, then npm install of the tarball into an empty project.
  'test/package/**/*.test.ts',
];

/**
 * Slow end-to-end tests that need no emulator: `npm run test:slow`. They spawn `sluice` processes and kill them
 * (-9), run many batches, search for a sustainable rate, or run whole operator tables on worker threads, where each
 * case starts a pool whose threads load the engine through the TypeScript loader (about a second per case on a
 * loaded machine). `unit` keeps those tables in-process, plus a case or two on worker threads, so that it still
 * runs the real worker-thread runner.
 */
const slow = [
  'test/engine/operatorsOnWorkerThreads.test.ts',
  'test/engine/combiningShuffleOnWorkerThreads.test.ts',
  'test/engine/stateOnWorkerThreads.test.ts',
  'test/engine/recovery.test.ts',
  'test/engine/bodyPersistKill.test.ts',
  'test/engine/receivedBlocksRecovery.test.ts',
  'test/engine/storedInputRecovery.test.ts',
  'test/engine/plannedFolderRecovery.test.ts',
  'test/engine/sliceLeftoversKill.test.ts',
  'test/engine/longRun.test.ts',
  'test/tune/searchRate.test.ts',
  'test/cli/cli.test.ts',
  'test/cli/localChecks.test.ts',
  'test/cli/hostileRecordsProcess.test.ts',
  'test/cli/logs.test.ts',
  'test/cli/processes.test.ts',
  'test/cli/tune.test.ts',
  'test/job/moduleFormats.test.ts',
];

export default defineConfig({
  test: {
    // Not a timed assertion: a safety net for tests that start real processes and worker threads, which on a
    // loaded 2-core machine can take several seconds just to load.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // `npm test` runs every project; `npm run test:unit` only the first, which starts no emulator, no browser and
    // no long end-to-end run. Its script adds `--maxWorkers=100% --no-isolate` (pool options are shared by all
    // projects, so they cannot be set for one here): the quick loop shares processes between files, while
    // `npm test`, which CI runs, keeps every file in a process of its own and one core free.
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...integration, ...slow],
        },
      },
      {
        extends: true,
        test: { name: 'slow', include: slow },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: integration,
          // LocalStack (S3, Kinesis) for the AWS tests: installed on first use, started for the run, then stopped.
          // Chromium for the Streaming UI's browser tests: installed with apt-get when missing.
          globalSetup: ['test/aws/globalSetup.ts', 'test/ui/globalSetup.ts'],
        },
      },
    ],
  },
});
