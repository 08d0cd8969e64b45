/**
 * A key's state as mapWithState's function sees it (Spark's State). Treat the state value as immutable:
 * replace it with `update` rather than changing it in place, because the previous batch's state map still
 * holds it (a retried task reads it again).
 *
 * @example
 * (word: string, one: number | undefined, state: State<number>) => {
 *   const count = (state.exists() ? state.get() : 0) + (one ?? 0);
 *   state.update(count);
 *   return [word, count];
 * }
 */
export interface State<S> {
  /** True when the key has a state. */
  exists(): boolean;
  /** The state; throws when there is none (check `exists()` first). */
  get(): S;
  /** Sets the state; not allowed while the key is timing out or after `remove`. */
  update(state: S): void;
  /** Removes the key's state; not allowed while the key is timing out (it is removed anyway) or twice. */
  remove(): void;
  /** True in the last call for a key whose state timed out: there is no value, and it cannot be updated. */
  isTimingOut(): boolean;
}

/** The engine's `State`, reused for every record of a partition; the dataset reads what the call did. */
export class KeyState<S> implements State<S> {
  private state: S | undefined;
  private defined = false;
  private timingOut = false;
  /** The function called `update`. */
  updated = false;
  /** The function called `remove`. */
  removed = false;

  /** Prepares the state for one call. */
  wrap(defined: boolean, state: S | undefined, timingOut = false): this {
    this.defined = defined;
    this.state = state;
    this.timingOut = timingOut;
    this.updated = false;
    this.removed = false;
    return this;
  }

  exists(): boolean {
    return this.defined;
  }

  get(): S {
    if (!this.defined) throw new Error('the state of this key is not set; check state.exists() first');
    return this.state as S;
  }

  update(state: S): void {
    if (this.timingOut) throw new Error('the state of a key that is timing out cannot be updated');
    if (this.removed) throw new Error('the state of this key was removed in this call; it cannot be updated');
    this.state = state;
    this.defined = true;
    this.updated = true;
  }

  remove(): void {
    // As Spark's StateImpl: a key that is timing out is removed after this call anyway, and a second removal
    // is a mistake in the function, so both fail loudly rather than hide a misread of the key's life.
    if (this.timingOut)
      throw new Error(
        'the state of a key that is timing out cannot be removed; it is removed after this call',
      );
    if (this.removed) throw new Error('the state of this key was already removed in this call');
    this.state = undefined;
    this.defined = false;
    this.updated = false;
    this.removed = true;
  }

  isTimingOut(): boolean {
    return this.timingOut;
  }
}
