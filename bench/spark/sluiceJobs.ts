/**
 * Sluice's side of `npm run bench:spark`: the three workloads of the Spark comparison, reading a loopback
 * socket like Spark's `socketTextStream`. Every worker thread re-imports this file and rebuilds the job by its
 * export name, so the settings are spelled in the name (as in `bench/jobs.ts`):
 * `socketJobs.<workload>.<port>.<intervalMs>.<windowMs>.<slideMs>`, such as `socketJobs.grep.40123.1000.0.0`.
 */
import type { DStream } from '../../lib/dstream/DStream';
import { defineJob, type JobModule } from '../../lib/job/JobModule';
import { grepLines, wordCounts } from '../jobs';

/** The three workloads, named as the Spark program names them. */
export const WORKLOADS = ['wordCount', 'grep', 'hashtags'] as const;

/** One of {@link WORKLOADS}. */
export type Workload = (typeof WORKLOADS)[number];

/** Where the benchmark's line server listens; both engines connect to it as clients. */
export const FEED_HOST = '127.0.0.1';

/** Input partitions and shuffle partitions: one per core, like Spark's `local[2]` default parallelism. */
export const PARTITIONS = 2;

/** The settings one engine run needs, shared by the Sluice job name and the Spark program's arguments. */
export interface SocketJobSettings {
  readonly workload: Workload;
  readonly port: number;
  readonly intervalMs: number;
  /** The window of `hashtags`, in ms; 0 for the other workloads. */
  readonly windowMs: number;
  /** The slide of `hashtags`, in ms; 0 for the other workloads. */
  readonly slideMs: number;
}

/** The export name of a job: `socketJobs.<workload>.<port>.<intervalMs>.<windowMs>.<slideMs>`. */
export function socketJobName(s: SocketJobSettings): string {
  return `socketJobs.${s.workload}.${s.port}.${s.intervalMs}.${s.windowMs}.${s.slideMs}`;
}

/**
 * The hashtags of a tweet's text: its space-separated tokens that start with `#`. A declaration, not an
 * arrow, so CPU profiles name it (see `bench/jobs.ts`); the Spark program does exactly the same.
 */
export function hashtagsOf(text: string): string[] {
  const tags: string[] = [];
  for (const token of text.split(' ')) if (token.length > 1 && token.charCodeAt(0) === 0x23) tags.push(token);
  return tags;
}

/** The job graph of one workload over a socket stream; every workload ends in one `collectBatches`. */
function buildWorkload(s: SocketJobSettings, lines: DStream<string>): void {
  switch (s.workload) {
    case 'wordCount':
      wordCounts(lines).collectBatches('result');
      return;
    case 'grep':
      grepLines(lines).count().collectBatches('result');
      return;
    case 'hashtags':
      lines.flatMap(hashtagsOf).countByValueAndWindow(s.windowMs, s.slideMs).collectBatches('result');
      return;
  }
}

function socketJob(s: SocketJobSettings): JobModule {
  return defineJob({ batchIntervalMs: s.intervalMs, defaultPartitions: PARTITIONS }, (ssc) =>
    buildWorkload(s, ssc.socketTextStream(FEED_HOST, s.port, PARTITIONS)),
  );
}

function parseJobName(parts: readonly string[]): SocketJobSettings {
  const [workload, ...numbers] = parts;
  const [port, intervalMs, windowMs, slideMs] = numbers.map(Number);
  if (!WORKLOADS.includes(workload as Workload)) {
    throw new RangeError(`socketJobs: workload must be one of ${WORKLOADS.join(', ')}, got ${workload}`);
  }
  if (!numbers.every((n) => /^\d+$/.test(n))) {
    throw new RangeError(
      `socketJobs: port, intervalMs, windowMs and slideMs must be whole numbers, got ${parts}`,
    );
  }
  return {
    workload: workload as Workload,
    port: port!,
    intervalMs: intervalMs!,
    windowMs: windowMs!,
    slideMs: slideMs!,
  };
}

/** Settings levels in a job name after `socketJobs`. */
const NAME_PARTS = 5;

/** A chain of proxies that collects the dotted parts of a job name and builds the job from the last one. */
function byName(parts: readonly string[]): unknown {
  return new Proxy(
    {},
    {
      get: (_target, key) => {
        if (typeof key !== 'string') return undefined;
        const next = [...parts, key];
        return next.length === NAME_PARTS ? socketJob(parseJobName(next)) : byName(next);
      },
    },
  );
}

/** Every socket job, by its settings; see the module comment. */
export const socketJobs = byName([]) as Readonly<Record<string, unknown>>;
