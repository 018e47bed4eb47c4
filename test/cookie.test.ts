import { AmplitudeCookie as Official } from '@amplitude/experiment-node-server';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AmplitudeCookie } from '../src/cookie';

// The official parse logs through console.error on bad new-format cookies; so do we.
beforeEach(() => {
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('AmplitudeCookie: the official test vectors', () => {
  it('cookieName', () => {
    expect(AmplitudeCookie.cookieName('1234567')).toBe('amp_123456');
    expect(AmplitudeCookie.cookieName('1234567890', true)).toBe('AMP_1234567890');
    expect(() => AmplitudeCookie.cookieName('')).toThrow('Invalid Amplitude API Key');
    expect(() => AmplitudeCookie.cookieName('12345')).toThrow('Invalid Amplitude API Key');
    expect(() => AmplitudeCookie.cookieName('123456789', true)).toThrow('Invalid Amplitude API Key');
  });

  it('parse, old format', () => {
    expect(AmplitudeCookie.parse('deviceId...1f1gkeib1.1f1gkeib1.dv.1ir.20q')).toStrictEqual({
      device_id: 'deviceId',
      user_id: undefined,
    });
    expect(AmplitudeCookie.parse('deviceId.dGVzdEBhbXBsaXR1ZGUuY29t..1f1gkeib1.1f1gkeib1.dv.1ir.20q').user_id).toBe(
      'test@amplitude.com',
    );
    expect(AmplitudeCookie.parse('deviceId.Y8O3Pg==..1f1gkeib1.1f1gkeib1.dv.1ir.20q').user_id).toBe('c÷>');
  });

  it('parse and generate, new format', () => {
    const deviceOnly = 'JTdCJTIyZGV2aWNlSWQlMjIlM0ElMjJkZXZpY2VJZCUyMiU3RA==';
    expect(AmplitudeCookie.parse(deviceOnly, true)).toEqual({ device_id: 'deviceId' });
    expect(AmplitudeCookie.generate('deviceId', true)).toBe(deviceOnly);
    expect(
      AmplitudeCookie.parse(
        'JTdCJTIydXNlcklkJTIyJTNBJTIydGVzdCU0MGFtcGxpdHVkZS5jb20lMjIlMkMlMjJkZXZpY2VJZCUyMiUzQSUyMmRldmljZUlkJTIyJTdE',
        true,
      ),
    ).toEqual({ device_id: 'deviceId', user_id: 'test@amplitude.com' });
    expect(AmplitudeCookie.parse('invalidcookie', true)).toEqual({});
  });

  it('generate, old format', () => {
    expect(AmplitudeCookie.generate('deviceId')).toBe('deviceId..........');
  });
});

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const newCookie = (obj: unknown) => b64(encodeURIComponent(JSON.stringify(obj)));

/** Inputs on which the official implementation returns (does not throw). */
const oldFormatInputs = [
  '',
  '.',
  '..........',
  'deviceId',
  'deviceId.',
  'deviceId..',
  '.dXNlcg==',
  `dev.${b64('ユーザー')}..x`,
  `dévice-ü.${b64('😀 emoji user')}`,
  `deviceId.${b64('user')}.extra.parts.here`,
  'deviceId.!!!not-base64!!!',
  'deviceId.%%%',
  'deviceId.Y8O3Pg',
  'deviceId.Y8O3Pg=',
  'deviceId.____----',
  'a.\u0000\u0001',
  '\uD800.\uDC00',
  'x'.repeat(5000) + '.' + b64('y'.repeat(3000)),
];

const newFormatInputs = [
  '',
  'invalidcookie',
  '!!!',
  '====',
  newCookie({ deviceId: 'd' }),
  newCookie({ deviceId: 'd', userId: 'u' }),
  newCookie({ userId: 'only-user' }),
  newCookie({ deviceId: 'ユーザー-デバイス', userId: 'user 😀' }),
  newCookie({ deviceId: 'a+b/c=d', userId: 'e&f?g#h' }),
  newCookie({ deviceId: 123, userId: true }),
  newCookie({ deviceId: null }),
  newCookie({}),
  newCookie([]),
  newCookie('a string'),
  newCookie(42),
  newCookie(null),
  b64('%E0%A4%A'), // malformed percent-encoding
  b64('{"deviceId":"raw-json"}'), // not URI-encoded: still valid for decodeURIComponent
  b64(encodeURIComponent('{"deviceId":')), // truncated JSON
  newCookie({ deviceId: 'd' }).replace(/=+$/, ''), // unpadded
  newCookie({ deviceId: 'd' }).slice(0, 10), // truncated base64
  Buffer.from(encodeURIComponent(JSON.stringify({ deviceId: 'url-safe?' }))).toString('base64url'),
  '\u00ff\u0100',
];

describe('AmplitudeCookie: same results as @amplitude/experiment-node-server', () => {
  it.each(oldFormatInputs)('parse(%j)', (input) => {
    expect(AmplitudeCookie.parse(input)).toStrictEqual(Official.parse(input));
  });

  it.each(newFormatInputs)('parse(%j, true)', (input) => {
    expect(AmplitudeCookie.parse(input, true)).toStrictEqual(Official.parse(input, true));
  });

  // A lone surrogate is escaped by JSON.stringify, so it round-trips too.
  const deviceIds = ['deviceId', '', 'ユーザー', '😀', 'a b+c/d=e&f', '"quoted"\\', '\u0000', '\uD800', 'x'.repeat(2000)];
  it.each(deviceIds)('generate(%j) in both formats, and parse(generate()) round-trips', (id) => {
    expect(AmplitudeCookie.generate(id)).toBe(Official.generate(id));
    expect(AmplitudeCookie.generate(id, true)).toBe(Official.generate(id, true));
    expect(AmplitudeCookie.parse(AmplitudeCookie.generate(id, true), true)).toEqual({ device_id: id });
  });

  it('cookieName matches for keys of every length, both formats', () => {
    const key = 'abcdefghijklmnopqrstuvwxyz';
    for (let n = 0; n <= key.length; n++) {
      for (const newFormat of [false, true]) {
        const k = key.slice(0, n);
        let official: string | Error;
        try {
          official = Official.cookieName(k, newFormat);
        } catch (e) {
          official = e as Error;
        }
        if (official instanceof Error) {
          expect(() => AmplitudeCookie.cookieName(k, newFormat)).toThrow(official.message);
        } else {
          expect(AmplitudeCookie.cookieName(k, newFormat)).toBe(official);
        }
      }
    }
  });
});

describe('AmplitudeCookie: malformed input never throws', () => {
  const notStrings: unknown[] = [undefined, null, 42, {}, [], true, Symbol('x')];
  it.each(notStrings.map((v) => [String(typeof v === 'symbol' ? 'symbol' : JSON.stringify(v)), v]))(
    'parse(%s) gives {} in both formats',
    (_label, value) => {
      expect(AmplitudeCookie.parse(value as string)).toStrictEqual({});
      expect(AmplitudeCookie.parse(value as string, true)).toStrictEqual({});
    },
  );

  it('a bad new-format cookie is logged at error level, like the official SDK', () => {
    AmplitudeCookie.parse('invalidcookie', true);
    expect(console.error).toHaveBeenCalledWith(expect.stringContaining('Error parsing the Amplitude cookie'));
  });

  it('non-string api keys are rejected with the official message', () => {
    expect(() => AmplitudeCookie.cookieName(undefined as unknown as string)).toThrow('Invalid Amplitude API Key');
    expect(() => AmplitudeCookie.cookieName(12345678901 as unknown as string, true)).toThrow('Invalid Amplitude API Key');
  });
});
