/**
 * What each S3 request of a running serverless job is: the sliding hashtag job (1 s batches, 60 s window) on a
 * Kinesis stream, coordinator and worker in our Lambda host against LocalStack, each function's S3 traffic going
 * through its own logging proxy (test/helpers/S3RequestLog.ts). Prints, per function and key pattern, the
 * requests per batch by billing class, and the totals the cost model takes as its inputs.
 * `node --import tsx bench/s3RequestBreakdown.ts [--shards 2] [--partitions 2] [--batches 12] [--records 200] [--reduce 2]
 * [--inline-max-bytes N]` (0 sends every shuffle through S3, as a larger batch's would go).
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { setup, teardown } from '../test/aws/localstack';
import { measureRequests, type RequestBreakdown } from '../test/helpers/countedServerlessRun';
import { keyPattern, WRITE_KINDS } from '../test/helpers/S3RequestLog';

/** The breakdown as a Markdown table: per function and key pattern, requests per batch by class. */
export function breakdownTable({ batches, requests }: RequestBreakdown): string {
  const rows = new Map<string, { who: string; kind: string; pattern: string; count: number }>();
  for (const r of requests) {
    const id = `${r.who} ${r.kind} ${keyPattern(r.key)}`;
    const row = rows.get(id) ?? { who: r.who, kind: r.kind, pattern: keyPattern(r.key), count: 0 };
    row.count++;
    rows.set(id, row);
  }
  const sorted = [...rows.values()].sort(
    (a, b) => a.who.localeCompare(b.who) || b.count - a.count || a.pattern.localeCompare(b.pattern),
  );
  const per = (n: number) => (n / batches).toFixed(2);
  const sum = (who: string, write: boolean) =>
    requests.filter((r) => r.who === who && WRITE_KINDS.has(r.kind) === write).length;
  return [
    `| Function | Request | Key | In ${batches} batches | Per batch |`,
    '|---|---|---|---|---|',
    ...sorted.map((r) => `| ${r.who} | ${r.kind} | \`${r.pattern}\` | ${r.count} | ${per(r.count)} |`),
    '',
    `Per batch: coordinator ${per(sum('coordinator', true))} PUT/LIST/DELETE + ${per(sum('coordinator', false))} GET/HEAD; workers ${per(sum('worker', true))} PUT/LIST/DELETE + ${per(sum('worker', false))} GET/HEAD.`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      shards: { type: 'string', default: '2' },
      partitions: { type: 'string', default: '2' },
      batches: { type: 'string', default: '12' },
      records: { type: 'string', default: '200' },
      reduce: { type: 'string', default: '2' },
      'inline-max-bytes': { type: 'string' },
    },
  });
  await setup();
  try {
    const load = loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ');
    const breakdown = await measureRequests({
      shards: Number(values.shards),
      partitions: Number(values.partitions),
      batches: Number(values.batches),
      recordsPerShard: Number(values.records),
      reducePartitions: Number(values.reduce),
      ...(values['inline-max-bytes'] !== undefined
        ? { inlineMaxBytes: Number(values['inline-max-bytes']) }
        : {}),
    });
    process.stdout.write(
      `${cpus()[0]?.model}, load average ${load}; ${values.shards} shards, ${values.partitions} map tasks, ${values.reduce} reduce partitions${values['inline-max-bytes'] !== undefined ? `, inline shuffle limit ${values['inline-max-bytes']} bytes` : ''}\n\n${breakdownTable(breakdown)}\n`,
    );
  } finally {
    await teardown();
  }
}
