import { SluiceError } from '../errors';
import { type CheckpointData, METADATA_KEY, parseCheckpoint } from '../scheduler/CheckpointData';
import type { BlockStore } from '../storage/BlockStore';
import type { S3BlockStore } from './S3BlockStore';

/**
 * A coordinator found that a successor took its job over: it must stop at once, without writing anything more.
 * Thrown by {@link FencedStore} instead of the write.
 */
export class FencedError extends SluiceError {
  override name = 'FencedError';
}

/** How many times a take-over re-reads a checkpoint that a stale coordinator rewrote under it. */
const CLAIM_ATTEMPTS = 5;
/** How many times an owner replaces an unrecorded input block that a stale coordinator keeps recreating. */
const ORPHAN_ATTEMPTS = 5;

/**
 * The block stores a coordinator of lease epoch N writes through, so that once epoch N+1 has taken the job over,
 * nothing epoch N still does can change what N+1 relies on. It uses S3's own guarantees, not timing:
 *
 * - **The metadata checkpoint is the fencing token.** {@link claim} rewrites it, at take-over, with the new epoch
 *   in its body and `If-Match` on the ETag it read (an epoch in the body makes the bytes, so the ETag, differ from
 *   the predecessor's). Every later checkpoint is written with `If-Match` on the ETag of this coordinator's own
 *   previous write. A stale coordinator's next checkpoint therefore fails (412) and it throws {@link FencedError};
 *   the scheduler stops at once. Since a batch's input block is recorded by the checkpoint written after the
 *   batch is generated, and the scheduler runs a batch only after that write succeeded, a stale coordinator never
 *   starts a batch the successor does not know about.
 * - **Input blocks are write-once** (`If-None-Match: *`): a stale coordinator can never overwrite a block a
 *   checkpoint recorded (the failure of the issue: offsets of one writer over the bytes of another). A block that
 *   exists but no checkpoint recorded is an orphan of a predecessor that died (or was fenced) between writing it
 *   and recording it; no task ever read it, so the owner, after checking the checkpoint is still its own, replaces
 *   it. A recomputed pending batch reads the recorded block and never writes it (`InputDStream.restoreBlocks`).
 * - **State, shuffle data and outputs** are keyed by batch (or by dataset and batch) and computed from recorded
 *   input blocks and checkpointed state: a stale writer can at most rewrite the same records. Each is refused once
 *   this coordinator knows it is fenced (a failed conditional write, a lost lease).
 * - **Dead letters** are keyed by batch too, but which batch writes a letter of a dataset two batches read
 *   depends on which computed it first, so a stale writer's object for a batch may hold a letter its successor
 *   wrote under another. The coordinator checks the checkpoint is still its own before each batch's letters
 *   (`BatchDriver`): a writer frozen anywhere before that check writes none; one frozen between the check and the
 *   write rewrites them (their `dataset` label numbers datasets by process, so even the same letters differ).
 * - **Deletes cannot be conditional on S3**, so none may remove what a successor relies on, even before this
 *   coordinator knows it lost the job (a check of the checkpoint and the delete after it are two requests, and the
 *   coordinator may freeze between them). A delete is safe when a successor neither reads nor writes what it
 *   removes. A successor starts from this coordinator's newest checkpoint (its claim would otherwise have failed,
 *   or fenced that checkpoint), reads only what that checkpoint needs, and writes the batches after it, under its
 *   own names where drivers' data could differ (shuffle blobs, received and recomputed input blocks). So:
 *   - the scheduler's cleanup deletes (shuffle data of a completed batch, blocks and state the stream no longer
 *     remembers, a slice's recomputed blocks) follow a successful checkpoint that no longer names them, by keys
 *     of a batch that checkpoint completed or of this driver's own names: no successor reads or writes them, and
 *     they need no check;
 *   - what a run deletes as it starts, before its first checkpoint, of what earlier drivers left (the whole
 *     `shuffle/` folder; the blocks of stream datasets its checkpoint does not mark stored and the received
 *     blocks it does not name, which the restore finds) is listed first and deleted through
 *     {@link deleteLeftovers}, which checks ownership once after the listing: every key listed was written before
 *     any successor claimed the job, so none is a successor's. Deleting the folder unchecked deleted the blobs of a
 *     successor's running batch (test/aws/coordinatorStaleDeletes.test.ts), and a restore that froze before its
 *     listing deleted the blocks a successor stored since (test/aws/staleRestoreDeletes.test.ts);
 *   - a complete output folder (one with `_SUCCESS`) is never deleted, since a rerun rewrites the same parts (it
 *     removes only the parts it did not write, of an earlier write with more partitions, which a successor does
 *     not write either); other output deletes check first that the checkpoint is still this coordinator's.
 *   What no check can cover are keys a successor writes again under the same name after its claim, since the
 *   coordinator may freeze between the check and the delete: an orphan input block, which both replace (see
 *   `putInputBlock`); the dead letters of the batches after the checkpoint's last completed one, which the restore
 *   lists and deletes after one check (`discardDeadLettersAfter` in `BatchDriver`, through {@link deleteLeftovers})
 *   and a successor
 *   writes again as it reruns those batches;
 *   and the blocks of a dataset the restore did not mark stored (its blocks incomplete), which the restore lists and
 *   deletes after one check, and which a successor may compute again under the same keys. No rule without a conditional delete closes that window (and S3's conditions
 *   would not help: a rewrite of the same records has the same ETag).
 */
