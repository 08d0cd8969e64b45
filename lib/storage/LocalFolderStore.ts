import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { DamagedBlockError, MissingBlockError } from '../errors';
import type { BlockLease, BlockStore } from './BlockStore';
import { BufferPool } from './BufferPool';
import { readFully } from './readFully';

/** Settings of a {@link LocalFolderStore}. */
export interface LocalFolderStoreOptions {
  /**
   * Whether a block a later run may read is on the disk before `put` resolves, a power loss included (see
   * {@link needsSync}). Default true; false only for a store nobody resumes (a test's, a benchmark's).
   */
  readonly fsync?: boolean;
}

/**
 * Whether a block must survive a power loss: everything a metadata checkpoint names (the checkpoint itself, the
 * state and window blocks under `persist/`, the input blocks under `input/`) and the output files under `--out`
 * (the parts of a `saveAsTextFiles` folder, before its `_SUCCESS`). A `rename` alone survives `kill -9` but not a
 * power loss: the new name may reach the disk before the data, and the block reads back with 0 bytes. Not synced:
 * shuffle blobs, which a run deletes as it starts, and the blocks a `slice` computed again for a forgotten batch
 * (`input/<stream>/<batchTime>-<run>-<n>/`), which no checkpoint names; both are read only by the run writing them.
 */
export function needsSync(key: string): boolean {
  return !key.startsWith('shuffle/') && !RECOMPUTED_INPUT.test(key);
}

/** A block that `slice` computed again for a forgotten batch: `input/<stream>/<batchTime>-<run>-<n>/block`. */
export const RECOMPUTED_INPUT = /^input\/[^/]+\/\d+-[0-9a-f]{8}-\d+\//;

/** The block store of the embedded local mode: one file per block under a folder (`.sluice/<job name>/` by default). */
export class LocalFolderStore implements BlockStore {
  /** The folder's absolute path. */
  readonly root: string;
  /** A rename may reach the disk before the data it names (see {@link needsSync}). */
  readonly mayEmptyBlocks = true;
  /** Memory {@link borrow} reads blocks into and takes back. */
  private readonly buffers = new BufferPool();
  private readonly fsync: boolean;
  /** The tasks of a batch write their partitions into one folder at once: they share its syncs. */
  private readonly folderSyncs = new FolderSyncs();

  constructor(root: string, options: LocalFolderStoreOptions = {}) {
    this.root = resolve(root);
    this.fsync = options.fsync ?? true;
  }

  private path(key: string): string {
    const path = resolve(this.root, key);
    if (path !== this.root && !path.startsWith(this.root + sep)) {
      throw new Error(`block key ${JSON.stringify(key)} escapes the store folder ${this.root}`);
    }
    return path;
  }

  async put(key: string, bytes: Uint8Array | string): Promise<void> {
    const path = this.path(key);
    const sync = this.fsync && needsSync(key);
    // Write then rename, so a reader (or a crash) never sees half a block.
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    let created: string | undefined;
    try {
      await writeTemp(temp, bytes, sync);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      created = await mkdir(dirname(path), { recursive: true });
      await writeTemp(temp, bytes, sync);
    }
    await rename(temp, path);
    // The block's data was synced before the rename; the rename is an entry of its folder.
    if (sync) await Promise.all(foldersToSync(dirname(path), created).map((f) => this.folderSyncs.sync(f)));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async borrow(key: string): Promise<BlockLease | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(this.path(key), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const { size } = await handle.stat();
      const bytes = await readFully(handle, this.buffers.take(size), 0);
      if (bytes.length < size) {
        this.buffers.give(bytes);
        throw new Error(`block ${key} is shorter than its size: ${bytes.length} of ${size} bytes read`);
      }
      return this.lend(bytes);
    } finally {
      await handle.close();
    }
  }

  getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    return this.readRange(key, start, end, (size) => Buffer.allocUnsafe(size));
  }

  /**
   * Bytes [start, end) of a block, which must exist, read into memory the store lends as {@link borrow} does: a
   * range read and decoded at once (a shuffle segment, an input block's partition) leaves its memory to the next.
   */
  async borrowRange(key: string, start: number, end: number): Promise<BlockLease> {
    return this.lend(await this.readRange(key, start, end, (size) => this.buffers.take(size)));
  }

  /** Reads bytes [start, end) of a block into the buffer `take` gives; on a failed read, gives it back. */
  private async readRange(
    key: string,
    start: number,
    end: number,
    take: (size: number) => Buffer,
  ): Promise<Buffer> {
    // A range is read of a block a plan named, which the store held when planned: gone, something deleted it.
    const handle = await open(this.path(key), 'r').catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? new MissingBlockError(key) : error;
    });
    const buffer = take(end - start);
    try {
      // One read may return fewer bytes than asked without the file ending: read until the range is full.
      const bytes = await readFully(handle, buffer, start);
      // A plan's offsets come from the block as written: a shorter file was cut after (an edit, a power loss).
      if (bytes.length !== end - start) {
        throw new DamagedBlockError(
          key,
          `it is shorter than the plan that wrote it: bytes ${start}-${end} were wanted, ${bytes.length} read`,
        );
      }
      return bytes;
    } catch (error) {
      this.buffers.give(buffer);
      throw error;
    } finally {
      await handle.close();
    }
  }

  /** Lends `bytes`, taken from {@link buffers}, until the lease is released (once, however often it is called). */
  private lend(bytes: Buffer): BlockLease {
    let released = false;
    return {
      bytes,
      release: () => {
        if (released) return;
        released = true;
        this.buffers.give(bytes);
      },
    };
  }

  async list(prefix: string): Promise<string[]> {
    const base = this.path(prefix.endsWith('/') ? prefix : dirname(prefix));
    let entries: string[];
    try {
      entries = (await readdir(base, { recursive: true, withFileTypes: true }))
        .filter((e) => e.isFile() && !e.name.endsWith('.tmp'))
        .map((e) => relative(this.root, join(e.parentPath, e.name)).split(sep).join('/'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return entries.filter((k) => k.startsWith(prefix)).sort();
  }

  async deletePrefix(prefix: string): Promise<void> {
    if (prefix.endsWith('/')) {
      await rm(this.path(prefix), { recursive: true, force: true });
      return;
    }
    await Promise.all((await this.list(prefix)).map((key) => rm(this.path(key), { force: true })));
  }
}

/** Writes a block's temporary file, and with `sync` makes its bytes reach the disk before it is renamed. */
async function writeTemp(temp: string, bytes: Uint8Array | string, sync: boolean): Promise<void> {
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(bytes);
    if (sync) await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes a folder's entries (a rename into it, a folder made in it) reach the disk. */
export async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * The folders to sync so that a new entry of `folder` reaches the disk: `folder`, and, when `mkdir` made it
 * (`created` is the first folder it made, as `mkdir` with `recursive` returns it), the parent of each folder made,
 * as a folder made is an entry of its parent.
 */
export function foldersToSync(folder: string, created: string | undefined): string[] {
  const folders = [folder];
  if (created !== undefined) {
    for (let made = folder; made !== dirname(created); made = dirname(made)) folders.push(dirname(made));
  }
  return folders;
}

/**
 * Folder syncs shared by the writes that ask at once: one that asks while a sync of its folder runs (which may have
 * started before its rename) waits for the next, which starts when that one ends and serves everyone who asked
 * meanwhile. The partitions of a state a batch checkpoints, written together into one folder, cost a file sync each
 * and a few folder syncs in all, not one each.
 */
class FolderSyncs {
  private readonly running = new Map<string, { readonly done: Promise<void>; next?: Promise<void> }>();

  /** Resolves once a sync of `folder` that started after this call has ended. */
  sync(folder: string): Promise<void> {
    const current = this.running.get(folder);
    if (current === undefined) return this.start(folder);
    current.next ??= current.done.catch(() => {}).then(() => this.start(folder));
    return current.next;
  }

  private start(folder: string): Promise<void> {
    const done = syncFolder(folder).finally(() => {
      const entry = this.running.get(folder);
      if (entry?.done !== done) return;
      // The next sync, if anyone asked for one, becomes the running one as it starts (see `sync`).
      this.running.delete(folder);
    });
    this.running.set(folder, { done });
    return done;
  }
}
