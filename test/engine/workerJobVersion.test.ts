import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jobVersion } from '../../lib/aws/jobVersion';
import { WorkerRuntime } from '../../lib/aws/WorkerRuntime';
import { workerTaskEvent } from '../helpers/workerTaskEvent';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-job-version-'));
  await mkdir(join(dir, 'jobs/cache/store'), { recursive: true });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A job document mapping each record with `expr`. */
const documentWith = (expr: string) => ({
  name: 'cache',
  batchIntervalMs: 1000,
  sources: { q: { type: 'queue', batches: [['a']] } },
  streams: { s: { from: 'q', ops: [{ op: 'map', expr }] } },
  outputs: [{ stream: 's', type: 'print' }],
});

/** The worker event of a task of the job stored under jobs/cache/store/ (its plan is not run far). */
const eventFor = (version: string) => workerTaskEvent({ job: 'cache', jobVersion: version });

describe('a worker and the version of the job document', () => {
  it('builds the graph again for a job started again with another document, and refuses a stale one', async () => {
    // given a warm worker that built the job's graph from its first document
    const worker = new WorkerRuntime({ storeUrl: `file://${dir}`, baseDir: dir });
    const first = documentWith('"v1:" & $');
    await writeFile(join(dir, 'jobs/cache/store/job.json'), JSON.stringify(first));
    await worker.handle(eventFor(jobVersion(first)));
    // when the job is started again under the same name with a document whose functions module is missing
    const second = { ...documentWith('"v2:" & $'), functions: 'missing.mjs' };
    await writeFile(join(dir, 'jobs/cache/store/job.json'), JSON.stringify(second));
    // then a task of the new version builds from the new document (before, the first graph ran it)
    await expect(worker.handle(eventFor(jobVersion(second)))).rejects.toThrow(/missing\.mjs/);
    // and a task planned from the first document, still in flight, reaching a cold worker, is refused rather than
    // run on the graph of the second (a warm one still has the first's graph, which is the task's own)
    const cold = new WorkerRuntime({ storeUrl: `file://${dir}`, baseDir: dir });
    await expect(cold.handle(eventFor(jobVersion(first)))).rejects.toThrow(
      new RegExp(
        `is version ${jobVersion(second)}, not ${jobVersion(first)} that this task was planned from`,
      ),
    );
  });

  it('refuses a jobVersion that is not one', async () => {
    const worker = new WorkerRuntime({ storeUrl: `file://${dir}`, baseDir: dir });
    await expect(worker.handle(eventFor('latest'))).rejects.toThrow(
      /jobVersion must be 16 hexadecimal digits/,
    );
  });
});
