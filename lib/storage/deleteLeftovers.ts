import type { BlockStore } from './BlockStore';

/**
 * Deletes blocks that an earlier driver of the job left, as a run finds them when it starts: `keys`, listed before
 * the call, each inside one of `folders`. A store a stale driver may share with its successor (S3, see `FencedStore`)
 * deletes them only after making sure this driver still owns the job: a driver that froze before its listing and woke
 * after a successor took over listed what the successor wrote since. Elsewhere they go as any blocks do.
 */
export async function deleteLeftovers(
  store: BlockStore,
  keys: readonly string[],
  folders: readonly string[],
): Promise<void> {
  if (keys.length === 0) return;
  if (store.deleteLeftovers) return store.deleteLeftovers(keys);
  if (store.deleteKeys) return store.deleteKeys(keys);
  await Promise.all(folders.map((folder) => store.deletePrefix(folder)));
}
