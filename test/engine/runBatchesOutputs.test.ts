import { describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';

/** A job document of one queue source and two outputs: one named, one named by its stream. */
const document = {
  name: 'outputs',
  batchIntervalMs: 1000,
  sources: { lines: { type: 'queue', batches: [['a b', 'b'], ['c']] } },
  streams: { words: { from: 'lines', ops: [{ op: 'flatMap', fn: 'splitWords' }] } },
  outputs: [
    { stream: 'words', type: 'print', name: 'counts' },
    { stream: 'words', type: 'jsonl' },
  ],
};

describe('runBatches().recordsOf', () => {
  it("gives each batch's records of an output, by its name or its stream's", async () => {
    // given two batches of the job
    const result = await runBatches({ kind: 'document', document, baseDir: '.' }, 2, { write: () => {} });
    // then each output's batches are there, under the output's name
    expect(result.recordsOf('counts')).toEqual([['a', 'b', 'b'], ['c']]);
    expect(result.recordsOf('words')).toEqual([['a', 'b', 'b'], ['c']]);
  });

  it('refuses a name that is no output of the job, naming the outputs', async () => {
    // given a run of the job
    const result = await runBatches({ kind: 'document', document, baseDir: '.' }, 2, { write: () => {} });
    // when an output is asked for by a name the job does not have
    // then it throws with the job's output names, rather than give no batches
    expect(() => result.recordsOf('count')).toThrow(
      'the job has no output named "count"; its outputs are "counts", "words"',
    );
  });
});
