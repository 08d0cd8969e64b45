import { cp } from 'node:fs/promises';
import { type CheckpointData, METADATA_KEY } from '../../lib/scheduler/CheckpointData';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';

/**
 * A folder store that, once the first metadata checkpoint `matches` accepts is on disk, copies the whole folder to
 * `snapshotDir`: the store as a driver killed right after writing that checkpoint leaves it. `snapshot` is that
 * checkpoint.
 */
export class CheckpointSnapshotStore extends LocalFolderStore {
  snapshot: CheckpointData | undefined;

  constructor(
    private readonly folder: string,
    private readonly snapshotDir: string,
    private readonly matches: (checkpoint: CheckpointData) => boolean,
  ) {
    super(folder);
  }

  override async put(key: string, bytes: Uint8Array | string): Promise<void> {
    await super.put(key, bytes);
    if (key !== METADATA_KEY || this.snapshot) return;
    const written = JSON.parse(String(bytes)) as CheckpointData;
    if (!this.matches(written)) return;
    this.snapshot = written;
    await cp(this.folder, this.snapshotDir, { recursive: true });
  }
}
