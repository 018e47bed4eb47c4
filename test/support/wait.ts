/** Waiting on conditions, not on the clock: `eventually` returns as soon as the condition holds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves after the current turn of the event loop: every pending microtask has run, and so has Node's report of
 * the promise rejections they left unhandled. For asserting that something did not happen, without a clock.
 */
export const afterThisTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** 'pending' if `p` has not settled by the end of this turn, else how it settled. */
export async function stateAfterThisTurn(p: Promise<unknown>): Promise<'resolved' | 'rejected' | 'pending'> {
  let state: 'resolved' | 'rejected' | 'pending' = 'pending';
  p.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await afterThisTurn();
  return state;
}

/** Poll `check` until it returns true (or throw after timeoutMillis, a generous upper bound for a loaded machine). */
export async function eventually(check: () => boolean, timeoutMillis = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMillis;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
