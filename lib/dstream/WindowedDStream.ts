import type { Dataset } from '../dataset/Dataset';
import { unionOf } from '../dataset/unionOf';
import { StreamGraphError } from '../errors';
import { DStream } from './DStream';

/** Checks a window and slide against the parent's slide, with both numbers in the message. */
export function validateWindow(parent: DStream<any>, windowMs: number, slideMs: number): void {
  const p = parent.slideMs;
  for (const [what, ms] of [
    ['window', windowMs],
    ['slide', slideMs],
  ] as const) {
    if (!Number.isInteger(ms) || ms <= 0 || ms % p !== 0) {
      throw new StreamGraphError(
        `${what} of ${ms} ms must be a positive multiple of the parent's slide of ${p} ms (stream ${parent.name})`,
      );
    }
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
    validateWindow(parent, windowMs, slide);
    // Spark persists the parent of a window (serialized, in memory); a batch is read by window/slide windows.
    if (!parent.storageLevel) parent.persist('memory');
    this.name = 'window';
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

  /** The next window, at t, reads the parent's batches in (t − window, t]. */
  protected override parentKeepAfter(keepAfter: number): number {
    return this.nextTimeAfter(keepAfter) - this.windowMs;
  }

  protected async compute(batchTime: number): Promise<Dataset<T>> {
    const datasets = await this.parent.slice(batchTime - this.windowMs + this.parent.slideMs, batchTime);
    return unionOf(datasets) ?? this.ssc.parallelize<T>([], 1);
  }
}
