import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { DamagedBlockError, MissingBlockError } from '../errors';
import type { BlockLease, BlockStore } from './BlockStore';
import { BufferPool } from './BufferPool';
import { readFully } from './readFully';

/** The block store of the embedded local mode: one file per block under a folder (`.sluice/<job name>/` by default). */
export class LocalFolderStore implements BlockStore {
  /** The folder's absolute path. */
  readonly root: string;
  /** Memory {@link borrow} reads blocks into and takes back. */
  private readonly buffers = new BufferPool();

  constructor(root: string) {
    this.root = resolve(root);
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
    // Write then rename, so a reader (or a crash) never sees half a block.
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temp, bytes);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await mkdir(dirname(path), { recursive: true });
      await writeFile(temp, bytes);
    }
    await rename(temp, path);
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
      let released = false;
      return {
        bytes,
        release: () => {
          if (released) return;
          released = true;
          this.buffers.give(bytes);
        },
      };
    } finally {
      await handle.close();
    }
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    // A range is read of a block a plan named, which the store held when planned: gone, something deleted it.
    const handle = await open(this.path(key), 'r').catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? new MissingBlockError(key) : error;
    });
    try {
      // One read may return fewer bytes than asked without the file ending: read until the range is full.
      const bytes = await readFully(handle, Buffer.allocUnsafe(end - start), start);
      // A plan's offsets come from the block as written: a shorter file was cut after (an edit, a power loss).
      if (bytes.length !== end - start) {
        throw new DamagedBlockError(
          key,
          `it is shorter than the plan that wrote it: bytes ${start}-${end} were wanted, ${bytes.length} read`,
        );
      }
      return bytes;
    } finally {
      await handle.close();
    }
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
