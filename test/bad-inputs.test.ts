// Hostile and malformed inputs against the native engine and cohort store:
// each test backs one row of docs/bad-inputs.md (the test names are quoted
// there). Where the official engine gives an answer, ours is checked against
// it; where it throws or hangs, ours is checked to be the documented answer.
import { describe, expect, it } from 'vitest';
import { loadEngine, loadNativeAddon, FlagPayloadError } from '../src/engine';
import { createNativeEngine } from '../src/engine/native-engine';
import { createJsEngine } from '../src/engine/js-engine';
import { analyzePattern, GuardedRegex, RegexOutcome } from '../src/engine/regex-guard';
import { createCohortStore } from '../src/engine/cohort-store';
import type { ExperimentUser } from '../src/types';
import { skipWithoutNativeAddon } from './support/engine';
import { officialEvaluate } from './support/official';
import examples from '../examples/flags.json';

type Flag = Record<string, unknown>;
const engine = loadEngine();
const examplesText = JSON.stringify(examples);

// These tests are about the native module; the JS fallback has its own tests.
skipWithoutNativeAddon();

const on = { on: { key: 'on' } };
const okFlag: Flag = { key: 'ok', variants: on, segments: [{ variant: 'on' }] };
function conditionFlag(condition: Record<string, unknown>, key = 't'): Flag {
  return { key, variants: on, segments: [{ conditions: [[condition]], variant: 'on' }] };
}
function bucketFlag(key = 'b'): Flag {
  return {
    key,
    variants: { a: { key: 'a' }, z: { key: 'z' } },
    segments: [
      {
        bucket: {
          selector: ['context', 'user', 'device_id'],
          salt: 's',
          allocations: [
            {
              range: [0, 100],
              distributions: [
                { variant: 'a', range: [0, 21474837] },
                { variant: 'z', range: [21474837, 42949673] },
              ],
            },
          ],
        },
      },
    ],
  };
}
/** Native result for `flags` and `user`, next to the official SDK's. */
function both(flags: Flag[], user: unknown): { native: Record<string, unknown>; official: Record<string, unknown> } {
  const native = engine.load(JSON.stringify(flags)).evaluate(user as ExperimentUser);
  const official = officialEvaluate(flags, user as Record<string, unknown>);
  return { native: JSON.parse(JSON.stringify(native)), official: JSON.parse(JSON.stringify(official)) };
}

describe('malformed and truncated payloads', () => {
  it('malformed JSON is rejected with FlagPayloadError naming the byte', () => {
    for (const bad of ['[{"key":', '{', 'nul', '[1,]', '[] []', '', ' ', '\u0000', '[{"key":"a",}]', "['a']"]) {
      expect(() => engine.load(bad), JSON.stringify(bad)).toThrow(FlagPayloadError);
    }
    expect(() => engine.load('[{"key":')).toThrow(/not valid JSON: .* at byte 8/);
  });

  it('every truncation of a real payload is rejected, never crashes', () => {
    const bytes = Buffer.from(examplesText);
    let rejected = 0;
    for (let n = 0; n < bytes.length; n++) {
      expect(() => engine.load(new Uint8Array(bytes.subarray(0, n)))).toThrow(FlagPayloadError);
      rejected++;
    }
    expect(rejected).toBe(bytes.length);
    expect(engine.load(new Uint8Array(bytes)).keys()).toHaveLength(examples.length);
  });

  it('a payload that is not an array is rejected as a whole', () => {
    for (const [bad, what] of [
      ['{"flags":[]}', 'object'],
      ['"x"', 'string'],
      ['null', 'null'],
      ['42', 'number'],
    ]) {
      expect(() => engine.load(bad)).toThrow(new RegExp(`must be a JSON array of flags, got (an? )?${what}`));
    }
  });
});

