import type { Dataset } from '../dataset/Dataset';
import { unionOf } from '../dataset/unionOf';
import { type GraphProblem, StreamGraphError } from '../errors';
import { DStream } from './DStream';

/**
 * Input batches one window may span: each is remembered until it leaves the window, so a week of 1 ms batches
 * would hold hundreds of millions of datasets. A longer window windows a stream that already slides slower.
 */
export const MAX_WINDOW_BATCHES = 100_000;

/**
 * Checks a window and slide against the parent's slide, with the numbers and what set that slide in the
 * message; every problem is reported at once, each at its argument (`windowMs`, `slideMs`).
 */
export function validateWindow(
  parent: DStream<any>,
  windowMs: number,
  slideMs: number,
  /** The origin of the windowed stream, which the error carries. */
  origin: string | undefined,
): void {
  const p = parent.slideMs;
  const problems: GraphProblem[] = [];
  for (const [what, field, ms] of [
    ['window', 'windowMs', windowMs],
    ['slide', 'slideMs', slideMs],
  ] as const) {
    if (!Number.isInteger(ms) || ms <= 0 || ms % p !== 0) {
      const message = `${what} of ${ms} ms must be a positive multiple of ${parent.describeSlide()}`;
      problems.push({ field, message, value: ms });
    }
  }
  if (problems.length === 0 && windowMs / p > MAX_WINDOW_BATCHES) {
    problems.push({
      field: 'windowMs',
      message: `spans ${Math.ceil(windowMs / p)} batches of its input's ${p} ms, more than the ${MAX_WINDOW_BATCHES} a window may keep; use a longer batch interval or slide before it (a window of windows)`,
      value: windowMs,
    });
  }
  if (problems.length > 0) {
    throw new StreamGraphError(problems.map((problem) => problem.message).join('; '), origin, problems);
  }
}

/**
 * The records of the batches in (t − window, t] at every multiple of the slide (Spark's WindowedDStream). At
 * the start of the stream windows are shorter. The parent is persisted so each batch is computed once however
 * many windows read it, and it remembers exactly the batches its windows still need.
 */
export class WindowedDStream<T> extends DStream<T> {
  constructor(
    private readonly parent: DStream<T>,
    readonly windowMs: number,
    private readonly slide: number,
  ) {
    super(parent.ssc);
    this.name = 'window'; // before the check: a TypeScript job's origin names the op by it
    this.valueShape = parent.valueShape; // a window's records are its batches', groups still groups
    validateWindow(parent, windowMs, slide, this.origin);
    // Spark persists the parent of a window (serialized, in memory); a batch is read by window/slide windows.
    if (!parent.storageLevel) parent.persist('memory');
  }

  get dependencies() {
    return [this.parent];
  }

  get slideMs() {
    return this.slide;
  }

  protected override parentRememberMs(): number {
    return this.rememberMs + this.windowMs - this.parent.slideMs;
  }

  override aheadOfSlide(batchTime: number): DStream<any> | undefined {
    return this.windowParentAhead(this.parent, this.windowMs, batchTime);
  }

  /** The next window, at t, reads the parent's batches in (t − window, t]. */
  override parentKeepAfter(keepAfter: number): number {
    return this.nextTimeAfter(keepAfter) - this.windowMs;
  }

  protected async compute(batchTime: number): Promise<Dataset<T>> {
    const datasets = await this.parent.slice(batchTime - this.windowMs + this.parent.slideMs, batchTime);
    return unionOf(datasets) ?? this.ssc.emptyDataset<T>();
  }
}
