import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jobVersion } from '../../lib/aws/jobVersion';
import { WorkerRuntime } from '../../lib/aws/WorkerRuntime';
import type { ActionSpec } from '../../lib/dataset/Dataset';
import { workerTaskEvent } from '../helpers/workerTaskEvent';

/**
 * What a Lambda worker answers for a result holding Infinity and NaN, which its JSON answer writes as null: `take`
 * and `collect` name them beside the records for the coordinator to put back; `jsonl`'s collect, whose records are
 * written as JSON anyway, does not (its batch is never walked for them).
 */

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-worker-nonfinite-'));
  await mkdir(join(dir, 'jobs/nf/store'), { recursive: true });
  await writeFile(join(dir, 'jobs/nf/store/job.json'), JSON.stringify(document));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const document = {
  name: 'nf',
  batchIntervalMs: 1000,
  sources: { q: { type: 'queue', batches: [['a']] } },
  outputs: [{ stream: 'q', type: 'print' }],
};

/** A result task over records travelling in its plan, as `ssc.parallelize` sends them: [a,1], [z,Infinity], NaN. */
const eventFor = (action: ActionSpec) =>
  workerTaskEvent({
    job: 'nf',
    jobVersion: jobVersion(document),
    action,
    datasets: [
      {
        id: 0,
        type: 'parallel',
        numPartitions: 1,
        deps: [],
        args: {
          data: [['a', 1], ['z', null], null],
          nonFiniteNumbers: [
            [[1, 1], 'Infinity'],
            [[2], 'NaN'],
          ],
        },
      },
    ],
  });

describe("a Lambda worker's answer with records JSON cannot carry", () => {
  it('names their Infinity and NaN for take and collect, and not for a jsonl collect', async () => {
    const worker = new WorkerRuntime({ storeUrl: `file://${dir}`, baseDir: dir });
    // when the worker runs a take, a collect and a jsonl output's collect of [a,1], [z,Infinity], NaN
    const take = await worker.handle(eventFor({ type: 'take', n: 3 }));
    const collect = await worker.handle(eventFor({ type: 'collect' }));
    const jsonl = await worker.handle(eventFor({ type: 'collect', asJson: true }));
    // then the first two name the numbers, by their place in the result, and the jsonl one does not
    const named = expect.arrayContaining([
      [[1, 1], 'Infinity'],
      [[2], 'NaN'],
    ]);
    expect(take).toMatchObject({ ok: true, namedValues: named });
    expect(collect).toMatchObject({ ok: true, namedValues: named });
    expect(jsonl).toMatchObject({ ok: true });
    expect(jsonl).not.toHaveProperty('namedValues');
  });
});
