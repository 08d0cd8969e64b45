import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../lib/storage/BufferPool';

const MiB = 1024 * 1024;

describe('BufferPool', () => {
  it('lends memory given back to the next borrower of about its size, never to two at once', () => {
    const pool = new BufferPool();
    const first = pool.take(3 * MiB);
    const second = pool.take(3 * MiB);
    expect(first.length).toBe(3 * MiB);
    expect(second.buffer).not.toBe(first.buffer);
    pool.give(first);
    // a smaller request fits in it; one less than half its size or more than it does not
    expect(pool.take(6 * MiB).buffer).not.toBe(first.buffer);
    expect(pool.take(MiB).buffer).not.toBe(first.buffer);
    const reused = pool.take(2 * MiB);
    expect(reused.buffer).toBe(first.buffer);
    expect(reused.length).toBe(2 * MiB);
    // and once lent again it is not lent a second time
    expect(pool.take(2 * MiB).buffer).not.toBe(first.buffer);
  });

  it('keeps at most a few buffers, the newest, and none of the small ones', () => {
    const pool = new BufferPool(2);
    const taken = [pool.take(2 * MiB), pool.take(2 * MiB), pool.take(2 * MiB)];
    for (const bytes of taken) pool.give(bytes);
    const lent = [pool.take(2 * MiB), pool.take(2 * MiB), pool.take(2 * MiB)].map((b) => b.buffer);
    expect(lent.slice(0, 2)).toEqual([taken[2]!.buffer, taken[1]!.buffer]);
    expect(lent).not.toContain(taken[0]!.buffer);
    // a small one is Node's shared slab: given back, it is not kept
    const small = pool.take(1024);
    expect(small.buffer.byteLength).toBeLessThan(MiB);
    pool.give(small);
    expect(pool.take(MiB).buffer).not.toBe(small.buffer);
  });

  it('refuses a buffer given back twice, which would lend it to two borrowers', () => {
    const pool = new BufferPool();
    const bytes = pool.take(2 * MiB);
    pool.give(bytes);
    expect(() => pool.give(bytes)).toThrow(/given back to its pool twice/);
  });
});