describe('deep nesting', () => {
  it('payload nesting deeper than 1000 levels is rejected, not a stack overflow', () => {
    expect(() => engine.load('['.repeat(100_000))).toThrow(/nested too deeply/);
    expect(() => engine.load('['.repeat(1_000_000) + ']'.repeat(1_000_000))).toThrow(/nested too deeply/);
    const deepPayload = `[{"key":"a","variants":{"on":{"key":"on","payload":${'['.repeat(1000)}${']'.repeat(1000)}}},"segments":[{"variant":"on"}]}]`;
    expect(() => engine.load(deepPayload)).toThrow(/nested too deeply/);
    // 500 levels inside a variant payload are fine.
    const ok = `[{"key":"a","variants":{"on":{"key":"on","payload":${'['.repeat(500)}${']'.repeat(500)}}},"segments":[{"variant":"on"}]}]`;
    expect(engine.load(ok).keys()).toEqual(['a']);
  });

  it('a user nested 100,000 levels deep evaluates (selected paths work, the rest is kept raw)', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const flags = [conditionFlag({ selector: ['context', 'user', 'user_id'], op: 'is', values: ['u1'] }), okFlag];
    const snap = engine.load(JSON.stringify(flags));
    const result = snap.evaluate({ user_id: 'u1', user_properties: { deep } } as ExperimentUser);
    expect(Object.keys(result)).toEqual(['t', 'ok']);
    let deep600: unknown = 'x';
    for (let i = 0; i < 600; i++) deep600 = { a: deep600 };
    const { native, official } = both(
      [
        conditionFlag({ selector: ['context', 'user', 'user_properties', 'd', 'a', 'a'], op: 'is not', values: ['(none)'] }),
        okFlag,
      ],
      { user_properties: { d: deep600 } },
    );
    expect(native).toEqual(official);
  });
});

describe('size', () => {
  it('a 100 MB payload loads and evaluates; 100 MB of garbage is rejected', () => {
    // Built as bytes (a memset), not as a 100 MB JS string run through JSON.stringify and Buffer.from:
    // the same payload for the engine at a fraction of the test's own cost.
    const size = 100 * 1024 * 1024;
    const marker = 'PAYLOAD-GOES-HERE';
    const [head, tail] = JSON.stringify([{ ...okFlag, variants: { on: { key: 'on', payload: marker } } }, bucketFlag()]).split(
      JSON.stringify(marker),
    );
    const payload = Buffer.alloc(head.length + size + 2 + tail.length, 'x');
    payload.write(head + '"', 0, 'latin1');
    payload.write('"' + tail, head.length + 1 + size, 'latin1');
    expect(payload.length).toBeGreaterThan(size);
    const snap = engine.load(payload);
    expect(snap.keys()).toEqual(['ok', 'b']);
    const value = (snap.evaluate({}).ok as { payload: string }).payload;
    expect(value.length).toBe(size);
    expect(value.startsWith('xxxx') && value.endsWith('xxxx')).toBe(true);
    // The payload's own 100 MB of 'x' on their own: garbage.
    expect(() => engine.load(payload.subarray(head.length + 1, head.length + 1 + size))).toThrow(FlagPayloadError);
    // Cut short, as bytes: a 100 MB string made from it would only add two copies before the same parse.
    expect(() => engine.load(payload.subarray(0, payload.length - 2))).toThrow(FlagPayloadError);
  }, 120_000);

  it('an enormous user (100,000 properties, a 10 MB string) evaluates like the official SDK', () => {
    const props: Record<string, string> = {};
    for (let i = 0; i < 100_000; i++) props[`p${i}`] = `v${i}`;
    const user = { user_id: 'u'.repeat(10 * 1024 * 1024), device_id: 'd1', user_properties: props };
    const flags = [
      conditionFlag({ selector: ['context', 'user', 'user_properties', 'p99999'], op: 'is', values: ['v99999'] }),
      conditionFlag({ selector: ['context', 'user', 'user_id'], op: 'contains', values: ['uuu'] }, 't2'),
      bucketFlag(),
    ];
    const { native, official } = both(flags, user);
    expect(native).toEqual(official);
    expect(Object.keys(native)).toEqual(['t', 't2', 'b']);
  }, 60_000);

  it('empty users: undefined, null, {}, [] and non-objects evaluate like the official SDK', () => {
    const flags = [
      conditionFlag({ selector: ['context', 'user', 'user_id'], op: 'is', values: ['(none)'] }),
      conditionFlag({ selector: ['context', 'user', 'user_id'], op: 'is not', values: ['(none)'] }, 'not-none'),
      bucketFlag(),
      okFlag,
    ];
    for (const user of [undefined, {}, { user_id: null }, { user_properties: {} }, null, [], 'str', 5, true]) {
      const { native, official } = both(flags, user);
      expect(native, JSON.stringify(user)).toEqual(official);
      expect(Object.keys(native), JSON.stringify(user)).toEqual(['t', 'ok']);
    }
  });
});

