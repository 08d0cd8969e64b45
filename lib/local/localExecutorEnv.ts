import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { FunctionTable } from '../dataset/FnScope';
import { PartitionCache } from '../dataset/PartitionCache';
import type { ExecutorEnv } from '../executor/TaskExecutor';
import { LocalFolderStore } from '../storage/LocalFolderStore';
import { registerLocalDirectReaders } from './localDirectReaders';

/** Where the local runtime keeps things: block store, outputs, and the folder static paths are relative to. */
export interface LocalDirs {
  /** The block store folder. Default `.sluice/<job name>/` (see `defaultStoreDir`). */
  readonly storeDir: string;
  /** The folder `saveAsTextFiles` and jsonl paths are relative to. Default: the current folder. */
  readonly outputDir: string;
  /** The folder static dataset paths are relative to (the job file's folder). */
  readonly baseDir: string;
  /**
   * Whether what a later run reads (checkpoints, state, input blocks, file outputs) is on the disk before it
   * counts as written, a power loss included (see `LocalFolderStore.needsSync`). Default true.
   */
  readonly fsync?: boolean;
}

/** The executor environment of the local runtime, in the driver or in a worker thread; registers its readers. */
export function localExecutorEnv(dirs: LocalDirs, functions: FunctionTable): ExecutorEnv {
  // Tasks of a folder source read its files themselves, in whichever process (driver or worker thread) runs them.
  registerLocalDirectReaders();
  return {
    store: new LocalFolderStore(dirs.storeDir, { fsync: dirs.fsync ?? true }),
    outputs: new LocalFolderStore(dirs.outputDir, { fsync: dirs.fsync ?? true }),
    functions,
    cache: new PartitionCache(),
    readText: (path) => readFile(isAbsolute(path) ? path : resolve(dirs.baseDir, path), 'utf8'),
  };
}
