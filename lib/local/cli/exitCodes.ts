/** Exit codes: 0 done, 1 a batch failed, 2 the job is invalid (or the command line is), 3 the store is in use. */
export const EXIT = { ok: 0, failed: 1, invalid: 2, storeInUse: 3 } as const;

/** How a command hands its exit code to `main`: commander's actions return nothing it keeps. */
export type ExitWith = (code: number) => void;
