import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogFields, Logger } from '../../lib/log/Logger';
import { StreamingContext } from '../../lib/StreamingContext';
import { LogicalClock } from '../../lib/scheduler/Clock';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { CountingStore } from '../helpers/CountingStore';
import { connectInProcess } from '../helpers/connectInProcess';

/** A block store whose deletions of input blocks fail, as S3's do under throttling once the SDK's retries run out. */
class UndeletableStore extends CountingStore {
  override deletePrefix(prefix: string): Promise<void> {
    if (!prefix.startsWith('input/')) return super.deletePrefix(prefix);
    this.refused.push(prefix);
    return Promise.reject(new Error(`SlowDown: deleting ${prefix} was throttled`));
  }

  readonly refused: string[] = [];
}

/** A logger that keeps its warnings. */
function warningsLog(warnings: string[]): Logger {
  const log: Logger = {
    debug: () => {},
    info: () => {},
    warn: (message: string, _fields?: LogFields) => warnings.push(message),
    error: () => {},
    with: () => log,
  };
  return log;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-cleanup-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a background deletion that fails', () => {
  it("is logged and leaves its blocks, and the job goes on, as Spark's ContextCleaner", async () => {
    // given a queue counted every batch, on a store that refuses to delete a forgotten batch's input block
    const ssc = new StreamingContext({ batchIntervalMs: 1000 });
    const counts: number[] = [];
    ssc.queueStream([[1, 2], [3], [4, 5, 6], [7]]).foreachRDD(async (ds) => {
      counts.push(await ds.count());
    });
    const store = new UndeletableStore(new LocalFolderStore(join(dir, 'store')));
    const warnings: string[] = [];
    connectInProcess(ssc, store, dir, { log: warningsLog(warnings) });
    // when four batches run
    const summary = await new JobScheduler(ssc, new LogicalClock(), { name: 'cleanup' }).run({ batches: 4 });
    // then every batch completed (a rejection left unhandled ended the process), each deletion was tried and its
    // failure logged with its cause
    expect(summary.error).toBeUndefined();
    expect(counts).toEqual([2, 1, 3, 1]);
    expect(store.refused.length).toBeGreaterThan(0);
    expect(warnings).toHaveLength(store.refused.length);
    expect(warnings[0]).toMatch(/background deletion .* failed; they stay in the store: Error: SlowDown/);
  });
});
