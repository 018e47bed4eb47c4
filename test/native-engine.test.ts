// Unit tests of the native engine's building blocks against JavaScript itself
// (the reference engine runs on these JS semantics) and against the official
// engine, plus whole-payload validation and hostile inputs.
import { describe, expect, it } from 'vitest';
import { FlagPayloadError, loadEngine } from '../src/engine';
import { loadNativeAddon } from '../src/engine';
import { compileResultBuilder } from '../src/engine/native-engine';
import { nativeAddonLoaded, skipWithoutNativeAddon } from './support/engine';
import { officialEvaluate } from './support/official';

skipWithoutNativeAddon();
const internals = nativeAddonLoaded ? loadNativeAddon().internals : (undefined as never);

// An independent murmur3 x86_32 over the UTF-8 the reference engine produces
// (lone surrogates as 3-byte sequences), written from the algorithm's description.
function utf8LikeReference(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if ((c & 0xfc00) === 0xd800 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c & 0x3ff) << 10) + (s.charCodeAt(++i) & 0x3ff);
      out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    } else out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return out;
}

function murmur3(s: string, seed = 0): number {
  const data = utf8LikeReference(s);
  let h = seed >>> 0;
  const blocks = data.length >> 2;
  const mix = (k: number) => {
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    return Math.imul(k, 0x1b873593);
  };
  for (let i = 0; i < blocks; i++) {
    const k = data[4 * i] | (data[4 * i + 1] << 8) | (data[4 * i + 2] << 16) | (data[4 * i + 3] << 24);
    h ^= mix(k);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k1 = 0;
  const tail = blocks * 4;
  const rest = data.length & 3;
  if (rest >= 3) k1 ^= data[tail + 2] << 16;
  if (rest >= 2) k1 ^= data[tail + 1] << 8;
  if (rest >= 1) {
    k1 ^= data[tail];
    h ^= mix(k1);
  }
  h ^= data.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

// Deterministic PRNG for the property checks.
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomString(r: () => number, max = 12): string {
  const alphabet = [
    'a',
    'Z',
    '0',
    '9',
    '.',
    '-',
    '_',
    ' ',
    '\u00e9',
    '\u4e2d',
    '\ud83d\ude80',
    '\ud800',
    '\udc00',
    '\uffff',
    '\u0000',
    '"',
    '\\',
    '+',
    'e',
    'x',
  ];
  let s = '';
  const n = Math.floor(r() * max);
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)];
  return s;
}

describe('murmur3 x86_32', () => {
  it("matches the published vectors (seed 0, non-ASCII, and the engines' seed)", () => {
    expect(internals.murmur3('brian', 0x7f3a21ea)).toBe(3948467465);
    expect(internals.murmur3('a', 0x7f3a21ea)).toBe(479943832);
    expect(internals.murmur3('My hovercraft is full of eels.', 0)).toBe(2953494853);
    expect(internals.murmur3('My \ud83d\ude80 is full of \ud83e\udd8e.', 0)).toBe(1818098979);
    expect(internals.murmur3('\u5409 \u661f \u9ad8 \u7167', 0)).toBe(3435142074);
  });

  it('hashes lone surrogates like the reference engine, not like Buffer (U+FFFD)', () => {
    expect(internals.murmur3('a\ud800b')).toBe(2770460380);
    expect(internals.murmur3('a\ud800b')).not.toBe(3412674851);
  });

  it('agrees with an independent implementation on 5,000 random strings', () => {
    const r = rng(1);
    for (let i = 0; i < 5000; i++) {
      const s = randomString(r, 40);
      expect(internals.murmur3(s), JSON.stringify(s)).toBe(murmur3(s));
    }
  });
});

