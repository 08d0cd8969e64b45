import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SluiceError } from '../errors';
import { type ListedFile, maxPartBytesOf } from './ByteRangePlanner';
import { type LinePosition, readLinesAt } from './FileLineCursor';
import { type FolderReadPart, planFolderParts } from './FolderReadPlanner';
import { fileRangeLines } from './fileRangeLines';
import type { BatchLimit } from './RateLimit';
import type { PlanContext, PlannedSource, ReadPlan } from './Source';
import { concatLines, linesOf, withoutByteOrderMark } from './textLines';

/** Settings of a {@link TextFileSource}. */
export interface TextFileSourceOptions {
  /** Skip the files already in the folder when the stream starts, as Spark does. Default `true`. */
  readonly newFilesOnly?: boolean;
  /**
   * The batch's tasks read the files (Spark's file splits): at the tick the source only lists the folder and plans
   * byte ranges. False: the source reads the new files' lines at the tick and the engine stores them as an input
   * block, which a rate-limited stream needs (its cap counts lines). Default `true`.
   */
  readonly readsDirectly?: boolean;
  /**
   * The most bytes one task of a planned batch reads: a batch of more than `partitions` times this gets more
   * tasks. Default `MAX_PART_BYTES` (128 MiB, Hadoop's split on HDFS).
   */
  readonly maxPartBytes?: number;
}

/**
 * The lines of new text files dropped into a folder, like Spark's `textFileStream(directory)`. At each batch
 * the folder is listed; every file not seen before belongs to that batch and contributes all its lines
 * (files in name order). A file is read once, in the batch that first sees it, and never again while it stays in the
 * folder; its name is remembered only until a listing no longer finds it, so a file that appears later under that name
 * is a new file and is read (as Spark's `FileInputDStream` forgets files once they leave its remember window).
 *
 * As in Spark, the driver only lists ({@link planBatch}): the batch's plan names each new file's size and splits
 * the bytes over the batch's tasks, which read the lines themselves, so the files must stay until their batch
 * completed. With `readsDirectly: false` (a rate-limited stream) {@link recordsFor} reads the lines at the tick.
 *
 * Files still being written are ignored until renamed: names starting with `.` or `_`, or ending in `.tmp`
 * or `._COPYING_`. Write a file under such a name and rename it into place so a batch never sees half of it.
 *
 * @example
 * const source = new TextFileSource('/data/incoming');
 * await source.start({ intervalMs: 1000, logicalClock: false });
 * const plan = await source.planBatch(1000, 1000, 4, ctx); // byte ranges of the new files, for 4 tasks
 */
export class TextFileSource implements PlannedSource<string> {
  /** Such as `textFile(/data/incoming)`. */
  readonly description: string;
  /** A JSON job's `type`: `textFile` is a static dataset's, which a folder source is not. */
  readonly kind = 'textFileStream';
  /** False: what a folder holds depends on when it is listed. */
  readonly replayable = false;
  /** The folder to watch. */
  readonly directory: string;
  /** The folder: the names its position holds are of files there. */
  get readsFrom(): string {
    return this.directory;
  }
  /** True when the batch's tasks read the files and the source only plans (the `readsDirectly` option). */
  readonly readsDirectly: boolean;
  private readonly newFilesOnly: boolean;
  private readonly maxPartBytes: number;
  /**
   * Names already taken by a batch (or skipped at start) that were still in the folder at the last listing, so they
   * are never read twice; see {@link forgetGone} for why it holds no more.
   */
  private readonly seen = new Set<string>();
  /**
   * What the last batch of `recordsFor` took, for its input metadata: the files it read whole, and under a rate
   * limit the lines it took of a file read in part.
   */
  private lastTaken: readonly string[] | undefined;
  /** Rate-limited: the file a batch took only part of, its lines, and how many of them batches took. */
  private partial: PartlyReadFile | undefined;

  /** Watches `directory`; nothing is read until {@link start}. */
  constructor(directory: string, options: TextFileSourceOptions = {}) {
    if (typeof directory !== 'string' || directory === '') {
      throw new SluiceError(
        `TextFileSource directory must be a non-empty path, got ${JSON.stringify(directory)}`,
      );
    }
    this.directory = directory;
    this.newFilesOnly = options.newFilesOnly ?? true;
    this.readsDirectly = options.readsDirectly ?? true;
    this.maxPartBytes = maxPartBytesOf(options.maxPartBytes);
    this.description = `textFile(${directory})`;
  }

