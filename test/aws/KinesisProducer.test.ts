import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { KinesisProducer } from '../../lib/aws/KinesisProducer';
import { KinesisSource } from '../../lib/aws/KinesisSource';
import { testKinesisClient, testStreams } from './localstack';

// Against the LocalStack of test/aws/globalSetup.ts.
const client = testKinesisClient();
const streams = testStreams(client, 'prod');
const createStream = (shards: number) => streams.create(shards);
const sluice = new URL('../../lib/local/sluice.mjs', import.meta.url).pathname;

afterAll(() => streams.deleteAll());

/** Everything in the stream, read from the start through the runtime's own source. */
async function readAll(streamName: string): Promise<string[]> {
  const source = new KinesisSource({ client, streamName, maxRecordsPerShard: 10_000 });
  const lines: string[] = [];
  for (let batch = 1; batch <= 3; batch++) lines.push(...(await source.recordsFor(batch * 1000, 1000)));
  return lines;
}

describe('KinesisProducer', () => {
  it('given 1,200 lines, when put, then they go in calls of at most 500 records and all are in the stream', async () => {
    const streamName = await createStream(2);
    const producer = new KinesisProducer({ client, streamName });
    const lines = Array.from({ length: 1200 }, (_, i) => JSON.stringify({ i }));
    await producer.put(lines);
    expect(producer.calls).toBe(3);
    expect(producer.sent).toBe(1200);
    expect((await readAll(streamName)).sort()).toEqual([...lines].sort());
  });

  it('given `sluice produce`, when it runs 2 seconds at 40 tweets a second, then 80 generated tweets are in the stream', async () => {
    const streamName = await createStream(1);
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(
        process.execPath,
        [sluice, 'produce', streamName, '--rate', '40', '--seconds', '2'],
        {
          stdio: 'ignore',
        },
      );
      child.on('close', resolve);
    });
    expect(code).toBe(0);
    const tweets = (await readAll(streamName)).map(
      (line) => JSON.parse(line) as { id: number; user: string },
    );
    expect(tweets.map((t) => t.id)).toEqual(Array.from({ length: 80 }, (_, i) => i));
    expect(tweets.every((t) => typeof t.user === 'string')).toBe(true);
  });
});
