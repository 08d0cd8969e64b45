import { describe, expect, it } from 'vitest';
import { measureRequests } from '../helpers/countedServerlessRun';
import type { LoggedS3Request } from '../helpers/S3RequestLog';
import { WRITE_KINDS } from '../helpers/S3RequestLog';

/**
 * The S3 requests a running job makes per batch, counted on the wire (a logging proxy between each function and
 * LocalStack) for the sliding hashtag job on a 2-shard stream read by 2 tasks: on AWS each PUT per 1 s batch is
 * $0.018 an hour, so these counts are the job's running cost. The figures are upper bounds at what the runtime
 * now does; a change that adds a request per batch fails here and must say why in bench/RESULTS.md.
 */

const BATCHES = 8;

const count = (requests: readonly LoggedS3Request[], test: (r: LoggedS3Request) => boolean) =>
  requests.filter(test).length;

describe('S3 requests per batch of a running job', () => {
  it('renews the lease at a third of its TTL, lists nothing per batch, sends reports in answers, and writes only what recovery needs', async () => {
    // given the hashtag job with a lease TTL far longer than the run (renewal due only after 100 s)
    const { requests } = await measureRequests({
      shards: 2,
      partitions: 2,
      batches: BATCHES,
      recordsPerShard: 100,
      coordinatorEnv: { SLUICE_LEASE_TTL_MS: '300000' },
    });
    const coordinator = requests.filter((r) => r.who === 'coordinator');
    const workers = requests.filter((r) => r.who === 'worker');

    // then the lease is written when taken and when released, never renewed, and never read back
    expect(count(coordinator, (r) => r.kind === 'PUT' && r.key.endsWith('/lease.json'))).toBe(2);
    expect(count(coordinator, (r) => r.kind === 'GET' && r.key.endsWith('/lease.json'))).toBe(1);
    // and the stop check rides with the renewal: the control record is read only when the run starts and ends
    expect(
      count(coordinator, (r) => r.kind === 'GET' && r.key.endsWith('/control.json')),
    ).toBeLessThanOrEqual(3);
    // and no batch lists its shuffle folder (every map output went inline) or its persisted blocks
    expect(count(coordinator, (r) => r.kind === 'LIST' && /\/shuffle\/\d+\//.test(r.key))).toBe(0);
    expect(count(coordinator, (r) => r.kind === 'LIST' && r.key.includes('/persist/'))).toBe(0);
    // and per batch the coordinator writes its checkpoint twice (plan, then completion), one output object and
    // one DeleteObjects of the blocks the window no longer needs
    const perBatchWrites = count(
      coordinator,
      (r) => WRITE_KINDS.has(r.kind) && !/\/(metrics|active|job|control|lease)\.json$/.test(r.key),
    );
    expect(perBatchWrites).toBeLessThanOrEqual(4 * BATCHES + 2);
    expect(perBatchWrites).toBeGreaterThanOrEqual(3 * BATCHES);
    // and the map tasks' input reports come back in their answers: no task writes one, and the coordinator asks S3
    // for none, not even for a batch planned while its predecessor still runs
    expect(count(workers, (r) => /\/read-\d+\.json$/.test(r.key))).toBe(0);
    expect(count(coordinator, (r) => /\/read-\d+\.json$/.test(r.key))).toBe(0);
    // and the workers write only the window's two persisted blocks per reduce task (2 reduce tasks)
    expect(count(workers, (r) => WRITE_KINDS.has(r.kind))).toBeLessThanOrEqual(2 * 2 * BATCHES);
  }, 180_000);
});
