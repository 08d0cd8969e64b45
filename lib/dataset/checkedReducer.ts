import type { AnyFn } from './FnScope';

/**
 * A reducer that can check a key's first value. `reduceByKey` takes a key's first value as the running value
 * without calling the reducer (as Spark does), so a first value the reducer would refuse, a string among numbers,
 * used to become the running value, and the good values after it were the ones dead-lettered. A reducer that
 * carries `firstValue` has it called as `reduceByKey`'s createCombiner: the bad value throws there and is the
 * dead letter instead. The built-in reducers carry one; a user's reducer may.
 */
export type CheckedReducer<F extends AnyFn = AnyFn> = F & {
  /** Returns the value as the running value, or throws when the reducer would refuse it. */
  readonly firstValue: (value: unknown) => unknown;
};

/** Attaches a first-value check to a reducer. */
export function withFirstValue<F extends AnyFn>(
  reducer: F,
  firstValue: (value: unknown) => unknown,
): CheckedReducer<F> {
  return Object.assign(reducer, { firstValue });
}

/** The reducer's first-value check, when it has one. */
export function firstValueOf(reducer: unknown): AnyFn | undefined {
  const check = typeof reducer === 'function' ? (reducer as Partial<CheckedReducer>).firstValue : undefined;
  return typeof check === 'function' ? check : undefined;
}