export class FencedStore implements BlockStore {
  /** The ETag of the checkpoint as this coordinator last wrote (or claimed) it; undefined: there is none yet. */
  private checkpointEtag: string | undefined;
  /** This coordinator's checkpoint write in flight, if any (they are chained: one at a time). */
  private checkpointWrite: Promise<void> | undefined;
  private fencedBecause: string | undefined;
  /** Objects written and deleted through this store. */
  private readonly outputs: OutputsGuard;

  constructor(
    /** The job's store (the bucket under `jobs/<name>/store/`). */
    private readonly store: S3BlockStore,
    /** The job's outputs (the bucket under `outputs/`). */
    outputs: S3BlockStore,
    /** The lease epoch of this coordinator. */
    readonly epoch: number,
  ) {
    this.outputs = new OutputsGuard(outputs, this);
  }

  /** The outputs store the engine writes `saveAsTextFiles` and `jsonl` through. */
  get outputStore(): BlockStore {
    return this.outputs;
  }

  /** Why this coordinator may write nothing more, once it knows; undefined while it may. */
  get fenced(): string | undefined {
    return this.fencedBecause;
  }

  /** Marks this coordinator fenced (it lost the lease): every later write throws. */
  fence(reason: string): void {
    this.fencedBecause ??= reason;
  }

