/** The error of a failed request (see http.ts); no imports, so edge bundles can load it. */
export type FetchErrorCode =
  /** The server answered with a status the caller treats as failure; see statusCode. */
  | 'HTTP_STATUS'
  /** No complete response within the request's timeout. */
  | 'TIMEOUT'
  /** Connection refused, reset, closed mid-body, DNS failure... see cause. */
  | 'NETWORK'
  /** A response arrived but its body was not what the protocol says (e.g. not JSON). */
  | 'INVALID_RESPONSE'
  /** The caller's AbortSignal fired. */
  | 'ABORTED'
  /** The client was closed while the request was in flight (or before it started). */
  | 'CLOSED';

export interface FetchErrorOptions {
  code?: FetchErrorCode;
  cause?: unknown;
  /** Number of HTTP attempts made before giving up (set by retrying callers). */
  attempts?: number;
}

/**
 * A failed request. Like the official SDK's FetchError it carries
 * `statusCode` (the HTTP status when the server answered; undefined when no
 * response was received), plus `code` and the underlying `cause`.
 */
export class FetchError extends Error {
  override readonly name = 'FetchError';
  readonly statusCode: number | undefined;
  readonly code: FetchErrorCode;
  override readonly cause: unknown;
  attempts: number;

  constructor(statusCode: number | undefined, message: string, options: FetchErrorOptions = {}) {
    super(message);
    this.statusCode = statusCode;
    this.code = options.code ?? (statusCode !== undefined ? 'HTTP_STATUS' : 'NETWORK');
    this.cause = options.cause;
    this.attempts = options.attempts ?? 1;
  }
}