describe('wrong types and unknown operators', () => {
  it('unknown operators never match (as in the official engine); the flag stays', () => {
    for (const values of [['a'], ['(none)']]) {
      for (const p of [undefined, 'a', ['a']]) {
        const flags = [
          conditionFlag({ selector: ['context', 'user', 'user_properties', 'p'], op: 'frobnicate', values }),
          okFlag,
        ];
        const user = { user_properties: p === undefined ? {} : { p } };
        const { native, official } = both(flags, user);
        expect(native).toEqual(official);
        expect(Object.keys(native)).toEqual(['ok']);
      }
    }
    expect(
      engine.load(JSON.stringify([conditionFlag({ selector: ['context', 'user', 'x'], op: 'frobnicate', values: ['a'] })]))
        .rejected,
    ).toEqual([]);
  });

  it('wrong types inside a flag reject that flag with a reason; the others are served', () => {
    const bad: unknown[] = [
      { key: 't1', variants: on, segments: 'x' },
      {
        key: 't2',
        variants: on,
        segments: [{ conditions: [[{ selector: 'context', op: 'is', values: ['a'] }]], variant: 'on' }],
      },
      {
        key: 't3',
        variants: on,
        segments: [{ conditions: [[{ selector: ['context'], op: 'is', values: 'a' }]], variant: 'on' }],
      },
      {
        key: 't4',
        variants: on,
        segments: [
          {
            bucket: {
              selector: ['context', 'user', 'device_id'],
              salt: 's',
              allocations: [{ range: ['0', '100'], distributions: [] }],
            },
          },
        ],
      },
      { key: 5 },
      null,
      'flag',
      okFlag,
    ];
    const snap = engine.load(JSON.stringify(bad));
    expect(snap.keys()).toEqual(['ok']);
    expect(snap.rejected.map((r) => r.flagKey)).toEqual(['t1', 't2', 't3', 't4', '#4', '#5', '#6']);
    expect(snap.rejected[0].reason).toMatch(/"segments" must be an array/);
    expect(snap.rejected[1].reason).toMatch(/selector must be an array of strings/);
    expect(snap.rejected[2].reason).toMatch(/"values" must be an array of strings/);
    expect(snap.rejected[3].reason).toMatch(/"range" must hold numbers/);
    expect(snap.evaluate({}).ok).toMatchObject({ key: 'on' });
  });

  it('non-string condition values reject that flag (the official engine throws on every evaluation)', () => {
    for (const values of [[1], [null], [{}], [['a']], [true], ['a', 2]]) {
      const flags = [conditionFlag({ selector: ['context', 'user', 'user_properties', 'p'], op: 'is', values }), okFlag];
      const snap = engine.load(JSON.stringify(flags));
      expect(snap.keys(), JSON.stringify(values)).toEqual(['ok']);
      expect(snap.rejected[0]).toMatchObject({ flagKey: 't', reason: expect.stringMatching(/condition values must be strings/) });
    }
    // What the official engine does with one such flag: every evaluation throws.
    const flags = [conditionFlag({ selector: ['context', 'user', 'user_properties', 'p'], op: 'contains', values: [1] }), okFlag];
    expect(() => officialEvaluate(flags, { user_properties: { p: 'x' } })).toThrow();
  });
});

