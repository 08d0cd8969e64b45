import { type EncodedReceivedBlock, encodeReceivedBlock } from '../storage/ReceivedBlock';
import type { UnreadableRecord } from './UnreadableRecord';

const NEWLINE = 0x0a;
const NEWLINE_BYTES = Buffer.from('\n');

/**
 * A buffer runs are copied into. A block taken whole is a view of it, so its memory is written again only once
 * no run waits in it and every block viewing it has been released (stored).
 */
interface Arena {
  readonly buffer: Buffer;
  /** Blocks taken from it and not released yet. */
  viewers: number;
  /** False once a newer arena took over: it then gets no more runs. */
  current: boolean;
}

/** A run of complete lines as they came off the wire: valid UTF-8, no `\r`, joined by `\n`, no final newline. */
interface TextRun {
  readonly bytes: Buffer;
  readonly count: number;
  readonly arena: Arena;
}

/** A block taken from the lines waiting: its bytes, their format, and how many records it holds. */
export interface TakenBlock extends EncodedReceivedBlock {
  readonly records: number;
  /**
   * Called once the bytes are stored and nothing reads them any more: the memory they view may then hold later
   * lines. A caller that never calls it only leaves that memory to the garbage collector.
   */
  readonly release?: () => void;
}

/**
 * The lines a receiving source holds until the engine takes them. Lines stay the bytes they arrived as, so a
 * block of them is those bytes: no line is decoded to a string on the receiving thread, and none is encoded again
 * for the block. Most come in clean runs (valid UTF-8, within the line limit, no `\r`); a line that needed work
 * (one split across chunks, a `\r\n` line) joins them once the source has made it whole. Only a line the source
 * could not read (not UTF-8, too long) waits as a record: its `UnreadableRecord`.
 *
 * The bytes are copied as they come into an arena, run after run with a newline between, and a block taken
 * whole is a view of it: nothing keeps what a read landed in, so the socket reads into one reused buffer (views
 * of read buffers held for the block interval outlived collections and set off full ones), and taking a block
 * copies nothing. An arena whose blocks are all released is used again: memory fresh from the system costs a page
 * fault per 4 KiB on first write, which at 200 MB/s was a third of the receiving thread's time.
 */
export class ReceivedLines {
  /** In arrival order: runs of raw lines (views of an arena), and single records. */
  private pending: Array<TextRun | { readonly record: unknown }> = [];
  private waiting = 0;
  /** Where runs are copied. */
  private arena: Arena = { buffer: Buffer.alloc(0), viewers: 0, current: true };
  /** Where the next run goes, past a newline when the arena holds a run already (even an empty one). */
  private arenaUsed = 0;
  private arenaHoldsRun = false;
  /** Arenas no block views any more, kept for the next one needed. */
  private spares: Buffer[] = [];
  /** The bytes of the largest block taken lately, which the next arena is sized for. */
  private blockBytes = 0;

  /** How many records wait. */
  get size(): number {
    return this.waiting;
  }

  /** Adds `count` clean lines held in `bytes` (see {@link TextRun}); the bytes are copied, not kept. */
  pushRun(bytes: Uint8Array, count: number): void {
    const at = this.reserve(bytes.length);
    this.arena.buffer.set(bytes, at);
    this.pushCopied(at, bytes.length, count);
  }

  /** Adds a line the source could not read; the block that holds it is JSON, which dead-letters it. */
  pushUnreadable(record: UnreadableRecord): void {
    this.pending.push({ record });
    this.waiting += 1;
  }

  /**
   * Where `length` bytes go in the arena, after a newline that separates them from the run before. A run that
   * does not fit starts a new arena, sized for a few blocks of the largest lately taken, and the runs still
   * waiting in the old one move with it, so that a block is always one view.
   */
  private reserve(length: number): number {
    const separator = this.arenaHoldsRun ? 1 : 0;
    if (this.arenaUsed + separator + length <= this.arena.buffer.length) {
      if (separator) this.arena.buffer[this.arenaUsed] = NEWLINE;
      return this.arenaUsed + separator;
    }
    const old = this.arena;
    const waitingRuns = this.pending.filter(
      (entry): entry is TextRun => 'bytes' in entry && entry.arena === old,
    );
    // The runs waiting in the old arena lie together at its end, a newline between each two.
    const from =
      waitingRuns.length > 0 ? waitingRuns[0]!.bytes.byteOffset - old.buffer.byteOffset : this.arenaUsed;
    const moved = this.arenaUsed - from;
    const needed = moved + (waitingRuns.length > 0 ? 1 : 0) + length;
    const arena: Arena = { buffer: this.newArenaBuffer(needed), viewers: 0, current: true };
    old.buffer.copy(arena.buffer, 0, from, this.arenaUsed);
    this.pending = this.pending.map((entry) => {
      if (!('bytes' in entry) || entry.arena !== old) return entry;
      const at = entry.bytes.byteOffset - old.buffer.byteOffset - from;
      return { bytes: arena.buffer.subarray(at, at + entry.bytes.length), count: entry.count, arena };
    });
    this.arena = arena;
    this.arenaUsed = moved;
    this.arenaHoldsRun = waitingRuns.length > 0;
    old.current = false;
    this.recycle(old);
    return this.reserve(length);
  }