  /**
   * The files already read, for the metadata checkpoint; with a file read in part (rate-limited), also its name,
   * the lines taken and the byte the rest start at, as `{ files, partial: { name, taken, byte } }`.
   */
  checkpointPosition(): string[] | { files: string[]; partial: PartlyReadFile } {
    const files = [...this.seen].sort();
    return this.partial ? { files, partial: partlyRead(this.partial) } : files;
  }

  /**
   * After a restart: exactly the files read before the crash count as seen; the rest are new. Names of files deleted
   * since are forgotten at the next listing, as any other.
   */
  restorePosition(position: unknown): void {
    const { files, partial } = Array.isArray(position)
      ? { files: position as string[], partial: undefined }
      : (position as { files: string[]; partial?: PartlyReadFile });
    this.seen.clear();
    for (const name of files) this.seen.add(name);
    // The next batch reads on from the byte; a position checkpointed without one skips the lines taken before.
    this.partial = partial ? partlyRead(partial) : undefined;
  }

  /** Checks the folder exists and, with `newFilesOnly`, marks the files already there as seen. */
  async start(): Promise<void> {
    const info = await stat(this.directory).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new SluiceError(
        `TextFileSource directory ${this.directory} does not exist or is not a directory; create it first`,
      );
    }
    if (this.newFilesOnly) {
      for (const name of (await this.listFolder()).ready) this.seen.add(name);
    }
  }

  /**
   * The lines of every file that appeared since the previous batch, files in name order. With `limit`, at most
   * `limit.maxRecords()` lines: the file read in part before first, then new files in name order; what is over
   * the limit waits in the folder (a file's remaining lines, files not read yet) for the next batches.
   */
  async recordsFor(_batchTime?: number, _intervalMs?: number, limit?: BatchLimit): Promise<string[]> {
    this.lastTaken = undefined;
    if (limit) return this.takeLines(limit.maxRecords());
    const listing = await this.listFolder();
    const fresh = listing.ready.filter((name) => !this.seen.has(name) && name !== this.partial?.name).sort();
    const lines: string[] = [];
    // A file a capped batch took in part before the cap was lifted: its lines not taken yet come first.
    const partial = this.partial;
    const rest =
      partial && (await readLinesAt(join(this.directory, partial.name), partial, Number.POSITIVE_INFINITY));
    for (const line of rest?.lines ?? []) lines.push(line);
    for (const name of fresh) {
      const bytes = await readIfPresent(join(this.directory, name));
      if (bytes !== undefined) for (const line of linesOf(withoutByteOrderMark(bytes))) lines.push(line);
    }
    // Marked only once every file was read: if one read fails the batch fails whole, and the next batch
    // takes all of these files again instead of silently losing the ones read before the failure.
    this.forgetGone(listing.present);
    for (const name of fresh) this.seen.add(name);
    this.lastTaken = partial ? [takenLine(partial, rest?.lines.length ?? 0, true), ...fresh] : fresh;
    this.takeRestOfPartial();
    return lines;
  }

  /**
   * The batch's plan, read by its tasks: the files that appeared since the previous batch, in name order, with the
   * sizes the listing saw, their bytes split over `partitions` parts, or more parts when one would hold more than
   * `maxPartBytes` (see `planFolderParts`). No file's content is read here; a file deleted between the listing and
   * its size is left out, as one deleted before its read is at the tick.
   */
  async planBatch(
    _batchTime: number,
    _intervalMs: number,
    partitions: number,
    ctx: PlanContext,
  ): Promise<ReadPlan> {
    if (ctx.limit) {
      throw new SluiceError(
        `${this.description} is read by its tasks and so cannot count lines against a rate limit; construct it ` +
          'with readsDirectly: false to cap it with maxRatePerSec or backpressure',
      );
    }
    const listing = await this.listFolder();
    const fresh = listing.ready.filter((name) => !this.seen.has(name) && name !== this.partial?.name).sort();
    // Sizes only, never contents: one stat per new file, all at once.
    const sizes = await Promise.all(
      fresh.map((name) =>
        stat(join(this.directory, name)).then(
          (info) => info.size,
          (error: NodeJS.ErrnoException) => {
            if (error.code === 'ENOENT') return undefined; // ErrnoException is what fs rejects with
            throw error;
          },
        ),
      ),
    );
    const rest = await this.restOfPartial();
    const listed: ListedFile[] = [
      ...(rest ? [rest] : []),
      ...fresh.flatMap((name, i) => {
        const sizeBytes = sizes[i];
        return sizeBytes === undefined ? [] : [{ name, sizeBytes }];
      }),
    ];
    const reportKeyOf = (p: number) => `${ctx.folder}read-${p}.json`;
    const parts = planFolderParts(this.directory, listed, partitions, reportKeyOf, this.maxPartBytes);
    // Marked only once the plan is made: the checkpoint written before the batch runs records both. A file planned
    // for a batch whose tasks have not read it yet must stay in the folder until they do, so the listing shows it
    // and it stays seen: it is never planned twice.
    this.forgetGone(listing.present);
    for (const name of fresh) this.seen.add(name);
    this.takeRestOfPartial();
    return { reader: 'folder', parts };
  }

  /** The files a planned batch read, with their byte ranges (see `fileRangeLines`). */
  async describeRead(plan: ReadPlan): Promise<readonly string[]> {
    return fileRangeLines((plan.parts as (FolderReadPart | null)[]).flatMap((part) => part?.ranges ?? []));
  }

  /**
   * What the batch `recordsFor` just returned took: the files it read whole; rate-limited, also the lines of a file
   * it took in part (`big.txt lines 4–6`).
   */
  describeTaken(): readonly string[] {
    return this.lastTaken ?? [];
  }

  /** How many lines the tasks of a planned batch read: the sum of their reports (a missing one counts 0). */
  async recordsRead(plan: ReadPlan, ctx: PlanContext): Promise<number> {
    let records = 0;
    for (const part of plan.parts as (FolderReadPart | null)[]) {
      if (part?.reportKey === undefined) continue;
      const bytes = await ctx.readReport(part.reportKey);
      if (bytes) records += (JSON.parse(new TextDecoder().decode(bytes)) as { records: number }).records;
    }
    return records;
  }

  /**
   * Up to `maxRecords` lines, from where the previous batch stopped; all or nothing moves, as above. Only the batch's
   * lines are read: a file taken over many batches is read a batch at a time from the byte its last one ended at.
   */
  private async takeLines(maxRecords: number): Promise<string[]> {
    const runs: string[][] = [];
    let count = 0;
    const done: string[] = [];
    const taken: string[] = [];
    let partial = this.partial;
    let fresh: string[] | undefined;
    let present: ReadonlySet<string> | undefined;
    while (count < maxRecords) {
      if (partial === undefined) {
        // Neither a file finished in this batch (marked seen only at its end) nor the one read in part before.
        const taken = new Set([...done, ...(this.partial ? [this.partial.name] : [])]);
        if (fresh === undefined) {
          const listing = await this.listFolder();
          present = listing.present;
          fresh = listing.ready.filter((name) => !this.seen.has(name) && !taken.has(name)).sort();
        }
        const name = fresh.shift();
        if (name === undefined) break;
        partial = { name, taken: 0, byte: 0 };
      }
      // A file gone since it was listed (or since it was read in part) has no more lines.
      const read = await readLinesAt(join(this.directory, partial.name), partial, maxRecords - count);
      const lines = read?.lines ?? [];
      runs.push(lines);
      count += lines.length;
      taken.push(takenLine(partial, lines.length, read === undefined || read.ended));
      if (read && !read.ended) {
        partial = { name: partial.name, taken: partial.taken + lines.length, byte: read.byte };
        break;
      }
      done.push(partial.name);
      partial = undefined;
    }
    // Committed only once every read succeeded: a failed batch leaves the position where it was. The file read in
    // part is `partial`, never in `seen`, so forgetting leaves its progress alone even when it is gone (it then ends
    // with no lines left, as before); a batch served by that file alone listed nothing and forgets nothing.
    if (present) this.forgetGone(present);
    for (const name of done) this.seen.add(name);
    this.partial = partial;
    this.lastTaken = taken;
    return concatLines(runs);
  }

  /**
   * The rest of the file a capped batch took in part, for a batch without a cap (the job resumed with
   * `maxRatePerSec` removed): its size and the byte its first line not taken starts at. Undefined when there is
   * none, when it is gone, or when nothing is left of it. Planned whole, it gave its taken lines a second time.
   */
  private async restOfPartial(): Promise<ListedFile | undefined> {
    const partial = this.partial;
    if (partial === undefined) return undefined;
    const path = join(this.directory, partial.name);
    const sizeBytes = await stat(path).then(
      (info) => info.size,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined; // ErrnoException is what fs rejects with
        throw error;
      },
    );
    if (sizeBytes === undefined) return undefined;
    const fromByte = partial.byte ?? (await readLinesAt(path, partial, 0))?.byte;
    return fromByte === undefined || fromByte >= sizeBytes
      ? undefined
      : { name: partial.name, sizeBytes, fromByte };
  }

  /** Marks the file read in part as read, once a batch without a cap took (or planned) the rest of it. */
  private takeRestOfPartial(): void {
    if (this.partial === undefined) return;
    this.seen.add(this.partial.name);
    this.partial = undefined;
  }

  /**
   * One listing of the folder: every name in it (`present`, whatever the entry), and among them the regular files
   * that are complete (`ready`: not hidden, not being copied).
   */
  private async listFolder(): Promise<{ present: ReadonlySet<string>; ready: string[] }> {
    const entries = await readdir(this.directory, { withFileTypes: true });
    return {
      present: new Set(entries.map((entry) => entry.name)),
      ready: entries.filter((entry) => entry.isFile() && isReady(entry.name)).map((entry) => entry.name),
    };
  }

  /**
   * Forgets the seen names that a listing no longer found, so `seen` and the checkpoint position stay the size of
   * the folder instead of growing with every file ever read (as `S3PrefixSource` does with a complete listing; a
   * `readdir` is always complete). A name is forgotten only when nothing of that name is left in the folder, not
   * when the listing merely does not call it ready: a file that is there but kept out of the ready files for a while
   * (an entry swapped for something that is not a regular file, or a later test of readiness by age or size) would
   * otherwise be forgotten and read again once it shows as ready. Readiness goes by name today, so a seen name is
   * ready whenever it is a regular file, but nothing here relies on that.
   */
  private forgetGone(present: ReadonlySet<string>): void {
    for (const name of this.seen) if (!present.has(name)) this.seen.delete(name);
  }
}