describe('regular expressions', () => {
  it("an invalid regex rejects its flag with V8's message; the others are served", () => {
    const flags = [conditionFlag({ selector: ['context', 'user', 'user_id'], op: 'regex match', values: ['('] }), okFlag];
    const snap = engine.load(JSON.stringify(flags));
    expect(snap.rejected).toEqual([
      { flagKey: 't', reason: 'invalid regex "(": Invalid regular expression: /(/: Unterminated group' },
    ]);
    expect(Object.keys(snap.evaluate({ user_id: 'x' }))).toEqual(['ok']);
    expect(() => officialEvaluate(flags, { user_id: 'x' })).toThrow(SyntaxError);
  });

  it('a huge regex (a 200,000-character alternation) compiles and matches like the official engine', () => {
    const words = Array.from({ length: 20_000 }, (_, i) => `w${i}x`);
    const pattern = `^(${words.join('|')})$`;
    expect(pattern.length).toBeGreaterThan(100_000);
    const flags = [conditionFlag({ selector: ['context', 'user', 'user_id'], op: 'regex match', values: [pattern] }), okFlag];
    for (const id of ['w0x', 'w19999x', 'w20000x', 'w1']) {
      const { native, official } = both(flags, { user_id: id });
      expect(native, id).toEqual(official);
    }
  });

  it('a catastrophic regex completes with the exact answer: ^(a+)+$ against 25 a and a !', () => {
    // V8's backtracking engine takes 2^n steps here (about 0.6 s at n = 25, doubling per character) in the
    // official SDK. The pattern repeats a repeating group, so it runs on V8's linear-time engine instead.
    const flags = [conditionFlag({ selector: ['context', 'user', 'user_id'], op: 'regex match', values: ['^(a+)+$'] }), okFlag];
    const snap = engine.load(JSON.stringify(flags));
    expect(snap.rejected).toEqual([]);
    expect(Object.keys(snap.evaluate({ user_id: 'a'.repeat(25) + '!' }))).toEqual(['ok']);
    expect(Object.keys(snap.evaluate({ user_id: 'a'.repeat(25) }))).toEqual(['t', 'ok']);
    expect(Object.keys(snap.evaluate({ user_id: 'a'.repeat(100_000) + '!' }))).toEqual(['ok']);
    // Short subjects: the same answers as the official engine.
    for (const subject of ['a'.repeat(12) + '!', 'a'.repeat(12), '', 'b']) {
      const { native, official } = both(flags, { user_id: subject });
      expect(native, subject).toEqual(official);
    }
  });

  it('a catastrophic regex the linear engine cannot run (a backreference) stops at the bound: the condition holds for neither operator, with one warning', () => {
    const warnings: string[] = [];
    const guarded = createNativeEngine(loadNativeAddon(), { error: (m) => warnings.push(m) });
    const pattern = '^(a+)+\\1$';
    const flags = [
      conditionFlag({ selector: ['context', 'user', 'user_id'], op: 'regex match', values: [pattern] }),
      conditionFlag({ selector: ['context', 'user', 'user_id'], op: 'regex does not match', values: [pattern] }, 'not'),
      okFlag,
    ];
    const snap = guarded.load(JSON.stringify(flags));
    // 2^40 steps: far past the bound on any machine.
    const hostile = 'a'.repeat(40) + '!';
    expect(Object.keys(snap.evaluate({ user_id: hostile }))).toEqual(['ok']);
    expect(Object.keys(snap.evaluate({ user_id: hostile }))).toEqual(['ok']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/did not finish within 50 ms/);
    // What finishes gives the exact answer.
    expect(Object.keys(snap.evaluate({ user_id: 'aa' }))).toEqual(['t', 'ok']);
    expect(Object.keys(snap.evaluate({ user_id: 'ab' }))).toEqual(['not', 'ok']);
  });
});

