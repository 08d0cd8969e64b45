/**
 * Polls `check` every `everyMs` until it holds, or fails naming `what` after `limitMs`: the wait of the tests that
 * drive a job through the coordinator and watch its status or its bucket.
 */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  limitMs: number,
  everyMs = 300,
): Promise<void> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}
