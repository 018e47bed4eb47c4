/**
 * base64 <-> UTF-8 text as Node's Buffer does it, also where there is no
 * Buffer (edge runtimes load AmplitudeCookie through the edge entry). Under
 * Node, Buffer itself; elsewhere a port of its lenient decoder: both
 * alphabets (+/ and -_), characters outside them skipped, decoding stops at
 * the first '=', a trailing partial byte dropped, invalid UTF-8 replaced by
 * U+FFFD. No imports.
 */

type BufferLike = {
  from(text: string, encoding?: 'base64' | 'utf8'): { toString(encoding: 'base64' | 'utf8'): string };
};

function nodeBuffer(): BufferLike | undefined {
  return (globalThis as { Buffer?: BufferLike }).Buffer;
}

/** Buffer.from(text, 'base64').toString('utf8'). */
export function decodeBase64Utf8(text: string): string {
  const buffer = nodeBuffer();
  return buffer ? buffer.from(text, 'base64').toString('utf8') : portableBase64.decodeUtf8(text);
}

/** Buffer.from(text).toString('base64'). */
export function encodeUtf8Base64(text: string): string {
  const buffer = nodeBuffer();
  return buffer ? buffer.from(text, 'utf8').toString('base64') : portableBase64.encodeUtf8(text);
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** 6-bit value per byte value; -1 outside both alphabets. */
const VALUES = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) VALUES[ALPHABET.charCodeAt(i)] = i;
VALUES['-'.charCodeAt(0)] = 62;
VALUES['_'.charCodeAt(0)] = 63;
const EQUALS = 0x3d;

/** The implementations used without Buffer (exported for tests that compare them with Buffer). */
export const portableBase64 = {
  decodeUtf8(text: string): string {
    const bytes: number[] = [];
    let bits = 0;
    let count = 0;
    for (let i = 0; i < text.length; i++) {
      // Node reads each UTF-16 unit through its low byte (a quirk kept for identical results).
      const c = text.charCodeAt(i) & 0xff;
      if (c === EQUALS) break;
      const v = VALUES[c];
      if (v < 0) continue;
      bits = ((bits << 6) | v) & 0xffffff;
      count += 6;
      if (count >= 8) {
        count -= 8;
        bytes.push((bits >> count) & 0xff);
      }
    }
    return new TextDecoder('utf-8').decode(new Uint8Array(bytes));
  },

  encodeUtf8(text: string): string {
    const bytes = new TextEncoder().encode(text);
    let out = '';
    for (let i = 0; i < bytes.length; i += 3) {
      const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
      out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63];
      out += i + 1 < bytes.length ? ALPHABET[(n >> 6) & 63] : '=';
      out += i + 2 < bytes.length ? ALPHABET[n & 63] : '=';
    }
    return out;
  },
};