describe('regular expressions: patterns and subjects', () => {
  it('the pattern analysis finds nested repetition, counts unbounded quantifiers and spots backreferences and lookarounds', () => {
    expect(analyzePattern('^(a+)+$')).toMatchObject({ nestedRepetition: true, needsBacktracking: false });
    expect(analyzePattern('(a|aa)*b')).toMatchObject({ nestedRepetition: true });
    expect(analyzePattern('(\\w+\\s?)*$')).toMatchObject({ nestedRepetition: true });
    expect(analyzePattern('^user-\\d+$')).toEqual({ nestedRepetition: false, unbounded: 1, needsBacktracking: false });
    expect(analyzePattern('.*a.*b')).toEqual({ nestedRepetition: false, unbounded: 2, needsBacktracking: false });
    expect(analyzePattern('^(ios|android)$')).toEqual({ nestedRepetition: false, unbounded: 0, needsBacktracking: false });
    expect(analyzePattern('[(+*]+x')).toEqual({ nestedRepetition: false, unbounded: 1, needsBacktracking: false });
    expect(analyzePattern('(a)\\1')).toMatchObject({ needsBacktracking: true });
    expect(analyzePattern('(?<=a)b')).toMatchObject({ needsBacktracking: true });
    expect(analyzePattern('(ab){2,}')).toMatchObject({ nestedRepetition: false, unbounded: 1 });
  });

  it('every generated pattern gives the official answer on short and long subjects (fast, linear and budgeted paths agree with V8)', () => {
    const patterns = [
      '^user-\\d+$',
      '.*test.*',
      '^(a|b)+c$',
      '(x+x+)+y',
      '^[a-z0-9._%+-]+@example\\.com$',
      '(a)\\1',
      '(?<=a)b',
      'é+',
      '\\bfoo\\b',
    ];
    const subjects = [
      'user-123',
      'a test here',
      'ababc',
      'xxxxy',
      'john@example.com',
      'aa',
      'ab',
      'ééé',
      'x foo y',
      '',
      'a'.repeat(5000) + 'test',
      'x'.repeat(3000) + 'y',
    ];
    for (const p of patterns) {
      const g = new GuardedRegex(p);
      for (const s of subjects) {
        expect(g.test(s), `/${p}/ on ${s.slice(0, 20)}`).toBe(new RegExp(p).test(s) ? RegexOutcome.Match : RegexOutcome.NoMatch);
      }
    }
  });
});

describe('semantic versions', () => {
  it('catastrophic semver strings are parsed in linear time (the official regex never finishes)', () => {
    const flags = [
      conditionFlag({ selector: ['context', 'user', 'version'], op: 'version less', values: ['1.2.4'] }),
      conditionFlag({ selector: ['context', 'user', 'version'], op: 'version greater', values: ['1.2.4'] }, 'g'),
      okFlag,
    ];
    const snap = engine.load(JSON.stringify(flags));
    for (const hostile of ['1.2.3-' + 'a-'.repeat(50_000) + ']', '1.2.3-' + '0'.repeat(100_000) + '.', '1.'.repeat(50_000)]) {
      const r = snap.evaluate({ version: hostile });
      // Invalid versions fall back to string comparison, as the reference would.
      expect(Object.keys(r)).toEqual([hostile < '1.2.4' ? 't' : 'g', 'ok']);
    }
    // A hostile condition value does not hang loading either.
    const hostileValue = [
      conditionFlag({
        selector: ['context', 'user', 'version'],
        op: 'version less',
        values: ['1.2.3-' + 'a-'.repeat(50_000) + ']'],
      }),
    ];
    expect(engine.load(JSON.stringify(hostileValue)).keys()).toEqual(['t']);
  });
});

