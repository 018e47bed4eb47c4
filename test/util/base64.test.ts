/** The Buffer-free base64 used where there is no Buffer (edge runtimes) gives exactly Buffer's results. */
import { describe, expect, it } from 'vitest';
import { portableBase64 } from '../../src/util/base64';

/** A small seeded generator: the same strings on every run. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

// Both alphabets, padding, whitespace, characters outside them, and UTF-16 units whose low byte is a base64
// character or '=' (Node reads a unit through its low byte), a lone surrogate, an emoji.
const POOL = [
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_',
  '=',
  ' ',
  '\n',
  '.',
  '$',
  'é',
  '\u0141',
  '\u013d',
  '\u0100',
  '\ud800',
  '😀',
];

describe('portableBase64', () => {
  it('decodes as Buffer.from(s, "base64").toString("utf8") does, for valid and malformed input', () => {
    const next = random(42);
    const fixed = ['', 'YWJj', 'YW Jj', 'YQ==YQ==', 'YW=Jj', '-_-_', '+/+/', 'Y', '8J+YgA', '\u0141\u0141\u0141\u0141'];
    const generated = Array.from({ length: 20_000 }, () =>
      Array.from({ length: Math.floor(next() * 24) }, () => POOL[Math.floor(next() * POOL.length)]).join(''),
    );
    const differ = [...fixed, ...generated].filter(
      (s) => portableBase64.decodeUtf8(s) !== Buffer.from(s, 'base64').toString('utf8'),
    );
    expect(differ).toEqual([]);
  });

  it('encodes as Buffer.from(s).toString("base64") does, lone surrogates included', () => {
    const next = random(7);
    const texts = Array.from({ length: 5_000 }, () =>
      Array.from({ length: Math.floor(next() * 12) }, () => String.fromCharCode(Math.floor(next() * 0x10000))).join(''),
    );
    const differ = ['', 'a', 'ab', 'abc', '😀', ...texts].filter(
      (s) => portableBase64.encodeUtf8(s) !== Buffer.from(s).toString('base64'),
    );
    expect(differ).toEqual([]);
  });
});
