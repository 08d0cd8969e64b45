import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Not a timed assertion: a safety net for tests that start real processes and worker threads, which on a
    // loaded 2-core machine can take several seconds just to load.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // LocalStack (S3, Kinesis) for the AWS tests: installed on first use, started for the run, then stopped.
    // Chromium for the Streaming UI's browser tests: installed with apt-get when missing.
    globalSetup: ['test/aws/globalSetup.ts', 'test/ui/globalSetup.ts'],
  },
});