  /** A buffer of `needed` bytes at least, for a new arena: a spare of about the right size, or fresh memory. */
  private newArenaBuffer(needed: number): Buffer {
    // Room for more than what moves, so that lines waiting longer than an arena lasts move once, not at every read.
    const size = Math.max(MIN_ARENA_BYTES, 4 * this.blockBytes, 2 * needed);
    // A spare far from the size now wanted is let go: one much larger would keep a burst's memory for good, and
    // one much smaller would soon fill and move its lines again.
    this.spares = this.spares.filter((spare) => spare.length <= 2 * size && 2 * spare.length >= size);
    const fit = this.spares.findIndex((spare) => spare.length >= needed);
    if (fit !== -1) return this.spares.splice(fit, 1)[0]!;
    return Buffer.allocUnsafe(size);
  }

  /** Keeps an arena's buffer as a spare once no run waits in it and no block views it. */
  private recycle(arena: Arena): void {
    if (arena.current || arena.viewers > 0 || arena.buffer.length === 0) return;
    if (this.spares.length < MAX_SPARE_ARENAS) this.spares.push(arena.buffer);
  }

  private pushCopied(at: number, length: number, count: number): void {
    this.arenaUsed = at + length;
    this.arenaHoldsRun = true;
    const arena = this.arena;
    const bytes = arena.buffer.subarray(at, at + length);
    const last = this.pending[this.pending.length - 1];
    // A run right after the one before in the same arena joins it: a block is then one view, whatever its runs.
    if (last && 'bytes' in last && last.arena === arena && adjacent(last.bytes, bytes)) {
      this.pending[this.pending.length - 1] = {
        bytes: arena.buffer.subarray(last.bytes.byteOffset - arena.buffer.byteOffset, at + length),
        count: last.count + count,
        arena,
      };
    } else this.pending.push({ bytes, count, arena });
    this.waiting += count;
  }

  /** The oldest `maxRecords` records (all with Infinity), decoded: lines as strings. */
  take(maxRecords: number): unknown[] {
    return recordsOf(this.takeEntries(maxRecords));
  }

  /**
   * The oldest `maxRecords` records as one stored block, or undefined when none wait: newline-delimited text, a
   * view of the arena when its lines lie together there (nearly always), or a JSON block, as `encodeReceivedBlock`
   * makes it, when it holds an unreadable record.
   */
  takeBlock(maxRecords: number): TakenBlock | undefined {
    const entries = this.takeEntries(maxRecords);
    if (entries.length === 0) return undefined;
    if (entries.some((entry) => 'record' in entry)) {
      const all = recordsOf(entries);
      return { ...encodeReceivedBlock(all), records: all.length };
    }
    const runs = entries as TextRun[];
    const records = runs.reduce((sum, run) => sum + run.count, 0);
    // More than one run is not one view (never so while runs move with their arena; kept for safety): a copy,
    // which the collector frees.
    const bytes =
      runs.length === 1
        ? runs[0]!.bytes
        : Buffer.concat(runs.flatMap((run, i) => (i ? [NEWLINE_BYTES, run.bytes] : [run.bytes])));
    this.blockBytes = Math.max(bytes.length, this.blockBytes >> 1);
    if (runs.length > 1) return { bytes, format: 'text', records };
    const { arena } = runs[0]!;
    arena.viewers++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      arena.viewers--;
      this.recycle(arena);
    };
    return { bytes, format: 'text', records, release };
  }

  /** Removes and returns the oldest entries holding `maxRecords` records, splitting a run at a line if need be. */
  private takeEntries(maxRecords: number): Array<TextRun | { readonly record: unknown }> {
    if (maxRecords >= this.waiting) {
      const all = this.pending;
      this.pending = [];
      this.waiting = 0;
      return all;
    }
    const taken: Array<TextRun | { readonly record: unknown }> = [];
    let left = maxRecords;
    let i = 0;
    for (; i < this.pending.length && left > 0; i++) {
      const entry = this.pending[i]!;
      const count = 'record' in entry ? 1 : entry.count;
      if (count <= left) {
        taken.push(entry);
        left -= count;
        continue;
      }
      // Part of a run: the first `left` lines go, the rest stay first in line.
      const run = entry as TextRun;
      let cut = -1;
      for (let line = 0; line < left; line++) cut = run.bytes.indexOf(NEWLINE, cut + 1);
      taken.push({ bytes: run.bytes.subarray(0, cut), count: left, arena: run.arena });
      this.pending[i] = { bytes: run.bytes.subarray(cut + 1), count: run.count - left, arena: run.arena };
      left = 0;
      break;
    }
    this.pending = this.pending.slice(i);
    this.waiting -= maxRecords;
    return taken;
  }
}

/** An arena holds 16 MiB at least: the socket's 64 KiB reads then seldom start a new one. */
const MIN_ARENA_BYTES = 16 * 1024 * 1024;

/**
 * Released arenas kept for reuse. One is enough: a block is stored long before the next arena fills, so the arena
 * left behind is a spare again by the time another is needed, and two arenas of a few blocks each are in use.
 */
const MAX_SPARE_ARENAS = 1;

/** Whether `next` starts one newline past the end of `run` (both in the same arena). */
function adjacent(run: Buffer, next: Buffer): boolean {
  return run.byteOffset + run.length + 1 === next.byteOffset;
}

/** The records of `entries`, runs decoded to their lines. */
function recordsOf(entries: ReadonlyArray<TextRun | { readonly record: unknown }>): unknown[] {
  const records: unknown[] = [];
  for (const entry of entries) {
    if ('record' in entry) records.push(entry.record);
    else for (const line of entry.bytes.toString('utf8').split('\n')) records.push(line);
  }
  return records;
}
