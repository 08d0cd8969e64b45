/** What varies between the runs of the sliding hashtag job on Kinesis. */
export interface KinesisHashtagJobOptions {
  /** The job's name; its output goes under `<name>/counts`. */
  readonly name: string;
  /** The Kinesis stream the tweets are read from. */
  readonly streamName: string;
  /** Records a task reads from one shard per batch, at most. */
  readonly maxRecordsPerShard: number;
  /** Input partitions. */
  readonly partitions: number;
  /** Shuffle partitions. Default: the job's default (the input's). */
  readonly defaultPartitions?: number;
  /** Map outputs up to this many bytes travel with the task statuses; 0: every shuffle goes through the store. */
  readonly inlineMaxBytes?: number;
}

/**
 * The seed's sliding hashtag count (1 s batches, 60 s window, 1 s slide) as a job document over a Kinesis
 * stream of JSON tweets: the job `bench/serverlessBench.ts` times and the request-count tests run.
 */
export function kinesisHashtagJob(options: KinesisHashtagJobOptions): Record<string, unknown> {
  const { name, streamName, maxRecordsPerShard, partitions, defaultPartitions, inlineMaxBytes } = options;
  return {
    name,
    batchIntervalMs: 1000,
    ...(defaultPartitions !== undefined ? { defaultPartitions } : {}),
    ...(inlineMaxBytes !== undefined ? { shuffle: { inlineMaxBytes } } : {}),
    sources: { tweets: { type: 'kinesis', streamName, maxRecordsPerShard, partitions } },
    streams: {
      tags: {
        from: 'tweets',
        ops: [
          { op: 'map', fn: 'parseJson' },
          { op: 'flatMap', fn: 'hashtags' },
        ],
      },
      counts: { from: 'tags', ops: [{ op: 'countByValueAndWindow', windowMs: 60_000, slideMs: 1000 }] },
    },
    outputs: [{ stream: 'counts', type: 'jsonl', path: `${name}/counts` }],
  };
}