describe('numbers', () => {
  it('values JSON cannot hold (NaN, ±Infinity, Date, BigInt, functions, symbols, explicit undefined) answer as the official SDK', () => {
    const at = (selector: string[], op: string, values: string[], key = 't'): Flag =>
      conditionFlag({ selector, op, values }, key);
    const n = ['context', 'user', 'user_properties', 'n'];
    const flags = [
      at(n, 'is', ['(none)']),
      at(n, 'is', ['0', 'NaN', 'Infinity', '-Infinity', '12'], 'named'),
      at(n, 'set contains any', ['NaN', 'Infinity', '12', '"2024-01-02T03:04:05.000Z"'], 'set'),
      at(n, 'contains', ['function', 'Symbol(', '2024-01-02', 'return 1'], 'text'),
      at(n, 'greater', ['5'], 'gt'),
      at(['context', 'user'], 'contains', ['"n"', '{}', 'null', '2024'], 'whole'),
      at(['context', 'user', 'user_properties'], 'is', ['{"n":null}', '{}'], 'props'),
      {
        key: 'bucket',
        variants: { on: { key: 'on' } },
        segments: [
          {
            bucket: {
              selector: n,
              salt: 's',
              allocations: [{ range: [0, 100], distributions: [{ variant: 'on', range: [0, 21474837] }] }],
            },
          },
        ],
      },
      okFlag,
    ];
    const values: unknown[] = [
      NaN,
      Infinity,
      -Infinity,
      -0,
      new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
      new Date(NaN),
      function named() {
        return 1;
      },
      Symbol('s'),
      { toJSON: () => 'custom' },
      undefined,
      '\u0000tag-like',
      [NaN, 'a'],
      [new Date(0)],
      [() => 1, undefined],
      { deep: NaN },
    ];
    for (const v of values) {
      const { native, official } = both(flags, { user_id: 'u', user_properties: { n: v } });
      expect(
        native,
        String(typeof v === 'symbol' ? v.toString() : Array.isArray(v) ? `[${v.map(String).join(',')}]` : v),
      ).toEqual(official);
    }
    for (const user of [
      { country: undefined },
      { country: undefined, groups: { org: ['a'] } },
      { n: NaN },
      { user_id: Infinity },
    ]) {
      const { native, official } = both(flags, user);
      expect(native).toEqual(official);
    }
    // BigInt: the official engine throws where it reads a container holding one (JSON.stringify), so only
    // the flags reading the value itself.
    const direct = flags.filter((f) => f.key !== 'whole' && f.key !== 'props');
    for (const v of [BigInt(12), BigInt(0)]) {
      const { native, official } = both(direct, { user_id: 'u', user_properties: { n: v } });
      expect(native, String(v)).toEqual(official);
    }
  });

  it('group names that are not arrays (a string, a number, an array-like) answer as the official SDK', () => {
    const flags = [
      conditionFlag({ selector: ['context', 'groups', 'org', 'group_name'], op: 'is', values: ['a', 'acme', 'g1', '5'] }),
      conditionFlag({ selector: ['context', 'groups', 'org', 'group_properties', 'plan'], op: 'is', values: ['pro'] }, 'plan'),
      conditionFlag({ selector: ['context', 'groups'], op: 'contains', values: ['org'] }, 'any'),
      okFlag,
    ];
    const groupProperties = { org: { a: { plan: 'pro' }, acme: { plan: 'pro' }, g1: { plan: 'pro' } } };
    for (const names of ['acme', '', 5, 0, true, { 0: 'g1', length: 1 }, { length: 0 }, [], ['acme'], NaN]) {
      const { native, official } = both(flags, { user_id: 'u', groups: { org: names }, group_properties: groupProperties });
      expect(native, JSON.stringify(names)).toEqual(official);
    }
    for (const groups of ['org', ['acme'], 7, true]) {
      const { native, official } = both(flags, { user_id: 'u', groups, group_properties: groupProperties });
      expect(native, JSON.stringify(groups)).toEqual(official);
    }
  });

  it('"NaN", "Infinity" and overflowing numbers in strings and conditions compare like the official engine', () => {
    for (const op of ['greater', 'less', 'greater or equal', 'less or equal', 'is']) {
      const flags = [
        conditionFlag({
          selector: ['context', 'user', 'user_properties', 'n'],
          op,
          values: ['Infinity', 'NaN', '1e400', '-1e400'],
        }),
        okFlag,
      ];
      for (const n of ['Infinity', '-Infinity', 'NaN', '1e400', '1e308', '5', '0x10', '', ' ', 1e308, -0]) {
        const { native, official } = both(flags, { user_properties: { n } });
        expect(native, `${op} ${JSON.stringify(n)}`).toEqual(official);
      }
    }
  });

  it('NaN and Infinity literals are not JSON: the payload is rejected; 1e999 ranges become Infinity as in JSON.parse', () => {
    expect(() => engine.load('[{"key":"t","x":NaN}]')).toThrow(FlagPayloadError);
    expect(() => engine.load('[{"key":"t","x":Infinity}]')).toThrow(FlagPayloadError);
    const text =
      '[{"key":"t","variants":{"on":{"key":"on"}},"segments":[{"bucket":{"selector":["context","user","device_id"],"salt":"s",' +
      '"allocations":[{"range":[0,1e999],"distributions":[{"variant":"on","range":[-1e999,1e999]}]}]}}]}]';
    for (const device_id of ['d1', 'd2', 'x']) {
      const native = JSON.parse(JSON.stringify(engine.load(text).evaluate({ device_id })));
      expect(native).toEqual(JSON.parse(JSON.stringify(officialEvaluate(JSON.parse(text), { device_id }))));
    }
  });
});

