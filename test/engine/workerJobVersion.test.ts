import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jobDocumentKey } from '../../lib/aws/bucketLayout';
import { jobVersion } from '../../lib/aws/jobVersion';
import { WorkerRuntime } from '../../lib/aws/WorkerRuntime';
import { workerTaskEvent } from '../helpers/workerTaskEvent';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-job-version-'));
  await mkdir(join(dir, 'jobs/cache/store/documents'), { recursive: true });
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

/** Writes a document under its version's key in the job's store, as a coordinator does. */
const publish = (doc: unknown) =>
  writeFile(join(dir, 'jobs/cache/store', jobDocumentKey(jobVersion(doc))), JSON.stringify(doc));

/** The event of a task planned from `doc`, naming its version's key, as a coordinator sends it. */
const versionedEvent = (doc: unknown) =>
  workerTaskEvent({ job: 'cache', jobVersion: jobVersion(doc), jobKey: jobDocumentKey(jobVersion(doc)) });

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

  it('builds each version from its own key, so a task of the old document runs on its graph in a cold worker', async () => {
    // given the documents of two starts of the job, each under its version's key, as the coordinators write them
    const first = documentWith('"v1:" & $');
    const second = { ...documentWith('"v2:" & $'), functions: 'missing.mjs' };
    for (const doc of [first, second]) await publish(doc);
    // when a cold worker gets a task of each version
    const cold = new WorkerRuntime({ storeUrl: `file://${dir}`, baseDir: dir });
    // then each is built from its own document: the first's task runs, the second's meets its missing module
    await expect(cold.handle(versionedEvent(first))).resolves.toMatchObject({ partition: 0 });
    await expect(cold.handle(versionedEvent(second))).rejects.toThrow(/missing\.mjs/);
  });

  it('keeps the graphs of at most 8 documents per container, the oldest built going first', async () => {
    // given a warm worker that built the graphs of 8 versions of the job, whose documents are then deleted
    const worker = new WorkerRuntime({ storeUrl: `file://${dir}`, baseDir: dir });
    const docs = Array.from({ length: 9 }, (_, i) => documentWith(`"v${i}:" & $`));
    for (const doc of docs.slice(0, 8)) {
      await publish(doc);
      await worker.handle(versionedEvent(doc));
    }
    for (const doc of docs.slice(0, 8))
      await unlink(join(dir, 'jobs/cache/store', jobDocumentKey(jobVersion(doc))));
    // then a task of the first still runs on the graph kept
    await expect(worker.handle(versionedEvent(docs[0]!))).resolves.toMatchObject({ partition: 0 });
    // when a ninth version is built
    await publish(docs[8]!);
    await worker.handle(versionedEvent(docs[8]!));
    // then the first's graph is no longer kept: its task reads its document again, which is gone
    await expect(worker.handle(versionedEvent(docs[0]!))).rejects.toThrow(
      /there is no job document under jobKey documents\//,
    );
  });

  it('refuses a jobVersion that is not one', async () => {
    const worker = new WorkerRuntime({ storeUrl: `file://${dir}`, baseDir: dir });
    await expect(worker.handle(eventFor('latest'))).rejects.toThrow(
      /jobVersion must be 16 hexadecimal digits/,
    );
  });
});