describe('JavaScript number and string semantics', () => {
  it('String(n) for special and random doubles', () => {
    const specials = [
      0,
      -0,
      1,
      -1,
      0.1,
      0.1 + 0.2,
      1e21,
      1e-7,
      1.5e-7,
      123456789,
      1e300,
      -1e-300,
      5e-324,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      2 ** 53,
      2 ** 53 + 2,
      NaN,
      Infinity,
      -Infinity,
      1 / 3,
      100,
      1e20,
      123e-20,
    ];
    for (const n of specials) expect(internals.numberToString(n), String(n)).toBe(String(n));
    const r = rng(2);
    const buf = new DataView(new ArrayBuffer(8));
    for (let i = 0; i < 20000; i++) {
      buf.setUint32(0, Math.floor(r() * 2 ** 32));
      buf.setUint32(4, Math.floor(r() * 2 ** 32));
      const n = i % 2 ? buf.getFloat64(0) : (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
      expect(internals.numberToString(n)).toBe(String(n));
    }
  });

  it('Number(s) for the forms the numeric operators see', () => {
    const cases = [
      '',
      ' ',
      '12',
      ' 12 ',
      '\u00a012\u2003',
      '\ufeff7',
      '1e3',
      '1E+3',
      '-1e-3',
      '.5',
      '5.',
      '+5',
      '-0',
      '0x10',
      '0X1f',
      '0b101',
      '0o17',
      '0x',
      '0b2',
      '-0x10',
      '1d',
      '1_000',
      'Infinity',
      '-Infinity',
      '+Infinity',
      'infinity',
      'NaN',
      '1e400',
      '-1e400',
      '5e-324',
      '2e-324',
      '1e-400',
      '00012',
      '0.000001',
      '1.7976931348623157e308',
      '9007199254740993',
      '0x20000000000001',
      '0b' + '1'.repeat(60),
      '0o' + '7'.repeat(30),
      'abc',
      '1 2',
      '\u00e9',
    ];
    for (const s of cases) expect(Object.is(internals.stringToNumber(s), Number(s)), JSON.stringify(s)).toBe(true);
    const r = rng(3);
    const parts = ['1', '0', '9', '.', 'e', 'E', '+', '-', ' ', 'x', 'b', 'o', 'a', 'f', '_'];
    for (let i = 0; i < 20000; i++) {
      let s = '';
      const n = Math.floor(r() * 8);
      for (let k = 0; k < n; k++) s += parts[Math.floor(r() * parts.length)];
      expect(Object.is(internals.stringToNumber(s), Number(s)), JSON.stringify(s)).toBe(true);
    }
  });

  it('native lower-casing (ASCII and Latin-1) is toLowerCase, and leaves everything else to V8', () => {
    for (let c = 0; c < 0x100; c++) {
      const s = `x${String.fromCharCode(c)}Y`;
      expect(internals.latin1Lower(s), `U+${c.toString(16)}`).toBe(s.toLowerCase());
    }
    const r = rng(9);
    for (let i = 0; i < 5000; i++) {
      let s = '';
      for (let k = Math.floor(r() * 10); k > 0; k--) s += String.fromCharCode(Math.floor(r() * 0x100));
      expect(internals.latin1Lower(s), JSON.stringify(s)).toBe(s.toLowerCase());
    }
    for (const s of ['İ', 'Σ', 'ſ', 'Ÿ', 'Ā', '😀', '\ud800', 'aĀ']) expect(internals.latin1Lower(s), s).toBeNull();
  });

  it('string order is UTF-16 code unit order (astral vs U+E000-U+FFFF, lone surrogates)', () => {
    const r = rng(4);
    for (let i = 0; i < 20000; i++) {
      const a = randomString(r);
      const b = i % 3 === 0 ? a + randomString(r, 3) : randomString(r);
      const expected = a < b ? -1 : a > b ? 1 : 0;
      expect(internals.compareStrings(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(expected);
    }
  });
});

describe('semantic versions (accept/reject as experiment-core 0.13.1, in linear time)', () => {
  // The reference pattern; safe to run here on short strings only.
  const reference = /^(\d+)\.(\d+)(\.(\d+)(-(([-\w]+\.?)*))?)?$/;
  it('accepts and rejects exactly what the reference pattern does', () => {
    const fixed = [
      '1.2',
      '1.2.3',
      '01.02.03',
      '1.2.3-',
      '1.2.3-a',
      '1.2.3-a.b',
      '1.2.3-a..b',
      '1.2.3-.a',
      '1.2.3-a.',
      '1.2.3+b',
      '1.2-a',
      '1',
      '1.',
      '.1.2',
      '1.2.3.4',
      'v1.2.3',
      '1.2.3-\u00e9',
      '1.2.3-_',
      ' 1.2.3',
      '1.2.3 ',
      '',
    ];
    for (const v of fixed) expect(internals.parseVersionOk(v), JSON.stringify(v)).toBe(v !== '' && reference.test(v));
    const r = rng(5);
    const alphabet = ['1', '0', '.', '-', 'a', '_', '+', 'Z', '.', '9'];
    for (let i = 0; i < 20000; i++) {
      let s = String(Math.floor(r() * 20)) + '.';
      const n = Math.floor(r() * 10);
      for (let k = 0; k < n; k++) s += alphabet[Math.floor(r() * alphabet.length)];
      expect(internals.parseVersionOk(s), JSON.stringify(s)).toBe(reference.test(s));
    }
  });

  it('compares like the reference (numeric parts, prerelease below release, prerelease as strings)', () => {
    expect(internals.compareVersions('1.10.0', '1.9.0')).toBe(1);
    expect(internals.compareVersions('1.2.3-beta', '1.2.3')).toBe(-1);
    expect(internals.compareVersions('1.2.3-a1.23', '1.2.3-a1.5')).toBe(-1);
    expect(internals.compareVersions('06.007.0008', '6.7.8')).toBe(0);
    expect(internals.compareVersions('1.2', '1.2.0')).toBe(0);
    expect(internals.compareVersions('1.2.3+b', '1.2.3')).toBeNull();
  });

  it('rejects a 10,000-character hostile version string in bounded time', () => {
    const hostile = '1.2.3-' + 'a-'.repeat(5000) + ']';
    const start = process.hrtime.bigint();
    expect(internals.parseVersionOk(hostile)).toBe(false);
    // Sanity bound only (the reference takes ~40 s at 39 characters).
    expect(Number(process.hrtime.bigint() - start) / 1e6).toBeLessThan(1000);
  });
});

const onFlag = (key: string, extra: Record<string, unknown> = {}) => ({
  key,
  variants: { on: { key: 'on', value: 'on' }, off: { key: 'off', metadata: { default: true } } },
  segments: [{ variant: 'on' }],
  ...extra,
});

describe('payload validation', () => {
  const engine = loadEngine();
  it.each([
    ['not JSON', '{"key":', /not valid JSON: .*at byte/],
    ['truncated array', '[{"key":"a"', /not valid JSON/],
    ['an object', '{"a":{}}', /must be a JSON array of flags, got an object/],
    ['a number', '42', /must be a JSON array of flags, got a number/],
    ['trailing garbage', '[] x', /unexpected data after the JSON value/],
    ['empty', '', /not valid JSON/],
    ['too deep', '['.repeat(5000) + ']'.repeat(5000), /nested too deeply/],
  ])('rejects %s with a FlagPayloadError naming what and where', (_label, payload, message) => {
    let error: unknown;
    try {
      engine.load(payload);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FlagPayloadError);
    expect((error as Error).message).toMatch(message);
  });

  it('leaves out only the flags that fail validation, each with its reason', () => {
    const flags = [
      onFlag('good'),
      { key: 'no-segments', variants: {} },
      { key: 'no-variants', segments: [] },
      onFlag('bad-value', {
        segments: [{ conditions: [[{ selector: ['context', 'user', 'user_id'], op: 'is', values: [1] }]], variant: 'on' }],
      }),
      onFlag('bad-regex', {
        segments: [
          { conditions: [[{ selector: ['context', 'user', 'user_id'], op: 'regex match', values: ['('] }]], variant: 'on' },
        ],
      }),
      onFlag('cycle-a', { dependencies: ['cycle-b'] }),
      onFlag('cycle-b', { dependencies: ['cycle-a'] }),
      onFlag('self', { dependencies: ['self'] }),
      onFlag('needs-cycle', { dependencies: ['cycle-a'] }),
      'not a flag',
      { variants: {}, segments: [] },
    ];
    const snap = engine.load(JSON.stringify(flags));
    const reasons = Object.fromEntries(snap.rejected.map((r) => [r.flagKey, r.reason]));
    expect(reasons).toEqual({
      'no-segments': 'flag has no "segments"',
      'no-variants': 'flag has no "variants"',
      'bad-value': expect.stringMatching(/condition values must be strings, got 1/),
      'bad-regex': expect.stringMatching(/invalid regex "\(": .*Unterminated group/),
      'cycle-a': 'dependency cycle between flags cycle-a, cycle-b',
      'cycle-b': 'dependency cycle between flags cycle-a, cycle-b',
      self: 'dependency cycle between flags self',
      '#9': 'flag must be an object, got a string',
      '#10': 'flag has no string "key"',
    });
    // The rest evaluate exactly as the reference does without the bad flags.
    const user = { user_id: 'u' };
    const kept = flags.filter((f) => typeof f === 'object' && ['good', 'needs-cycle'].includes((f as { key: string }).key));
    expect(snap.evaluate(user)).toStrictEqual(officialEvaluate(kept as Array<Record<string, unknown>>, user));
  });

  it("takes the last definition of a repeated flag key at the first key's position", () => {
    const flags = [onFlag('a'), onFlag('b'), { ...onFlag('a'), segments: [{ variant: 'off' }] }];
    const snap = engine.load(JSON.stringify(flags));
    const result = snap.evaluate({});
    expect(Object.keys(result)).toEqual(['a', 'b']);
    expect(result.a.key).toBe('off');
    expect(result).toStrictEqual(officialEvaluate(flags as Array<Record<string, unknown>>, {}));
  });

  it('accepts a Uint8Array payload, replacing invalid UTF-8 like a network decoder', () => {
    const text = JSON.stringify([onFlag('caf\u00e9')]);
    const bytes = Buffer.concat([Buffer.from(text.slice(0, -3)), Buffer.from([0xff]), Buffer.from(text.slice(-3))]);
    expect(() => engine.load(bytes)).toThrow(FlagPayloadError); // 0xff outside a string is a syntax error
    const snap = engine.load(new Uint8Array(Buffer.from(text)));
    expect(snap.keys()).toEqual(['caf\u00e9']);
  });

  it('reads string bytes like a network decoder and JSON.parse wherever in a string they fall', () => {
    // The string scan reads several bytes at a time: each byte that ends a
    // plain run is put at every offset, with plain bytes around it.
    const specials: Array<[string, number[]]> = [
      ['quote escape', [0x5c, 0x22]],
      ['backslash escape', [0x5c, 0x5c]],
      ['\\u escape', [...Buffer.from('\\u00e9')]],
      ['raw control byte', [0x01]],
      ['raw tab', [0x09]],
      ['DEL (allowed)', [0x7f]],
      ['space and tilde', [0x20, 0x7e]],
      ['two-byte UTF-8', [0xc3, 0xa9]],
      ['four-byte UTF-8', [...Buffer.from('\u{1f600}')]],
      ['invalid UTF-8', [0xff, 0xc3]],
      ['a byte of 0x1f then 0x20', [0x1f, 0x20]],
    ];
    const decoder = new TextDecoder();
    for (const [label, special] of specials) {
      for (let before = 0; before < 17; before++) {
        const [head, tail] = JSON.stringify([onFlag('k', { variants: { on: { key: 'on', payload: 'MARK' } } })]).split('MARK');
        const bytes = Buffer.concat([
          Buffer.from(head + 'a'.repeat(before)),
          Buffer.from(special),
          Buffer.from('b'.repeat(16 - before) + tail),
        ]);
        let expected: unknown;
        try {
          expected = (JSON.parse(decoder.decode(bytes)) as Array<{ variants: { on: { payload: unknown } } }>)[0].variants.on
            .payload;
        } catch {
          expect(() => engine.load(bytes), `${label} after ${before}`).toThrow(FlagPayloadError);
          continue;
        }
        expect((engine.load(bytes).evaluate({}).k as { payload?: unknown }).payload, `${label} after ${before}`).toBe(expected);
      }
    }
  });
});

describe('dependencies and flag keys', () => {
  const flags = [
    onFlag('c', { dependencies: ['b'] }),
    onFlag('b', { dependencies: ['a', 'missing'] }),
    onFlag('a'),
    onFlag('10'),
    onFlag('2', { dependencies: ['c'] }),
  ];
  const snap = loadEngine().load(JSON.stringify(flags));

  it('orders all flags like the reference topologicalSort (integer-like keys first)', () => {
    expect(snap.keys()).toEqual(['a', 'b', 'c', '2', '10']);
    expect(Object.keys(snap.evaluate({}))).toEqual(Object.keys(officialEvaluate(flags, {})));
  });

  it('returns requested flags plus their dependencies, in the reference order', () => {
    for (const keys of [['c'], ['2'], ['b', 'a'], ['10', 'c', 'c'], ['missing'], ['a', 'nope', 'b']]) {
      expect(Object.keys(snap.evaluate({}, keys)), keys.join(',')).toEqual(Object.keys(officialEvaluate(flags, {}, keys)));
    }
  });

  it("treats an empty key list as all flags (the Python SDK's documented behaviour)", () => {
    expect(snap.evaluate({}, [])).toStrictEqual(snap.evaluate({}));
    expect(Object.keys(snap.evaluate({}, []))).toEqual(Object.keys(officialEvaluate(flags, {})));
  });
});

describe('result builders', () => {
  const a = Object.freeze({ key: 'on' });
  const b = Object.freeze({ key: 'off' });
  const results = [a, b, undefined];

  it('checked: the literal only for exactly its flags, in order, each with a materialized result', () => {
    const build = compileResultBuilder(['x', 'y'], { checked: true, flags: [3, 5] })!;
    const built = build(results, Int32Array.from([3, 0, 5, 1]), 2);
    expect(built).toEqual({ x: a, y: b });
    expect(Object.keys(built!)).toEqual(['x', 'y']);
    expect(built!.x).toBe(a);
    expect(build(results, Int32Array.from([3, 0, 5, 1]), 1)).toBeUndefined(); // another count
    expect(build(results, Int32Array.from([5, 1, 3, 0]), 2)).toBeUndefined(); // another order
    expect(build(results, Int32Array.from([3, 0, 4, 1]), 2)).toBeUndefined(); // another flag
    expect(build(results, Int32Array.from([3, -1, 5, 1]), 2)).toBeUndefined(); // no result
    expect(build(results, Int32Array.from([3, 0, 5, 2]), 2)).toBeUndefined(); // not materialized
  });

  it('unchecked: the literal as the output says; none where a key would set the prototype', () => {
    const build = compileResultBuilder(['x', 'y'], { checked: false })!;
    expect(build(results, Int32Array.from([9, 1, 8, 0]), 2)).toEqual({ x: b, y: a });
    expect(compileResultBuilder(['x', '__proto__'], { checked: false })).toBeUndefined();
    expect(compileResultBuilder([], { checked: true, flags: [] })).toBeUndefined();
  });
});

describe('results built as one object', () => {
  // The all-flags and one-key results are built in one literal only when every flag has a materialized result; a
  // flag without one (no catch-all segment, nothing matched) or a result not yet built takes the other way, in
  // any order.
  const onlyFor = (key: string, country: string) =>
    onFlag(key, {
      segments: [{ conditions: [[{ selector: ['context', 'user', 'country'], op: 'is', values: [country] }]], variant: 'on' }],
    });
  const flags = [onFlag('a'), onlyFor('b', 'DE'), onFlag('c', { segments: [{ variant: 'off' }] }), onlyFor('d', 'FR')];

  it('leaves out flags without a result, before and after the others are materialized', () => {
    const snap = loadEngine().load(JSON.stringify(flags));
    const users = [{ country: 'US' }, { country: 'DE' }, { country: 'US' }, { country: 'FR' }, { country: 'DE' }, {}];
    for (const user of [...users, ...users]) {
      const expected = officialEvaluate(flags, user);
      const actual = snap.evaluate(user);
      expect(Object.keys(actual), JSON.stringify(user)).toEqual(Object.keys(expected));
      expect(actual, JSON.stringify(user)).toStrictEqual(expected);
    }
  });

  it('gives the same result objects once every flag has a result', () => {
    const complete = flags.map((f) => ({ ...f, segments: [...f.segments, { variant: 'off' }] }));
    const snap = loadEngine().load(JSON.stringify(complete));
    const first = snap.evaluate({ country: 'DE' });
    expect(Object.keys(first)).toEqual(['a', 'b', 'c', 'd']);
    const again = snap.evaluate({ country: 'DE' });
    expect(again).not.toBe(first);
    for (const key of Object.keys(first)) expect(again[key]).toBe(first[key]);
    for (const user of [{ country: 'FR' }, { country: 'DE' }, {}]) {
      expect(snap.evaluate(user), JSON.stringify(user)).toStrictEqual(officialEvaluate(complete, user));
    }
  });

  it('one key with its dependencies: the same, whichever user comes first', () => {
    const chain = [
      onlyFor('a', 'DE'),
      onFlag('b', { dependencies: ['a'] }),
      onlyFor('c', 'FR'),
      onFlag('d', { dependencies: ['b', 'c'] }),
      onFlag('10'),
      onFlag('2', { dependencies: ['10', 'd'] }),
    ];
    const users = [{ country: 'US' }, { country: 'DE' }, { country: 'FR' }, { country: 'DE' }, {}, { country: 'US' }];
    for (const order of [users, [...users].reverse()]) {
      const snap = loadEngine().load(JSON.stringify(chain));
      for (const user of [...order, ...order]) {
        for (const key of ['a', 'b', 'd', '2']) {
          const expected = officialEvaluate(chain, user, [key]);
          const actual = snap.evaluate(user, [key]);
          expect(Object.keys(actual), `${key} ${JSON.stringify(user)}`).toEqual(Object.keys(expected));
          expect(actual, `${key} ${JSON.stringify(user)}`).toStrictEqual(expected);
        }
      }
    }
  });

  it('one key depending on a flag keyed __proto__: that flag is left out, the result keeps its prototype', () => {
    // (The official helper cannot hold a flag keyed __proto__ in its record: compared with the same flag renamed.)
    const withProto = [onFlag('__proto__'), onlyFor('a', 'DE'), onFlag('e', { dependencies: ['__proto__', 'a'] })];
    const renamed = [onFlag('p'), onlyFor('a', 'DE'), onFlag('e', { dependencies: ['p', 'a'] })];
    const snap = loadEngine().load(JSON.stringify(withProto));
    for (const user of [{ country: 'DE' }, { country: 'US' }, { country: 'DE' }, { country: 'DE' }]) {
      const expected = officialEvaluate(renamed, user, ['e']);
      delete expected.p;
      const actual = snap.evaluate(user, ['e']);
      expect(Object.getPrototypeOf(actual)).toBe(Object.prototype);
      expect(Object.keys(actual)).toEqual(Object.keys(expected));
      expect(actual).toStrictEqual(expected);
    }
  });
});

describe('conditions on other flags’ results', () => {
  it('answer like the official engine whichever result came first (each answer is kept per result)', () => {
    // `dep` gives a user-dependent result (one of three variants, from its first or second segment, or none);
    // `main` reads it in several ways, and `later` (evaluated after `main`: never a result `main` can see).
    const dep = {
      key: 'dep',
      variants: { a: { key: 'a', value: 'A' }, b: { key: 'b', payload: { n: 1 } }, c: { key: 'c', value: 'C' } },
      segments: [
        { conditions: [[{ selector: ['context', 'user', 'country'], op: 'is', values: ['none'] }]], variant: 'ghost' },
        {
          conditions: [[{ selector: ['context', 'user', 'country'], op: 'is', values: ['US'] }]],
          metadata: { segmentName: 'us' },
          variant: 'c',
        },
        {
          bucket: {
            selector: ['context', 'user', 'user_id'],
            salt: 'dep',
            allocations: [
              {
                range: [0, 100],
                distributions: [
                  { variant: 'a', range: [0, 14316558] },
                  { variant: 'b', range: [14316558, 28633115] },
                  { variant: 'c', range: [28633115, 42949673] },
                ],
              },
            ],
          },
          variant: 'a',
        },
      ],
    };
    const reads: Array<[unknown[], string, string[]]> = [
      [['result', 'dep', 'key'], 'is', ['a']],
      [['result', 'dep', 'key'], 'is not', ['b', 'c']],
      [['result', 'dep', 'value'], 'is', ['C']],
      [['result', 'dep', 'payload', 'n'], 'greater', ['0']],
      [['result', 'dep', 'metadata', 'segmentName'], 'is', ['us']],
      [['result', 'dep'], 'contains', ['"key":"b"']],
      [['result', 'dep', 'key'], 'regex match', ['^[ab]$']],
      [['result', 'later', 'key'], 'is not', ['on']],
      [['result', 'dep', 'key'], 'set contains any', ['a', 'c']],
    ];
    const main = {
      key: 'main',
      dependencies: ['dep'],
      variants: Object.fromEntries(reads.map((_, i) => [`v${i}`, { key: `v${i}` }])),
      segments: [...reads.map(([selector, op, values], i) => ({ conditions: [[{ selector, op, values }]], variant: `v${i}` }))],
    };
    const later = { key: 'later', variants: { on: { key: 'on' } }, segments: [{ variant: 'on' }] };
    // Each of main's conditions alone (one segment per condition, no fall-through) in its own flag too.
    const single = reads.map(([selector, op, values], i) => ({
      key: `single-${i}`,
      dependencies: ['dep'],
      variants: { yes: { key: 'yes' } },
      segments: [{ conditions: [[{ selector, op, values }]], variant: 'yes' }],
    }));
    const flags = [dep, main, ...single, later];
    const snap = loadEngine().load(JSON.stringify(flags));
    const users = Array.from({ length: 60 }, (_, i) => ({
      user_id: `user-${i}`,
      ...(i % 7 === 0 ? { country: 'US' } : i % 11 === 0 ? { country: 'none' } : {}),
    }));
    for (const round of [0, 1]) {
      for (const user of round === 0 ? users : [...users].reverse()) {
        const expected = officialEvaluate(flags, user);
        expect(snap.evaluate(user), user.user_id).toStrictEqual(expected);
        const one = officialEvaluate(flags, user, [`single-${users.indexOf(user) % reads.length}`]);
        expect(snap.evaluate(user, Object.keys(one).slice(-1))).toStrictEqual(one);
      }
    }
  });
});

describe('boolean words in is / is not', () => {
  it('answers like the official engine in the all-flags pre-pass and one flag at a time', () => {
    // A boolean word compares ignoring ASCII case with the condition's boolean words, anything else exactly. The
    // all-flags pre-pass looks boolean words up lowercased; a slot read both by such conditions and by plain ones
    // must still give each its own answer.
    const valueSets = [['true'], ['TRUE', 'x'], ['False', 'true'], ['yes'], ['x', 'True'], ['false'], ['tru', 'truex']];
    const flags = valueSets.flatMap((values, i) =>
      (['is', 'is not'] as const).map((op) => ({
        key: `${op === 'is' ? 'is' : 'not'}-${i}`,
        variants: { on: { key: 'on' }, off: { key: 'off' } },
        segments: [
          { conditions: [[{ selector: ['context', 'user', 'user_properties', 'flag'], op, values }]], variant: 'on' },
          { variant: 'off' },
        ],
      })),
    );
    const snap = loadEngine().load(JSON.stringify(flags));
    const userValues: unknown[] = ['true', 'TRUE', 'tRuE', 'false', 'FALSE', 'False', true, false, 'yes', 'x', 'X'];
    userValues.push('truex', 'tru', 1, 0, null, undefined, ['true'], ['TRUE', 'x'], 'trué');
    for (const flag of userValues) {
      // (values of every JSON type, lists and null among them: wider than ExperimentUser's property type)
      const user = { user_id: 'u', user_properties: flag === undefined ? {} : { flag } } as never;
      const expected = officialEvaluate(flags, user);
      expect(snap.evaluate(user), JSON.stringify(flag)).toStrictEqual(expected);
      for (const { key } of flags) expect(snap.evaluate(user, [key])).toStrictEqual({ [key]: expected[key] });
    }
  });
});

describe('is / is not against many similar strings', () => {
  it('tells apart strings that differ in one byte, at every length up to 24', () => {
    // The all-flags pre-pass compares a value with a condition's strings by their first and last 8 bytes (the
    // whole string up to 16 bytes) and the rest byte by byte: each string here has twins that differ in one
    // position (first, middle, last), in non-ASCII bytes, or only in length. One property per length keeps
    // each slot's dictionary small enough for the pre-pass to take all its conditions.
    const groups: string[][] = [];
    for (let n = 1; n <= 24; n++) {
      const base = 'abcdefghijklmnopqrstuvwxyz'.slice(0, n);
      const twins = [...new Set([0, n >> 1, n - 1])].map((at) => `${base.slice(0, at)}Z${base.slice(at + 1)}`);
      groups.push([base, ...twins, `${base.slice(0, n - 1)}é`]);
    }
    const flags = groups.flatMap((values, n) =>
      values.map((value, i) => ({
        key: `f${n}-${i}`,
        variants: { on: { key: 'on' }, off: { key: 'off' } },
        segments: [
          {
            conditions: [
              [{ selector: ['context', 'user', 'user_properties', `p${n}`], op: i % 2 ? 'is not' : 'is', values: [value] }],
            ],
            variant: 'on',
          },
          { variant: 'off' },
        ],
      })),
    );
    const snap = loadEngine().load(JSON.stringify(flags));
    for (const value of [...groups.flat(), 'abcdefghijklmnopqrstuvwxyz', 'é', '']) {
      const user = { user_id: 'u', user_properties: Object.fromEntries(groups.map((_, n) => [`p${n}`, value])) };
      const expected = officialEvaluate(flags, user);
      expect(snap.evaluate(user), value).toStrictEqual(expected);
    }
  });
});

describe('bucketing', () => {
  it('distributes 10,000 device ids exactly like the official engine', () => {
    const flag = {
      key: 'exp',
      variants: { a: { key: 'a' }, b: { key: 'b' }, c: { key: 'c' }, off: { key: 'off' } },
      segments: [
        {
          bucket: {
            selector: ['context', 'user', 'device_id'],
            salt: 'salty',
            allocations: [
              { range: [0, 30], distributions: [{ variant: 'a', range: [0, 42949673] }] },
              {
                range: [30, 99],
                distributions: [
                  { variant: 'b', range: [0, 21474837] },
                  { variant: 'c', range: [21474836, 42949673] },
                ],
              },
            ],
          },
          variant: 'off',
        },
      ],
    };
    const snap = loadEngine().load(JSON.stringify([flag]));
    const counts: Record<string, number> = {};
    for (let i = 1; i <= 10000; i++) {
      const user = { device_id: String(i) };
      const ours = snap.evaluate(user).exp.key!;
      expect(ours).toBe((officialEvaluate([flag], user).exp as { key: string }).key);
      counts[ours] = (counts[ours] ?? 0) + 1;
    }
    // Every branch is exercised, including [0,99] leaving allocation value 99 to the default.
    expect(Object.keys(counts).sort()).toEqual(['a', 'b', 'c', 'off']);
  });

  it('picks like the official engine on ranges that are not plain whole numbers', () => {
    // The evaluator compares whole-number bucket values with each range as the whole numbers it holds: fractional,
    // negative, reversed, empty, one-element and huge bounds must all give the reference's answer.
    const ranges: unknown[][] = [
      [0.5, 50.5],
      [-3, 10.01],
      [49.999, 100],
      [30, 10],
      [20, 20],
      [99.5, 1e12],
      [-1e300, 7],
      [3],
      [0, 2 ** 32],
      [2 ** 31, 2 ** 33],
    ];
    const splits: unknown[][] = [
      [0.5, 21474836.5],
      [-1, 10000000.25],
      [21474836.000001, 4e9],
      [42949672, 42949673],
      [5e6],
      [1e7, 1e7],
      [-5e9, 2 ** 40],
    ];
    const flags = ranges.map((range, i) => ({
      key: `r${i}`,
      variants: { a: { key: 'a' }, b: { key: 'b' }, c: { key: 'c' }, off: { key: 'off' } },
      segments: [
        {
          bucket: {
            selector: ['context', 'user', 'device_id'],
            salt: `s${i}`,
            allocations: [
              {
                range,
                distributions: [
                  { variant: 'a', range: splits[i % splits.length] },
                  { variant: 'b', range: splits[(i + 3) % splits.length] },
                  { variant: 'c', range: [0, 42949673] },
                ],
              },
              { range: [0, 100], distributions: [{ variant: 'b', range: splits[(i + 5) % splits.length] }] },
            ],
          },
          variant: 'off',
        },
      ],
    }));
    const snap = loadEngine().load(JSON.stringify(flags));
    const seen = new Set<string>();
    for (let i = 1; i <= 3000; i++) {
      const user = { device_id: `d${i}` };
      const expected = officialEvaluate(flags, user);
      expect(snap.evaluate(user), user.device_id).toStrictEqual(expected);
      // (one flag at a time takes the other bucketing path: hashed when reached instead of in the pre-pass)
      if (i % 10 === 0)
        expect(snap.evaluate(user, [`r${i % ranges.length}`])).toStrictEqual({
          [`r${i % ranges.length}`]: expected[`r${i % ranges.length}`],
        });
      for (const [key, v] of Object.entries(expected)) seen.add(`${key}:${(v as { key: string }).key}`);
    }
    // Every variant is reached on some flag (the ranges are not all empty or all full).
    expect(new Set([...seen].map((s) => s.split(':')[1]))).toEqual(new Set(['a', 'b', 'c', 'off']));
  });

  it('hashes many segments on one value like the official engine (salts of every length, values short to long)', () => {
    // An all-flags call hashes the segments bucketing on the same value four at a time, grouped by the
    // salt's length modulo 4: salts of 0 to 22 characters give groups of every size, values of every
    // length up to past the batch's buffer, and strings, numbers and missing values.
    const split = (key: string, selector: string, salt: string) => ({
      key,
      variants: { a: { key: 'a' }, b: { key: 'b' }, off: { key: 'off' } },
      segments: [
        {
          bucket: {
            selector: ['context', 'user', selector],
            salt,
            allocations: [
              {
                range: [0, 100],
                distributions: [
                  { variant: 'a', range: [0, 21474837] },
                  { variant: 'b', range: [21474837, 42949673] },
                ],
              },
            ],
          },
          variant: 'off',
        },
      ],
    });
    const flags = [];
    for (let n = 0; n <= 22; n++)
      flags.push(split(`d${n}`, 'device_id', 's'.repeat(n)), split(`u${n}`, 'user_id', 'x'.repeat(n)));
    const snap = loadEngine().load(JSON.stringify(flags));
    for (let length = 0; length <= 140; length++) {
      const user: Record<string, unknown> = {
        device_id: 'é'.repeat(length % 7) + 'd'.repeat(length),
        user_id: length % 5 ? `${length}` : length,
      };
      if (length % 11 === 0) delete user.device_id;
      expect(snap.evaluate(user), `length ${length}`).toStrictEqual(officialEvaluate(flags, user));
    }
  });
});

describe('user JSON crossing', () => {
  it('crosses whole when its last character does not fit the reused buffer (no truncated UTF-8)', () => {
    // Several flag keys send the whole user as JSON, copied into a buffer kept across calls that grows to fit the
    // largest user so far (length + 1). A first user larger than any other in this file sets that size; then a
    // user 3 bytes longer, ending in a 4-byte character, which the copy leaves out whole (it writes no partial
    // character): that must be noticed and the user copied again, not parsed cut short.
    const flag = (key: string, value: string) => ({
      key,
      variants: { on: { key: 'on' }, off: { key: 'off' } },
      segments: [
        { conditions: [[{ selector: ['context', 'user', 'user_id'], op: 'is', values: [value] }]], variant: 'on' },
        { variant: 'off' },
      ],
    });
    const n = 12_000_000;
    const first = { user_id: 'x'.repeat(n - 14) };
    const second = { user_id: 'x'.repeat(n - 15) + '\u{1f600}' };
    expect(Buffer.byteLength(JSON.stringify(first))).toBe(n);
    expect(Buffer.byteLength(JSON.stringify(second))).toBe(n + 3);
    const snap = loadEngine().load(JSON.stringify([flag('a', second.user_id), flag('b', 'b')]));
    expect(snap.evaluate(first, ['a', 'b']).a.key).toBe('off');
    expect(snap.evaluate(second, ['a', 'b']).a.key).toBe('on');
  });
});

describe('all-flags pre-pass', () => {
  it('answers what it answers up front like the official engine and like the one-flag path, for every kind of value', () => {
    // An all-flags call answers numeric, is / is not, set and version conditions on context slots before the
    // flags run; a one-flag call answers them when reached. Each flag has one condition (then a second one that
    // holds, so an AND-group mixes answered and later conditions), against values of every kind.
    const ops: Array<[string, string[]]> = [
      ['is', ['DE', '12', 'true', '']],
      ['is not', ['DE', 'x']],
      ['is', ['True']],
      ['less', ['12']],
      ['less or equal', ['12', 'abc']],
      ['greater', ['-1']],
      ['greater or equal', ['1e3']],
      ['set contains', ['a', 'b']],
      ['set contains', ['a', 'a']],
      ['set does not contain', ['b']],
      ['set contains any', ['b', '12']],
      ['set does not contain any', ['DE']],
      ['set contains any', ['true']],
      ['version less', ['1.2.3']],
      ['version less or equal', ['1.2.3-beta', 'nope']],
      ['version greater', ['1.10.0']],
      ['version greater or equal', ['2.0']],
    ];
    const flags = ops.map(([op, values], i) => ({
      key: `f${i}`,
      variants: { on: { key: 'on' }, off: { key: 'off' } },
      segments: [
        {
          conditions: [
            [
              { selector: ['context', 'user', 'v'], op, values },
              { selector: ['context', 'user', 'user_id'], op: 'regex match', values: ['^u'] },
            ],
          ],
          variant: 'on',
        },
        { variant: 'off' },
      ],
    }));
    const snap = loadEngine().load(JSON.stringify(flags));
    const values: unknown[] = [
      undefined,
      null,
      'DE',
      '',
      12,
      12.5,
      -0,
      '12',
      ' 12 ',
      'abc',
      'True',
      true,
      false,
      ['a', 'b'],
      ['a'],
      ['A', 'b', 'TRUE'],
      [12, 'DE'],
      [],
      '["a","b"]',
      '1.2.3',
      '1.2.3-alpha',
      '1.10.0',
      '2.0',
      '01.2.3',
      { a: 1 },
    ];
    for (const v of values) {
      const user = { user_id: 'u1', v };
      const label = JSON.stringify(v);
      expect(snap.evaluate(user), label).toStrictEqual(officialEvaluate(flags, user));
      for (const flag of flags)
        expect(snap.evaluate(user, [flag.key]), `${label} ${flag.key}`).toStrictEqual(officialEvaluate(flags, user, [flag.key]));
    }
  });
});

describe('hostile users', () => {
  const flag = {
    key: 'f',
    variants: { on: { key: 'on' } },
    segments: [
      {
        conditions: [[{ selector: ['context', 'user', 'user_properties', 'deep'], op: 'contains', values: ['x'] }]],
        variant: 'on',
      },
      {
        conditions: [[{ selector: ['context', 'user', 'user_properties', 'list'], op: 'set contains', values: ['a'] }]],
        variant: 'on',
      },
    ],
  };
  const snap = loadEngine().load(JSON.stringify([flag]));

  it('a Proxy user whose traps throw evaluates as no user, for all flags and for one key', () => {
    const boom = (): never => {
      throw new Error('trap');
    };
    for (const trap of ['getPrototypeOf', 'ownKeys', 'get', 'getOwnPropertyDescriptor'] as const) {
      const user = new Proxy({ user_properties: { deep: 'x' } }, { [trap]: boom });
      for (const keys of [undefined, ['f']]) {
        expect(() => snap.evaluate(user as never, keys), `${trap} ${JSON.stringify(keys)}`).not.toThrow();
        expect(snap.evaluate(user as never, keys), trap).toEqual(snap.evaluate({}, keys));
      }
    }
  });

  it('deeply nested values (10,000 levels) evaluate without throwing', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 10000; i++) deep = [deep];
    expect(() => snap.evaluate({ user_properties: { deep: 'x', other: deep } } as never)).not.toThrow();
    expect(snap.evaluate({ user_properties: { deep: 'x', other: deep } } as never)).toHaveProperty('f');
    let deepString = 'x';
    for (let i = 0; i < 2000; i++) deepString = `[${deepString}]`;
    expect(() => snap.evaluate({ user_properties: { deep: deepString } })).not.toThrow();
  });

  it('an enormous user (100,000 properties, 1 MB strings) evaluates', () => {
    const props: Record<string, string> = {};
    for (let i = 0; i < 100000; i++) props['p' + i] = 'v';
    props.deep = 'y'.repeat(1 << 20) + 'x';
    expect(snap.evaluate({ user_properties: props })).toHaveProperty('f');
    const list = Array.from({ length: 100000 }, (_, i) => String(i % 1000));
    expect(snap.evaluate({ user_properties: { list: [...list, 'a'] } })).toHaveProperty('f');
  });

  it('users JSON cannot fully represent still evaluate on their other properties (BigInt, cycles)', () => {
    const cyclic: Record<string, unknown> = { user_properties: { deep: 'x' } };
    cyclic.self = cyclic;
    expect(snap.evaluate(cyclic as never)).toHaveProperty('f');
    const big = loadEngine().load(
      JSON.stringify([
        {
          key: 'b',
          variants: { on: { key: 'on' } },
          segments: [
            {
              conditions: [[{ selector: ['context', 'user', 'user_properties', 'big'], op: 'greater', values: ['9'] }]],
              variant: 'on',
            },
          ],
        },
      ]),
    );
    expect(big.evaluate({ user_properties: { big: 10n } } as never)).toHaveProperty('b');
  });
});

describe('loadAsync (parse and validation on the libuv pool)', () => {
  const engine = loadEngine();
  it('gives the same snapshot as load, and the same rejections', async () => {
    const flags = [
      onFlag('a'),
      onFlag('b', { dependencies: ['a'] }),
      onFlag('bad', {
        segments: [
          { conditions: [[{ selector: ['context', 'user', 'user_id'], op: 'regex match', values: ['['] }]], variant: 'on' },
        ],
      }),
    ];
    const payload = JSON.stringify(flags);
    const sync = engine.load(payload);
    const async = await engine.loadAsync!(new TextEncoder().encode(payload));
    expect(async.keys()).toEqual(sync.keys());
    expect(async.rejected).toEqual(sync.rejected);
    expect(async.evaluate({ user_id: 'u' })).toStrictEqual(sync.evaluate({ user_id: 'u' }));
    expect(async.flag('b')).toEqual(flags[1]);
  });

  it('rejects an unusable payload with FlagPayloadError, several in flight at once', async () => {
    const results = await Promise.allSettled([
      engine.loadAsync!('{"not":"an array"}'),
      engine.loadAsync!('[{"key":'),
      engine.loadAsync!('[]'),
    ]);
    expect(results[0].status).toBe('rejected');
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(FlagPayloadError);
    expect((results[1] as PromiseRejectedResult).reason.message).toMatch(/not valid JSON/);
    expect(results[2].status).toBe('fulfilled');
  });
});