describe('text encoding', () => {
  it('invalid UTF-8 in payload bytes becomes U+FFFD, as the official SDK decodes the body', () => {
    const bytes = Buffer.concat([
      Buffer.from('[{"key":"a'),
      Buffer.from([0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xf0, 0x9f]),
      Buffer.from('b","variants":{"on":{"key":"on","value":"v'),
      Buffer.from([0xe2, 0x82]),
      Buffer.from('"}},"segments":[{"variant":"on"}]}]'),
    ]);
    const decoded = JSON.parse(bytes.toString('utf8')) as Flag[];
    const snap = engine.load(new Uint8Array(bytes));
    expect(snap.keys()).toEqual([decoded[0].key]);
    expect(JSON.parse(JSON.stringify(snap.evaluate({})))).toEqual(JSON.parse(JSON.stringify(officialEvaluate(decoded, {}))));
  });

  it('invalid UTF-8 in a cohort body becomes U+FFFD in member ids (native and JS stores agree)', async () => {
    const body = Buffer.concat([
      Buffer.from('{"cohortId":"c1","groupType":"User","memberIds":["a'),
      Buffer.from([0xff]),
      Buffer.from('b","ok"]}'),
    ]);
    for (const kind of ['native', 'js'] as const) {
      const store = createCohortStore(kind);
      await store.load(new Uint8Array(body), 'c1');
      expect(store.memberOf('User', 'a\ufffdb', ['c1']), kind).toEqual(['c1']);
      expect(store.memberOf('User', 'ok', ['c1']), kind).toEqual(['c1']);
    }
  });

  it('lone surrogates in users and condition values match and bucket like the official engine', () => {
    const flags = [
      conditionFlag({ selector: ['context', 'user', 'user_id'], op: 'is', values: ['a\ud800b'] }),
      conditionFlag({ selector: ['context', 'user', 'user_id'], op: 'contains', values: ['\udfff'] }, 'c'),
      conditionFlag({ selector: ['context', 'user', 'user_id'], op: 'regex match', values: ['\\ud800'] }, 'r'),
      bucketFlag(),
      okFlag,
    ];
    for (const user_id of ['a\ud800b', 'x\udfffy', '\ud83d\ude00', '\ud800', '\udc00\ud800']) {
      for (const device_id of ['\ud800', '\udfff\udfff', 'a\ud83db', '\ud800\udc00']) {
        const { native, official } = both(flags, { user_id, device_id });
        expect(native, JSON.stringify({ user_id, device_id })).toEqual(official);
      }
    }
  });
});

