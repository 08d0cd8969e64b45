import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';
import { uniqueName } from './localstack';

/**
 * A map output lost between the map and the reduce stage on the serverless runtime (the real coordinator, our Lambda
 * host, LocalStack's S3): the losing worker (test/aws/fixtures/losingWorker.ts) deletes map partition 1's stored
 * output from S3 as a task that reads it starts. The coordinator recomputes it and runs the reduce stage again, as
 * the local runtime does (test/engine/lostMapOutput.test.ts), or fails the batch once the stage found it missing 4
 * times.
 */

const bucket = uniqueName('lost-output');
const BATCHES = 3;

/** Counts per batch of pairs in 3 partitions, every map output in the store; `oops` is no JSON, a dead letter. */
const job = (name: string) => ({
  name,
  batchIntervalMs: 1000,
  shuffle: { inlineMaxBytes: 0 },
  speculation: { enabled: false },
  sources: {
    lines: {
      type: 'queue',
      batches: [
        ['["a",1]', '["b",1]', 'oops', '["a",2]', '["c",1]', '["d",1]', '["a",1]'],
        ['["c",1]', '["c",1]', '["e",1]', 'oops', '["a",1]', '["f",1]'],
        ['["b",1]', '["g",1]', 'oops', '["h",1]', '["a",1]', '["b",3]'],
      ],
      partitions: 3,
    },
  },
  streams: {
    counts: {
      from: 'lines',
      ops: [
        { op: 'map', fn: 'parseJson' },
        { op: 'reduceByKey', fn: 'sum', partitions: 3 },
      ],
    },
  },
  outputs: [{ stream: 'counts', type: 'jsonl', path: `${name}/counts` }],
});

let serverless: ServerlessHost;

beforeAll(async () => {
  serverless = await startServerlessHost({
    bucket,
    workerModule: 'test/aws/fixtures/losingWorker.ts',
    workerEnv: { SLUICE_TEST_LOSE_DIR: mkdtempSync(join(tmpdir(), 'sluice-lost-')) },
  });
}, 120_000);

afterAll(async () => {
  await serverless?.stop();
});

/** Runs job `name` to its last batch; its answer, each batch's sorted output lines, and its dead letters. */
async function run(name: string) {
  const answer = await serverless.invoke('coordinator', {
    action: 'start',
    job: job(name),
    batches: BATCHES,
  });
  const outputs = [];
  for (const key of await serverless.keys(`outputs/${name}/counts/`))
    outputs.push((await serverless.text(key)).split('\n').filter(Boolean).sort());
  const letters = [];
  for (const key of await serverless.keys(`jobs/${name}/store/dead-letter/`))
    letters.push(
      ...(await serverless.text(key))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).record),
    );
  return { answer, outputs, letters };
}

describe('a map output lost between the map and the reduce stage on the serverless runtime', () => {
  it('is recomputed, and the batches complete as without the loss, each dead letter once', async () => {
    // given a job whose map partition 1's output is deleted as the first task reading it starts
    const whole = await run(uniqueName('whole'));
    // when the coordinator runs it
    const lossy = await run(uniqueName('lose-once'));
    // then every batch completes with the same counts and dead letters as without the loss
    expect(whole.answer.error).toBeUndefined();
    expect(whole.outputs).toHaveLength(BATCHES);
    expect(whole.letters).toEqual(['oops', 'oops', 'oops']);
    expect(lossy.answer.error).toBeUndefined();
    expect(lossy.answer.batches).toBe(BATCHES);
    expect(lossy.outputs).toEqual(whole.outputs);
    expect(lossy.letters).toEqual(whole.letters);
  }, 120_000);

  it('that is lost every time fails the first batch after 4 attempts of its stage, naming the output', async () => {
    // given a job whose map partition 1's output is deleted every time a task is about to read it
    // when the coordinator runs it
    const { answer, outputs } = await run(uniqueName('lose-always'));
    // then the first batch fails naming the output, and no batch wrote output
    expect(answer.error).toMatch(
      /map output shuffle\/1000\/\S*0\/1 of shuffle 0 \(map partition 1\) is missing from the store: stage 1 found it missing in 4 attempts/,
    );
    expect(outputs).toEqual([]);
  }, 120_000);
});
