import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
});
