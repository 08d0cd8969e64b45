import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { foldersToSync, syncFolder } from '../storage/LocalFolderStore';

/**
 * Appends text to a file a checkpoint records the size of (a jsonl output, the dead-letter file), with `makeFolder`
 * making its folder first if need be (default false). With `fsync`, the bytes reach the disk before the promise resolves, and so does the file's name
 * when the append made it: the checkpoint written next records the file's size, and a power loss after it must not
 * leave the file shorter (a restart refuses a file shorter than its checkpoint; see `refuseOutputsCutShort`).
 */
export async function appendToFile(
  file: string,
  text: string,
  { fsync, makeFolder = false }: { readonly fsync: boolean; readonly makeFolder?: boolean },
): Promise<void> {
  const created = makeFolder ? await mkdir(dirname(file), { recursive: true }) : undefined;
  const handle = await open(file, 'a');
  let empty = false;
  try {
    if (fsync) empty = (await handle.stat()).size === 0;
    await handle.appendFile(text);
    if (fsync) await handle.sync();
  } finally {
    await handle.close();
  }
  // A file empty before the append may be new: its entry in the folder is not on the disk yet.
  if (fsync && (empty || created !== undefined))
    await Promise.all(foldersToSync(dirname(file), created).map(syncFolder));
}
