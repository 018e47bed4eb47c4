/**
 * User callbacks (hooks, event listeners, metrics) are called synchronously, and a throw is caught where they are
 * called. An `async` callback throws by returning a rejected promise instead, which nobody would await: it would
 * become an unhandled rejection and, by Node's default, end the process. This routes it to the same handler.
 */
export function catchRejection(result: unknown, onError: (err: unknown) => void): void {
  if (result !== null && (typeof result === 'object' || typeof result === 'function')) {
    const then = (result as { then?: unknown }).then;
    if (typeof then === 'function')
      (then as (ok: undefined, fail: (e: unknown) => void) => unknown).call(result, undefined, onError);
  }
}