  /**
   * Reads the metadata checkpoint and makes it this epoch's: rewrites it with the epoch in its body, `If-Match` on
   * what was read. Returns the checkpoint to resume from (undefined: none yet; the first checkpoint is then
   * written with `If-None-Match`). Throws {@link FencedError} when others keep rewriting it under the claim.
   */
  async claim(): Promise<CheckpointData | undefined> {
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const current = await this.store.getWithEtag(METADATA_KEY);
      if (!current) return undefined;
      // The epoch already in it is not compared with ours: the lease decides who claims (a lease deleted by
      // hand restarts at epoch 1), and the ETag chain, not the number, is what fences.
      const data = parseCheckpoint(current.bytes);
      const claimed = JSON.stringify({ ...data, fencingEpoch: this.epoch });
      const etag = await this.store.putConditional(METADATA_KEY, claimed, current.etag);
      if (etag !== undefined) {
        this.checkpointEtag = etag;
        return data;
      }
      // A stale coordinator wrote a checkpoint between the read and the claim: read its newer one.
    }
    throw new FencedError(
      `could not claim the metadata checkpoint in ${CLAIM_ATTEMPTS} attempts: another coordinator keeps rewriting it`,
    );
  }

  /** Throws {@link FencedError} unless the checkpoint is still the one this coordinator last wrote. */
  async checkOwner(): Promise<void> {
    if (this.fencedBecause) throw this.error();
    const etag = await this.etagOfCheckpoint();
    // The checkpoint read may be this coordinator's own newer one, which S3 stored before its answer, and the ETag
    // in it, came back (an output's check while a batch's checkpoint is written): that write's answer tells.
    if (etag !== this.checkpointEtag && this.checkpointWrite) await this.checkpointWrite.catch(() => {});
    if (etag !== this.checkpointEtag) {
      this.fence('another coordinator rewrote the metadata checkpoint');
      throw this.error();
    }
  }

  async put(key: string, bytes: Uint8Array | string): Promise<void> {
    if (this.fencedBecause) throw this.error();
    if (key === METADATA_KEY) {
      const write = this.putCheckpoint(bytes);
      this.checkpointWrite = write;
      try {
        return await write;
      } finally {
        if (this.checkpointWrite === write) this.checkpointWrite = undefined;
      }
    }
    if (key.startsWith('input/')) return this.putInputBlock(key, bytes);
    return this.store.put(key, bytes);
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.store.get(key);
  }

  getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    return this.store.getRange(key, start, end);
  }

  list(prefix: string): Promise<string[]> {
    return this.store.list(prefix);
  }

  async deletePrefix(prefix: string): Promise<void> {
    if (this.fencedBecause) throw this.error();
    return this.store.deletePrefix(prefix);
  }

  /** As {@link deletePrefix}, for known keys: refused once fenced, and no listing. */
  async deleteKeys(keys: readonly string[]): Promise<void> {
    if (this.fencedBecause) throw this.error();
    return this.store.deleteKeys(keys);
  }

  /**
   * Deletes what an earlier driver left, listed before the call: only after {@link checkOwner}, since a delete
   * cannot be conditional. None of these keys is a successor's: one that took the job over did so after the check,
   * and writes only after its claim. One check for the whole round, not one per key.
   */
  async deleteLeftovers(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.checkOwner();
    return this.store.deleteKeys(keys);
  }

  /** The error every refused write throws. */
  error(): FencedError {
    return new FencedError(
      `this coordinator (lease epoch ${this.epoch}) no longer owns the job: ${this.fencedBecause ?? 'it was taken over'}; it stops without writing`,
    );
  }

  private async putCheckpoint(bytes: Uint8Array | string): Promise<void> {
    const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8');
    // The epoch in the body: what each epoch wrote can be told apart, and a claim always changes the ETag.
    const body = `{"fencingEpoch":${this.epoch},${text.slice(1)}`;
    // No checkpoint yet: If-None-Match, so of two first coordinators only one starts the job.
    const etag = await this.store.putConditional(METADATA_KEY, body, this.checkpointEtag);
    if (etag === undefined) {
      this.fence('another coordinator wrote the metadata checkpoint after this one last did');
      throw this.error();
    }
    this.checkpointEtag = etag;
  }

  private async putInputBlock(key: string, bytes: Uint8Array | string): Promise<void> {
    for (let attempt = 0; attempt < ORPHAN_ATTEMPTS; attempt++) {
      if (await this.store.putIfAbsent(key, bytes)) return;
      // The block exists and our checkpoint does not record it (a recorded one is never written again). If the
      // checkpoint is still ours, it is an orphan no task read: replace it. Otherwise we are the stale one.
      await this.checkOwner();
      await this.store.deleteKeys([key]);
    }
    throw new FencedError(
      `input block ${key} keeps reappearing after ${ORPHAN_ATTEMPTS} replacements: another coordinator is writing it`,
    );
  }

  private async etagOfCheckpoint(): Promise<string | undefined> {
    return (await this.store.getWithEtag(METADATA_KEY))?.etag;
  }
}

/**
 * The outputs as a fenced coordinator may touch them: writes are refused once fenced (a stale writer's parts and
 * jsonl objects are the same bytes at the same keys anyway), and a delete never removes a complete folder.
 */
class OutputsGuard implements BlockStore {
  constructor(
    private readonly outputs: S3BlockStore,
    private readonly owner: FencedStore,
  ) {}

  async put(key: string, bytes: Uint8Array | string): Promise<void> {
    if (this.owner.fenced) throw this.owner.error();
    return this.outputs.put(key, bytes);
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.outputs.get(key);
  }

  getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    return this.outputs.getRange(key, start, end);
  }

  list(prefix: string): Promise<string[]> {
    return this.outputs.list(prefix);
  }

  /**
   * `saveAsTextFiles` clears a batch's folder before writing it and after a failure. A folder with `_SUCCESS`
   * is complete (perhaps by a successor): its parts are what a rerun writes again, so it is kept as it is.
   */
  async deletePrefix(prefix: string): Promise<void> {
    const keys = await this.outputs.list(prefix);
    if (keys.length === 0 || keys.some((key) => key.endsWith('/_SUCCESS'))) return;
    await this.owner.checkOwner();
    await this.outputs.deleteKeys(keys, prefix);
  }

  /**
   * A text folder rewritten over a complete one removes the files the rewrite did not replace (the parts of an
   * earlier write with more partitions). A successor writing the same folder writes the same parts, so these keys
   * are none it relies on; the ownership check keeps a coordinator that knows it lost the job from deleting at all.
   */
  async deleteKeys(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.owner.checkOwner();
    await this.outputs.deleteKeys(keys);
  }
}