/**
 * What a rate-limited batch took of a file, for its input metadata: its name when it took all of it, else the lines
 * (counted from 1) it took, saying when they were the file's last.
 */
function takenLine(from: PartlyReadFile, lines: number, ended: boolean): string {
  if (from.taken === 0 && ended) return from.name;
  if (lines === 0) return `${from.name}: no line${ended ? ' left' : ''}`;
  const range = lines === 1 ? `line ${from.taken + 1}` : `lines ${from.taken + 1}–${from.taken + lines}`;
  return `${from.name} ${range}${ended ? ', its last' : ''}`;
}

/** A file a rate-limited batch took only part of: how many of its lines batches took, and where the rest start. */
interface PartlyReadFile extends LinePosition {
  readonly name: string;
}

/** A position's own fields only (one restored from JSON may hold more), `byte` only when it has one. */
function partlyRead({ name, taken, byte }: PartlyReadFile): PartlyReadFile {
  return { name, taken, ...(byte !== undefined ? { byte } : {}) };
}

/** The file's bytes, or undefined when it was deleted between the listing and the read. */
async function readIfPresent(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code; // ErrnoException is what fs rejects with
    if (code === 'ENOENT') return undefined;
    if (code === 'ERR_FS_FILE_TOO_LARGE') {
      throw new SluiceError(
        `file ${path} is larger than 2 GiB, the most a folder source reads whole at the tick (constructed with ` +
          'readsDirectly: false and no rate limit, it puts each new file in one batch): split it into smaller files, ' +
          "or let the batch's tasks read it in byte ranges (the default), or cap the stream with maxRatePerSec",
      );
    }
    throw error;
  }
}

/** False for the names writers use while a file is incomplete (Hadoop's `_`/`.` prefixes, `._COPYING_`). */
function isReady(name: string): boolean {
  return !(
    name.startsWith('.') ||
    name.startsWith('_') ||
    name.endsWith('.tmp') ||
    name.endsWith('._COPYING_')
  );
}
