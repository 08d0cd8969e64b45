import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests that need an emulator (LocalStack, ministack), the development Lambda host, a browser or an install of the
 * packed package: the `integration` project. The pure tests of the serverless runtime's pieces (cost, metric lines) stay in `unit`.
 */
const integration = [
  'test/aws/**/!(batchCost|emfMetrics).test.ts',
  'test/infra/deploy*.test.ts',
  'test/ui/awsUi.test.ts',
  'test/ui/*.browser.test.ts',
  // npm pack, then npm install of the tarball into an empty project.
  'test/package/**/*.test.ts',
];

export default defineConfig({
  test: {
    // Not a timed assertion: a safety net for tests that start real processes and worker threads, which on a
    // loaded 2-core machine can take several seconds just to load.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // `npm test` runs both projects; `npm run test:unit` only the first, which starts no emulator and no browser.
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...integration],
        },
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
