/**
 * Whether a 200 from the flags endpoint can be a flag payload at all, before
 * the engine parses it. A wrong serverUrl (the app's own port, a proxy's
 * login page) answers 200 with a web page: saying so, with the URL, the
 * content-type and the first bytes, beats "not valid JSON at byte 0".
 */

/** A 200 whose body is not a flag payload (a JSON array of flags). */
export class NotAFlagPayloadError extends Error {
  override readonly name = 'NotAFlagPayloadError';
  /**
   * True when the answer is markup (a web page): the URL is almost surely
   * wrong, so start() rejects at once instead of retrying until its timeout.
   */
  readonly permanent: boolean;

  constructor(message: string, permanent: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.permanent = permanent;
  }

  /** The same error with a sentence added (start() says that polling goes on). */
  withNote(note: string): NotAFlagPayloadError {
    return new NotAFlagPayloadError(`${this.message}. ${note}`, this.permanent, { cause: this });
  }
}

/** The first characters of a payload as a JSON string literal (control characters escaped), '…' when cut, for messages. */
export function previewPayload(body: string | Uint8Array, maxChars = 60): string {
  // Enough code units (or bytes) for maxChars characters, whatever their width.
  const head =
    typeof body === 'string'
      ? body.slice(0, maxChars * 2)
      : Buffer.from(body.buffer, body.byteOffset, Math.min(body.length, maxChars * 4)).toString('utf8');
  const more = body.length > (typeof body === 'string' ? head.length : maxChars * 4);
  const chars = Array.from(head);
  return JSON.stringify(chars.slice(0, maxChars).join('')) + (more || chars.length > maxChars ? '…' : '');
}

/** The first character that is not whitespace or a byte-order mark, or '' for an empty body. */
function firstSignificantChar(body: Uint8Array): string {
  let i = 0;
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) i = 3;
  while (i < body.length && (body[i] === 0x20 || body[i] === 0x09 || body[i] === 0x0a || body[i] === 0x0d)) i++;
  return i < body.length ? String.fromCharCode(body[i]) : '';
}

/** The content-type header's value ('' when absent). */
export function contentTypeOf(headers: Record<string, string | string[] | undefined>): string {
  const value = headers['content-type'];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

/**
 * Throws NotAFlagPayloadError when a 200 from `url` cannot be a flag payload:
 * its body does not start with '['. Markup (an HTML or XML content-type, or a
 * body starting with '<') makes the error permanent.
 */
export function checkFlagResponse(url: string, contentType: string, body: Uint8Array): void {
  const first = firstSignificantChar(body);
  if (first === '[') return;
  const markup = /html|xml/i.test(contentType) || first === '<';
  const type = contentType === '' ? 'no content-type' : `content-type ${previewPayload(contentType, 80)}`;
  const seen = `${type}, ${body.length === 0 ? 'empty body' : `body ${previewPayload(body)}`}`;
  throw new NotAFlagPayloadError(
    markup
      ? `${url} answered 200 with a web page instead of flags (${seen}); check serverUrl`
      : `${url} answered 200 with something other than a flag payload, a JSON array of flags (${seen})`,
    markup,
  );
}
