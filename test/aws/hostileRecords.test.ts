import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerlessHost, startServerlessHost } from '../helpers/serverlessHost';

/**
 * Records the serverless runtime must dead-letter as local mode does, with the reason, rather than write them on
 * changed (LocalStack's S3, the real coordinator and worker handlers in our Lambda host).
 */

const suffix = Math.random().toString(36).slice(2, 8);
const bucket = `sluice-hostile-${suffix}`;

let serverless: ServerlessHost;

beforeAll(async () => {
  serverless = await startServerlessHost({ bucket });
}, 120_000);

afterAll(async () => {
  await serverless?.stop();
});

describe('hostile records on the serverless runtime', () => {
  it('a number too large for a double is a dead letter naming its field, not a null in the output', async () => {
    // given lines whose numbers JSON.parse reads as Infinity, among a good one, parsed by the worker
    const name = `too-large-${suffix}`;
    const job = {
      name,
      batchIntervalMs: 1000,
      sources: { lines: { type: 'queue', batches: [['{"v": 1e400}', '{"v": 2}', '{"w": [-1E309]}']] } },
      streams: { parsed: { from: 'lines', ops: [{ op: 'map', fn: 'parseJson' }] } },
      outputs: [{ stream: 'parsed', type: 'jsonl', path: `parsed-${suffix}` }],
    };
    // when the coordinator drives its batch
    const run = await serverless.invoke('coordinator', { action: 'start', job, batches: 1 });
    // then the output holds the good record only, and each bad line is a dead letter with the field at fault
    expect(run.error).toBeUndefined();
    const output = JSON.parse(await serverless.text(`outputs/parsed-${suffix}/1000.json`));
    expect(output.records).toEqual([{ v: 2 }]);
    const letters = (await serverless.text(`jobs/${name}/store/dead-letter/1000.jsonl`))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { record: string; error: string });
    expect(letters.map((l) => [l.record, l.error]).sort()).toEqual([
      ['{"v": 1e400}', expect.stringContaining('parseJson refuses the number at $.v: it is beyond ±1.8e308')],
      ['{"w": [-1E309]}', expect.stringContaining('the number at $.w[0]: it is beyond ±1.8e308')],
    ]);
  }, 120_000);
});
