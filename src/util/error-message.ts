/**
 * What a caught value says, for a log line or an error report: an Error's message (its name when the message is
 * empty), anything else as String() gives it. Never throws: user code can throw anything (a null-prototype object,
 * a revoked Proxy), and String() of such a value throws, which would turn our report of their error into an error
 * of ours.
 */
export function errorMessage(err: unknown): string {
  try {
    return err instanceof Error ? String(err.message || err.name) : String(err);
  } catch {
    try {
      return Object.prototype.toString.call(err);
    } catch {
      return 'a value that cannot be converted to a string';
    }
  }
}
