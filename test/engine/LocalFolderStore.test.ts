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
});
