import { describe, expect, it } from 'vitest';
import type { DeadLetterSource } from '../../lib/dataset/TaskContext';
import { DeadLetterLedger } from '../../lib/scheduler/DeadLetterLedger';

const named = (batchTime: number, partition: number): DeadLetterSource => ({
  dataset: `n2@${batchTime}/`,
  stable: true,
  batchTime,
  partition,
});

describe('DeadLetterLedger', () => {
  it('lets the first computation of a dataset partition write its letters, and no later one', () => {
    const ledger = new DeadLetterLedger();
    expect(ledger.claim(named(1000, 0), 1000)).toBe(true);
    expect(ledger.claim(named(1000, 0), 2000)).toBe(false);
    expect(ledger.claim(named(1000, 1), 2000)).toBe(true);
  });

  it('puts in the checkpoint only entries whose letters are written, and only named datasets', () => {
    // given a batch that claimed two partitions, one of a dataset built inside foreachRDD
    const ledger = new DeadLetterLedger();
    ledger.claim(named(1000, 0), 1000);
    ledger.claim(
      { dataset: 'mapPartitions#7 (2 partitions)', stable: false, batchTime: 1000, partition: 0 },
      1000,
    );
    // then before its letters are written the checkpoint holds nothing; after, the named one
    expect(ledger.written()).toEqual([]);
    ledger.commit(1000);
    expect(ledger.written()).toEqual([['n2@1000/:0', 1000, 1000]]);
    // and a restarted driver that restores it writes that partition's letters no more
    const restarted = new DeadLetterLedger();
    restarted.restore(ledger.written());
    expect(restarted.claim(named(1000, 0), 3000)).toBe(false);
  });

  it('lets a batch that failed without writing its letters give up its claims, and only its own', () => {
    // given batch 2000 claimed a partition of its own and batch 1000 wrote one
    const ledger = new DeadLetterLedger();
    ledger.claim(named(1000, 0), 1000);
    ledger.commit(1000);
    ledger.claim(named(2000, 0), 2000);
    // when batch 2000 fails for a flood of dead letters and releases its claims
    ledger.release(2000);
    // then the computation that runs it again writes that partition's letters, and batch 1000's stay written
    expect(ledger.claim(named(2000, 0), 2000)).toBe(true);
    expect(ledger.claim(named(1000, 0), 2000)).toBe(false);
  });

  it('forgets written entries of batch times cleanup forgot, never a batch still writing', () => {
    const ledger = new DeadLetterLedger();
    ledger.claim(named(1000, 0), 1000);
    ledger.commit(1000);
    ledger.claim(named(2000, 0), 2000);
    ledger.claim(named(3000, 0), 3000);
    ledger.commit(3000);
    ledger.forgetThrough(2000);
    // then 1000 is gone, 2000 (claimed, not yet written) and 3000 stay
    expect(ledger.size).toBe(2);
    expect(ledger.claim(named(2000, 0), 4000)).toBe(false);
  });

  it('restores without the entries of letters written after the batch a store keeps letters through', () => {
    // given batch 1000 wrote a partition's letters, and batch 3000, completed ahead of batch 2000, another's
    const ledger = new DeadLetterLedger();
    ledger.claim(named(1000, 0), 1000);
    ledger.commit(1000);
    ledger.claim(named(3000, 0), 3000);
    ledger.commit(3000);
    // when a driver restarts from that checkpoint, whose last completed batch is 1000, on a store that discards
    // the letters of the batches after it
    const restarted = new DeadLetterLedger();
    restarted.restore(ledger.written(), 1000);
    // then batch 3000, run again, writes its letters again, and batch 1000's stay written
    expect(restarted.claim(named(3000, 0), 3000)).toBe(true);
    expect(restarted.claim(named(1000, 0), 3000)).toBe(false);
    // and a checkpoint written before writers were recorded keeps every entry
    const older = new DeadLetterLedger();
    older.restore([['n2@3000/:0', 3000]], 1000);
    expect(older.claim(named(3000, 0), 3000)).toBe(false);
  });
});
