import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DamagedBlockError, MissingBlockError } from '../../lib/errors';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { blockStoreContract } from '../helpers/blockStoreContract';

const folders: string[] = [];

/** A store over a new, empty temporary folder. */
async function freshStore(): Promise<LocalFolderStore> {
  const folder = await mkdtemp(join(tmpdir(), 'sluice-store-'));
  folders.push(folder);
  return new LocalFolderStore(folder);
}

afterAll(async () => {
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

describe('LocalFolderStore', () => {
  blockStoreContract(freshStore);

  it('given a key that climbs out of the folder, when it is written, then the store refuses it', async () => {
    const store = await freshStore();
    await expect(store.put('../outside', 'x')).rejects.toThrow(/escapes the store folder/);
  });

  it('lends a block in memory it reads the next block into once the lease is released, never before', async () => {
    // given three blocks of 2 MiB (large enough to be pooled), each of one repeated letter
    const store = await freshStore();
    const size = 2 * 1024 * 1024;
    for (const letter of 'abc') await store.put(`in/${letter}`, Buffer.alloc(size, letter));
    // when two are borrowed at once
    const a = (await store.borrow('in/a'))!;
    const b = (await store.borrow('in/b'))!;
    // then each holds its own bytes, in memory of its own
    expect(a.bytes.buffer).not.toBe(b.bytes.buffer);
    expect(Buffer.from(a.bytes).equals(Buffer.alloc(size, 'a'))).toBe(true);
    expect(Buffer.from(b.bytes).equals(Buffer.alloc(size, 'b'))).toBe(true);
    // and a block read while they are lent does not touch them
    const c = (await store.borrow('in/c'))!;
    expect(Buffer.from(a.bytes).equals(Buffer.alloc(size, 'a'))).toBe(true);
    c.release();
    // and once a lease is released (twice, which changes nothing), the next read may use its memory
    a.release();
    a.release();
    const again = (await store.borrow('in/c'))!;
    expect([a.bytes.buffer, c.bytes.buffer]).toContain(again.bytes.buffer);
    expect(Buffer.from(again.bytes).equals(Buffer.alloc(size, 'c'))).toBe(true);
    expect(Buffer.from(b.bytes).equals(Buffer.alloc(size, 'b'))).toBe(true);
    // and a block that is not there is undefined, as with get
    expect(await store.borrow('in/none')).toBeUndefined();
    b.release();
    again.release();
  });

  it('lends a range of a block in memory it reads the next range into once the lease is released', async () => {
    // given a block of 3 MiB whose byte i is i mod 251, and ranges of 1.5 MiB of it (large enough to be pooled)
    const store = await freshStore();
    const block = Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, (_, i) => i % 251));
    await store.put('shuffle/1000/0/0', block);
    const size = 1.5 * 1024 * 1024;
    // when a range is borrowed and released, then another one borrowed
    const first = await store.borrowRange('shuffle/1000/0/0', 7, 7 + size);
    expect(Buffer.from(first.bytes).equals(block.subarray(7, 7 + size))).toBe(true);
    first.release();
    const second = await store.borrowRange('shuffle/1000/0/0', 1000, 1000 + size);
    // then the second has its own bytes, in the memory of the first
    expect(second.bytes.buffer).toBe(first.bytes.buffer);
    expect(Buffer.from(second.bytes).equals(block.subarray(1000, 1000 + size))).toBe(true);
    // and a range lent meanwhile is read into other memory
    const third = await store.borrowRange('shuffle/1000/0/0', 0, size);
    expect(third.bytes.buffer).not.toBe(second.bytes.buffer);
    second.release();
    third.release();
    // and a range past the block's end, or of a block that is not there, fails as getRange does
    await expect(store.borrowRange('shuffle/1000/0/0', 2 * size, 3 * size)).rejects.toThrow(
      DamagedBlockError,
    );
    await expect(store.borrowRange('shuffle/1000/0/1', 0, 1)).rejects.toThrow(MissingBlockError);
  });
});