describe('prototype keys', () => {
  it('__proto__, constructor and prototype method names in selectors resolve like the official engine', () => {
    const user = JSON.parse('{"user_id":"u","user_properties":{"__proto__":"x","constructor":"c","list":["a"]}}');
    for (const path of [
      ['__proto__'],
      ['constructor'],
      ['toString'],
      ['hasOwnProperty'],
      ['list', 'map'],
      ['list', 'length'],
      ['__proto__', 'toString'],
      ['nope', '__proto__'],
    ]) {
      for (const op of ['is', 'is not', 'contains', 'set contains any']) {
        const values = ['(none)', 'x', 'c', 'function toString() { [native code] }'];
        const flags = [conditionFlag({ selector: ['context', 'user', 'user_properties', ...path], op, values }), okFlag];
        for (const u of [user, { user_properties: {} }, {}]) {
          const { native, official } = both(flags, u);
          expect(native, `${path.join('.')} ${op} ${JSON.stringify(u)}`).toEqual(official);
        }
      }
    }
  });

  it('flags keyed __proto__ or constructor: same result object as the official SDK, Object.prototype untouched', () => {
    const flags = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'].map((key) => ({ ...okFlag, key }));
    const native = engine.load(JSON.stringify(flags)).evaluate({});
    const official = officialEvaluate(flags, {});
    expect(Object.keys(native)).toEqual(Object.keys(official));
    expect(Object.keys(native)).toEqual(['constructor', 'toString', 'hasOwnProperty']);
    // The engine's `results.__proto__ = variant` sets a prototype; the official
    // conversion copies own keys only, so the __proto__ flag is simply absent.
    expect(Object.getPrototypeOf(native)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(official)).toBe(Object.prototype);
    expect((native as Record<string, unknown>).key).toBeUndefined();
    const listed: string[] = [];
    for (const k in native) listed.push(k);
    expect(listed).toEqual(['constructor', 'toString', 'hasOwnProperty']);
    // Asked for by key, too.
    expect(Object.keys(engine.load(JSON.stringify(flags)).evaluate({}, ['__proto__', 'toString']))).toEqual(['toString']);
    expect(({} as Record<string, unknown>).key).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'key')).toBe(false);
  });

  it('__proto__ and constructor as user property keys cannot pollute prototypes', () => {
    const user = JSON.parse(
      '{"user_properties":{"__proto__":{"polluted":"yes"}},"groups":{"__proto__":["g"]},"group_properties":{"__proto__":{"g":{"x":"1"}}}}',
    );
    const flags = [
      conditionFlag({ selector: ['context', 'user', 'user_properties', 'polluted'], op: 'is', values: ['yes'] }),
      okFlag,
    ];
    const { native, official } = both(flags, user);
    expect(native).toEqual(official);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('users that JSON cannot hold', () => {
  it('cyclic users, BigInt, functions and symbols evaluate instead of throwing', () => {
    const flags = [conditionFlag({ selector: ['context', 'user', 'user_id'], op: 'is', values: ['x'] }), okFlag];
    const snap = engine.load(JSON.stringify(flags));
    const cyclic: Record<string, unknown> = { user_id: 'x' };
    cyclic.self = cyclic;
    expect(Object.keys(snap.evaluate(cyclic as ExperimentUser))).toEqual(['t', 'ok']);
    expect(Object.keys(snap.evaluate({ user_id: 'x', user_properties: { b: 5n, f: () => 1, s: Symbol('s') } } as never))).toEqual(
      ['t', 'ok'],
    );
    const throwing = {
      user_id: 'x',
      toJSON() {
        throw new Error('nope');
      },
    };
    expect(() => snap.evaluate(throwing as never)).not.toThrow();
  });

  it('a user whose getter throws is reported once, at error level, and evaluated as if it had no properties, by both engines', () => {
    // The flag reads the getter (the native engine reads only what the requested flags' selectors read).
    const flags = [conditionFlag({ selector: ['context', 'user', 'country'], op: 'is', values: ['x'] }), okFlag];
    const user = {
      user_id: 'x',
      get country(): string {
        throw new Error('getter exploded');
      },
    };
    for (const eng of [createNativeEngine(loadNativeAddon()), createJsEngine()]) {
      const errors: string[] = [];
      const snap = eng.load(JSON.stringify(flags), { error: (m) => errors.push(m) });
      for (let i = 0; i < 3; i++) expect(snap.evaluate(user as ExperimentUser), eng.kind).toEqual(snap.evaluate({}));
      expect(errors, eng.kind).toHaveLength(1);
      expect(errors[0], eng.kind).toMatch(
        /user object cannot be read \(getter exploded\); it is evaluated as if it had no properties/,
      );
    }
  });
});
