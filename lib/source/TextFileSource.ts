import { isUtf8 } from 'node:buffer';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SluiceError } from '../errors';
import type { Source } from './Source';
import { unreadableRecord } from './UnreadableRecord';

/** Settings of a {@link TextFileSource}. */
export interface TextFileSourceOptions {
  /** Skip the files already in the folder when the stream starts, as Spark does. Default `true`. */
  readonly newFilesOnly?: boolean;
}

/**
 * The lines of new text files dropped into a folder, like Spark's `textFileStream(directory)`. At each batch
 * the folder is listed; every file not seen before belongs to that batch and contributes all its lines
 * (files in name order). A file is read once, in the batch that first sees it, and never again.
 *
 * Files still being written are ignored until renamed: names starting with `.` or `_`, or ending in `.tmp`
 * or `._COPYING_`. Write a file under such a name and rename it into place so a batch never sees half of it.
 *
 * @example
 * const source = new TextFileSource('/data/incoming');
 * await source.start({ intervalMs: 1000, logicalClock: false });
 * const lines = await source.recordsFor(1000, 1000); // lines of the files that appeared since start
 */
export class TextFileSource implements Source<string> {
  /** Such as `textFile(/data/incoming)`. */
  readonly description: string;
  /** False: what a folder holds depends on when it is listed. */
  readonly replayable = false;
  /** The folder to watch. */
  readonly directory: string;
  private readonly newFilesOnly: boolean;
  /** Names already taken by a batch (or skipped at start), so they are never read twice. */
  private readonly seen = new Set<string>();

  /** Watches `directory`; nothing is read until {@link start}. */
  constructor(directory: string, options: TextFileSourceOptions = {}) {
    if (typeof directory !== 'string' || directory === '') {
      throw new SluiceError(
        `TextFileSource directory must be a non-empty path, got ${JSON.stringify(directory)}`,
      );
    }
    this.directory = directory;
    this.newFilesOnly = options.newFilesOnly ?? true;
    this.description = `textFile(${directory})`;
  }

  /** The files already read, for the metadata checkpoint. */
  checkpointPosition(): string[] {
    return [...this.seen].sort();
  }

  /** After a restart: exactly the files read before the crash count as seen; the rest are new. */
  restorePosition(position: unknown): void {
    this.seen.clear();
    for (const name of position as string[]) this.seen.add(name);
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
      for (const name of await this.listReadyFiles()) this.seen.add(name);
    }
  }

  /** The lines of every file that appeared since the previous batch, files in name order. */
  async recordsFor(): Promise<string[]> {
    const fresh = (await this.listReadyFiles()).filter((name) => !this.seen.has(name)).sort();
    const lines: string[] = [];
    for (const name of fresh) {
      const bytes = await readIfPresent(join(this.directory, name));
      if (bytes !== undefined) for (const line of linesOf(bytes)) lines.push(line);
    }
    // Marked only once every file was read: if one read fails the batch fails whole, and the next batch
    // takes all of these files again instead of silently losing the ones read before the failure.
    for (const name of fresh) this.seen.add(name);
    return lines;
  }

  /** Names of the regular files in the folder that are complete (not hidden, not being copied). */
  private async listReadyFiles(): Promise<string[]> {
    const entries = await readdir(this.directory, { withFileTypes: true });
    return entries.filter((entry) => entry.isFile() && isReady(entry.name)).map((entry) => entry.name);
  }
}

/** The file's bytes, or undefined when it was deleted between the listing and the read. */
async function readIfPresent(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // ErrnoException is what fs rejects with
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

/**
 * A file's lines. A line that is not UTF-8 is handed on as an `UnreadableRecord` holding its bytes in base64,
 * which the input block dead-letters; a file that is UTF-8 throughout (nearly all) is decoded at once.
 */
function linesOf(bytes: Buffer): string[] {
  if (isUtf8(bytes)) return splitLines(bytes.toString('utf8'));
  const lines: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    const newline = bytes.indexOf(0x0a, start);
    const end = newline === -1 ? bytes.length : newline;
    const line = bytes.subarray(start, end > start && bytes[end - 1] === 0x0d ? end - 1 : end);
    if (isUtf8(line)) lines.push(line.toString('utf8'));
    else {
      const reason = 'line is not valid UTF-8; its bytes are kept in base64';
      const unreadable = unreadableRecord(reason, { bytes: line.length, base64: line.toString('base64') });
      lines.push(unreadable as unknown as string); // never reaches a function: the block dead-letters it
    }
    start = end + 1;
  }
  return lines;
}

/** Lines split on `\n`, each without a trailing `\r`, without the empty line after a final newline. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.endsWith('\r')) lines[i] = line.slice(0, -1);
  }
  return lines;
}
